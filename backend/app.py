"""The composition root: create_app builds config, database, Redis, API, blueprints and CLI."""

from __future__ import annotations

import http
import json
import logging
import re
import secrets
import time
from typing import Any

import click
import fakeredis
import redis as redis_lib
from flask import Flask, Response, g, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from backend import error_handlers, logs, ratelimit
from backend.config import INSTANCE_DIR, Settings, load_settings
from backend.db import make_engine, make_session_factory, session_scope
from backend.errors import PROBLEM_JSON, AppError, Invalid, cli_errors, register_messages
from backend.http import BaseSchema

access_log = logging.getLogger("backend.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}\Z")

API_PREFIX = "/api/v1"


class ProblemSchema(BaseSchema):
    """RFC 9457 problem details, plus the stable ``code`` clients switch on."""

    from marshmallow import fields as _f

    type = _f.String()
    title = _f.String()
    status = _f.Integer()
    detail = _f.String()
    code = _f.String(required=True)
    errors = _f.Raw()

    class Meta:
        unknown = "include"


class CreditApi(Api):
    """flask-smorest's Api with problem+json as the documented error body."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        """Like flask-smorest's, but every error body is documented as application/problem+json."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Problem details (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def _register_error_handlers(self) -> None:
        """Errors are rendered by backend.error_handlers, registered in create_app."""

    def _init_spec(self, **kwargs: Any) -> None:
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(_null_branch_admits_only_null)
        self.ma_plugin.converter.add_attribute_function(_object_length_counts_properties)


def _null_branch_admits_only_null(_converter: Any, _field: Any, ret: dict[str, Any], **_kw: Any) -> dict[str, Any]:
    """apispec documents a nullable Nested (OpenAPI 3.0) as ``anyOf: [$ref, {type: object, nullable:
    true}]``, whose second branch admits ANY object; the service admits the nested schema or null only."""
    branches = ret.get("anyOf")
    if not branches or {"type": "object", "nullable": True} not in branches:
        return {}
    null_only = {"type": "object", "nullable": True, "enum": [None]}
    return {"anyOf": [null_only if b == {"type": "object", "nullable": True} else b for b in branches]}


def _object_length_counts_properties(_converter: Any, _field: Any, ret: dict[str, Any], **_kw: Any) -> dict[str, Any]:
    """validate.Length on a Dict counts its keys: minProperties/maxProperties (apispec writes min/maxLength,
    which JSON Schema ignores for objects)."""
    if ret.get("type") != "object":
        return {}
    moved = {}
    for length, properties in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
        if length in ret:
            moved[properties] = ret.pop(length)
    return moved


def _blueprints() -> list[Any]:
    from backend.auth.api import blp as auth
    from backend.commitments.api import blp as commitments
    from backend.commitments.api import root_blp as commitments_root
    from backend.credit.api import blp as credit
    from backend.identity.api import blp as identity
    from backend.platform.api import blp as platform
    from backend.qr.api import blp as qr
    from points.api import blp as points
    from scenarios.api import blp as scenarios

    return [platform, auth, identity, qr, credit, commitments, commitments_root, points, scenarios]


def create_app(config: Settings | dict[str, Any] | None = None) -> Flask:
    settings = config if isinstance(config, Settings) else load_settings(**(config or {}))
    logs.configure(settings.log_level)

    app = Flask("backend", instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.update(
        API_TITLE="Credit platform API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        OPENAPI_REDOC_PATH="redoc",
        OPENAPI_REDOC_URL="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js",
        API_SPEC_OPTIONS={
            "info": {"description": "City credit platform: personal credit, 厚德积分 points, 信易+ benefits, "
                                    "credit commitments. Errors are application/problem+json with a stable `code`. "
                                    "Text never contains U+0000 (422 `nul_character`)."},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                              "bearerFormat": "JWT"}}},
        },
        MAX_CONTENT_LENGTH=settings.max_content_length,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["settings"] = settings

    engine = make_engine(settings)
    app.extensions["engine"] = engine
    app.extensions["session_factory"] = make_session_factory(engine)
    app.extensions["redis"] = _make_redis(settings)

    api = CreditApi(app)
    app.extensions["smorest_api"] = api
    for blp in _blueprints():
        # a blueprint marked ``at_root`` (/.well-known/jwks.json, /v/...) is mounted without /api/v1
        api.register_blueprint(blp, url_prefix=None if getattr(blp, "at_root", False) else API_PREFIX)
    _register_request_hooks(app)  # first: the input checks run before the rate limits read the body
    app.extensions["rate_limiter"] = ratelimit.install(app, settings)
    _register_root_aliases(app)
    error_handlers.register(app)
    _register_cli(app)
    return app


def _make_redis(settings: Settings) -> redis_lib.Redis:
    if settings.redis_url:
        return redis_lib.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2,
                                        health_check_interval=30)
    # In-process stand-in for development and the first test pass: one server per app.
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


def _register_root_aliases(app: Flask) -> None:
    """Probes conventionally live at the root; they are also under /api/v1."""
    for name in ("healthz", "readyz"):
        view = app.view_functions[f"platform.{name.capitalize()}"]
        app.add_url_rule(f"/{name}", endpoint=f"root_{name}", view_func=view, methods=["GET"])


# U+0000 in a JSON string (an odd run of backslashes, then u0000): PostgreSQL text cannot hold it.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")

# A UTF-16 surrogate escape (\ud800-\udfff): paired ones make one character, a lone one is no text.
_JSON_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

