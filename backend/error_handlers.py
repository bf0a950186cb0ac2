"""Render every failure as application/problem+json (RFC 9457), in zh-CN or English."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, g, request
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from backend.errors import PROBLEM_JSON, AppError, problem

log = logging.getLogger("backend.errors")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


def request_language() -> str:
    """'en' when the client prefers English, else 'zh' (the default)."""
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"], default="zh-CN")
    return "en" if best and best.startswith("en") else "zh"


def _render(code: str, status: int, params: dict[str, Any] | None = None, errors: Any = None,
            headers: dict[str, str] | None = None) -> Response:
    body = problem(code, status, request_language(), params, errors)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def render_app_error(exc: AppError) -> Response:
    return _render(exc.code, exc.status, exc.params, headers=exc.headers)


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def handle_app_error(exc: AppError) -> Response:
    _rollback()
    return render_app_error(exc)


def handle_http_exception(exc: HTTPException) -> Response:
    _rollback()
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    # werkzeug's own headers (Allow on 405, WWW-Authenticate...) belong to the answer too.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    if status == 422 and "messages" in data:
        messages = data["messages"]
        # webargs nests messages by location ({"json": {...}}); clients want the fields.
        errors = messages.get("json", messages) if isinstance(messages, dict) and len(messages) == 1 else messages
        return _render("validation_failed", 422, errors=errors, headers=headers)
    if status == 400 and "Invalid JSON" in str(data.get("messages", exc.description)):
        return _render("malformed_json", 400, headers=headers)
    if status == 429:
        retry_after = getattr(exc, "retry_after", None)
        return _render("rate_limited", 429, headers=headers or ({"Retry-After": str(retry_after)} if retry_after else {}))
    if status >= 500:
        log.error("http %s at %s (request %s)", status, request.path, g.get("request_id"))
        return _render("internal_error", status, {"request_id": g.get("request_id")})
    return _render(_HTTP_CODES.get(status, "bad_request"), status, headers=headers)


def handle_integrity_error(exc: IntegrityError) -> Response:
    # A uniqueness race a service did not foresee: the client may retry; nothing was written.
    _rollback()
    log.warning("integrity conflict at %s (request %s): %s", request.path, g.get("request_id"),
                type(exc.orig).__name__)
    return _render("conflict", 409)


def handle_database_down(exc: Exception) -> Response:
    _rollback_quietly()
    log.error("database unavailable at %s (request %s): %s", request.path, g.get("request_id"), type(exc).__name__)
    return _render("dependency_unavailable", 503, {"part": "database"}, headers={"Retry-After": "5"})


def handle_redis_down(exc: RedisError) -> Response:
    _rollback_quietly()
    log.error("redis unavailable at %s (request %s): %s", request.path, g.get("request_id"), type(exc).__name__)
    return _render("dependency_unavailable", 503, {"part": "redis"}, headers={"Retry-After": "5"})


def handle_unexpected(exc: Exception) -> Response:
    _rollback_quietly()
    log.exception("unhandled error at %s (request %s)", request.path, g.get("request_id"))
    return _render("internal_error", 500, {"request_id": g.get("request_id")})


def _rollback_quietly() -> None:
    try:
        _rollback()
    except Exception:  # the connection itself may be gone
        session = g.get("db_session")
        if session is not None:
            session.invalidate()


def register(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(PoolTimeout, handle_database_down)
    app.register_error_handler(RedisError, handle_redis_down)
    app.register_error_handler(Exception, handle_unexpected)
