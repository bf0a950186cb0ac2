"""Render every failure as application/problem+json (RFC 9457), in zh-CN or English."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Flask, Response, g, request
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from backend.errors import PROBLEM_JSON, AppError, problem, write_kept

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
    session = g.get("db_session")
    if session is not None and exc.kept:
        try:
            write_kept(exc, session)
            session.commit()
        except (OperationalError, PoolTimeout) as db_exc:  # the refusal's trail cannot be written:
            return handle_database_down(db_exc)  # nor is its reason told (a look must be logged)
    return render_app_error(exc)


# marshmallow's per-field messages, and the schemas' own, as a Chinese client reads them (the default
# language); anything not listed passes unchanged (tests/platform checks every schema's own message is).
_ZH_FIELD_MESSAGES = [(re.compile(pattern), zh) for pattern, zh in (
    (r"^Missing data for required field\.$", "缺少必填字段。"),
    (r"^Text has nothing to read \(blank or invisible characters only\)\.$", "文本为空（只有空白或不可见字符）。"),
    (r"^Text holds a direction override, embedding or isolate .*$", "文本含有改变显示方向的控制字符（U+202A–U+202E、U+2066–U+2069），显示会与内容不符。"),
    (r"^Field may not be null\.$", "不能为 null。"),
    (r"^Unknown field\.$", "未知字段。"),
    (r"^Invalid input type\.$", "输入类型无效。"),
    (r"^Invalid type\.$", "类型无效。"),
    (r"^Invalid value\.$", "值无效。"),
    (r"^Not a valid string\.$", "不是有效的字符串。"),
    (r"^Not a valid integer\.$", "不是有效的整数。"),
    (r"^Not a valid number\.$", "不是有效的数字。"),
    (r"^Number too large\.$", "数值过大。"),
    (r"^Special numeric values \(nan or infinity\) are not permitted\.$", "不允许 NaN 或无穷大。"),
    (r"^Not a valid boolean\.$", "不是有效的布尔值。"),
    (r"^Not a valid aware datetime\.$", "不是有效的日期时间（须带时区，如 +08:00）。"),
    (r"^Not a valid (?:naive )?datetime\.$", "不是有效的日期时间。"),
    (r"^Not a valid date\.$", "不是有效的日期。"),
    (r"^Not a valid list\.$", "不是有效的列表。"),
    (r"^Not a valid mapping type\.$", "不是有效的对象。"),
    (r"^Length must be between (\S+) and (\S+)\.$", r"长度须在 \1 到 \2 之间。"),
    (r"^Length must be (\S+)\.$", r"长度须为 \1。"),
    (r"^Longer than maximum length (\S+)\.$", r"长度不能超过 \1。"),
    (r"^Shorter than minimum length (\S+)\.$", r"长度不能少于 \1。"),
    (r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$", r"须在 \1 到 \2 之间。"),
    (r"^Must be greater than or equal to (\S+)\.$", r"须大于或等于 \1。"),
    (r"^Must be less than or equal to (\S+)\.$", r"须小于或等于 \1。"),
    (r"^Must be greater than (\S+)\.$", r"须大于 \1。"),
    (r"^Must be less than (\S+)\.$", r"须小于 \1。"),
    (r"^Must be one of: (.*)\.$", r"须是以下之一：\1。"),
    (r"^String does not match expected pattern\.$", "格式不正确。"),
    # the schemas' own messages
    (r"^lower-case letters, digits, _ and -, up to 40$", "小写字母、数字、_ 和 -，最多 40 个字符"),
    (r"^lower-case letters, digits and _, 2-40 characters$", "小写字母开头，小写字母、数字和 _，2 到 40 个字符"),
    (r"^a mainland mobile number$", "须为中国大陆手机号码"),
    (r"^YYYY-MM$", "格式为 YYYY-MM"),
    (r"^in the years 2000-2099$", "须在 2000 至 2099 年之间"),
)]


def _in_chinese(errors: Any) -> Any:
    """The field messages of a 422 in Chinese, keeping their structure (fields, list indexes)."""
    if isinstance(errors, dict):
        return {key: _in_chinese(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_in_chinese(value) for value in errors]
    if isinstance(errors, str):
        for pattern, zh in _ZH_FIELD_MESSAGES:
            if pattern.match(errors):
                return pattern.sub(zh, errors)
    return errors


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
        if request_language() == "zh":
            errors = _in_chinese(errors)
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