register_messages({
    "nul_character": ("文本含有空字符", "NUL character in text", "文本中不能含有 U+0000 字符。",
                      "Text must not contain the U+0000 character."),
    "invalid_text": ("文本含有无效字符", "Invalid text", "文本中含有不成对的 UTF-16 代理项（\\ud800–\\udfff），不是有效的 Unicode。",
                     "Text contains a lone UTF-16 surrogate (\\ud800-\\udfff) and is not valid Unicode."),
})


def _check_input() -> None:
    """Refuse, on every backend alike and before any view, what no view can store or parse.

    U+0000 in the path, the query or the body (PostgreSQL text cannot hold it); a body sent with a
    method that carries one but not as JSON (415, instead of the schema reporting every field
    missing); a JSON body that does not decode, also when nested too deeply for the decoder (400
    ``malformed_json``, also for views that take no body); a lone surrogate in a JSON string
    (422 ``invalid_text``: no database encodes it). The body is decoded here only to be checked;
    the views' schemas parse it as before.
    """
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        raise Invalid("nul_character")
    body = request.get_data(cache=True)  # also a chunked body, which has no Content-Length
    if not body:
        return
    if b"\x00" in body or (b"\\u0000" in body and _JSON_NUL.search(body) is not None):
        raise Invalid("nul_character")
    if request.method not in _BODY_METHODS:
        return
    if not request.is_json:
        raise AppError("unsupported_media_type", status=415)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise AppError("malformed_json", status=400) from exc
    if _JSON_SURROGATE.search(body) is not None and not _is_text(document):
        raise Invalid("invalid_text")


def _is_text(value: Any) -> bool:
    """Whether every string in a decoded JSON document (keys too) encodes as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        _check_input()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.path.startswith(API_PREFIX):
            response.headers.setdefault("Cache-Control", "no-store")
        actor = g.get("actor")
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,  # never the query string: it may carry codes or cursors
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
                "request_id": g.get("request_id"),
                "actor_id": actor.account_id if actor is not None else g.get("token_subject"),
            },
        )
        return response

    @app.teardown_request
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()  # rolls back anything the use case did not commit


def _register_cli(app: Flask) -> None:
    from backend.commitments.cli import cli as commitments_cli
    from backend.credit.cli import cli as credit_cli
    from points.cli import cli as points_cli
    from scenarios.cli import cli as scenarios_cli

    users = click.Group("users", help="Accounts.")

    @users.command("create-admin")
    @click.option("--phone", required=True)
    @click.option("--password", required=True)
    def create_admin(phone: str, password: str) -> None:
        """Create a platform admin (or promote the account with this phone)."""
        from backend.auth import service as auth_service

        settings = app.extensions["settings"]
        with session_scope(app.extensions["session_factory"]) as session, cli_errors():
            account = auth_service.create_admin(session=session, settings=settings, phone=phone, password=password)
            click.echo(f"admin {account.id} ({phone}; an existing account keeps its password)")

    @users.command("disable")
    @click.option("--phone", required=True)
    @click.option("--enable", is_flag=True, help="Enable the account again instead.")
    def disable(phone: str, enable: bool) -> None:
        """Disable an account (its tokens and live codes stop working at once) or, with --enable, enable it again."""
        from backend.auth import service as auth_service

        with session_scope(app.extensions["session_factory"]) as session, cli_errors():
            account = auth_service.set_disabled(session=session, redis=app.extensions["redis"], phone=phone,
                                                disabled=not enable)
            click.echo(f"{'enabled' if enable else 'disabled'} {account.id} ({phone})")
            if not enable and not app.extensions["settings"].redis_url:
                # the embedded Redis lives inside each process: this one cannot reach a running server's
                click.echo(f"note: REDIS_URL is unset, so codes this account showed to a running server stay "
                           f"usable until they expire (at most {app.extensions['settings'].qr_ttl_s} s); "
                           f"with REDIS_URL they are void at once")

    demo = click.Group("demo", help="Demonstration data.")

    @demo.command("seed")
    def seed() -> None:
        """Create the demo organisations and logins (idempotent) and print the logins."""
        from backend import demo as demo_data
        from backend.commitments import demo as commitments_demo
        from backend.credit import demo as credit_demo
        from points import demo as points_demo
        from scenarios import demo as scenarios_demo

        settings = app.extensions["settings"]
        with session_scope(app.extensions["session_factory"]) as session:
            world = demo_data.seed(session=session, settings=settings, redis=app.extensions["redis"])
            for domain in (credit_demo, points_demo, scenarios_demo, commitments_demo):
                world.lines.extend(domain.seed(session=session, settings=settings, world=world))
            session.commit()
            click.echo(demo_data.format_logins(world))

    idempotency_cli = click.Group("idempotency", help="Idempotency-Key records.")

    @idempotency_cli.command("purge")
    def purge() -> None:
        """Delete Idempotency-Key records older than their 24 h life (run daily)."""
        from backend.idempotency import service as idempotency_service

        with session_scope(app.extensions["session_factory"]) as session:
            deleted = idempotency_service.purge_expired(session=session, ttl_s=app.extensions["settings"].idempotency_ttl_s)
        click.echo(f"deleted {deleted} expired idempotency records")

    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(idempotency_cli)
    for group in (credit_cli, commitments_cli, points_cli, scenarios_cli):
        if group.commands:
            app.cli.add_command(group)
