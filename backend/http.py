"""Shared HTTP helpers: the request session, authentication and role decorators,
Idempotency-Key, cursor pagination and base schemas.

Every blueprint authorises through the decorators here, so the rules of
API.md hold in one place: 401 without a valid token, 404 for an organisation
the caller does not belong to (its existence is not revealed), 403 for a
member whose roles do not allow the action.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

import marshmallow as ma
from flask import Response, current_app, g, request
from flask_smorest import Blueprint
from redis import Redis

from backend.actor import Actor
from backend.config import Settings
from backend.db import AppSession
from backend.errors import AppError, Conflict, Forbidden, NotFound, Unauthorized, write_kept
from backend.idempotency import service as idempotency
from backend.text import TEXT_PATTERN, has_direction_overrides, has_visible

F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- plumbing


def settings() -> Settings:
    return current_app.extensions["settings"]  # type: ignore[no-any-return]


def get_session() -> AppSession:
    """The request's session; the teardown closes it, rolling back anything uncommitted."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["session_factory"]()
    return g.db_session  # type: ignore[no-any-return]


def get_redis() -> Redis:
    return current_app.extensions["redis"]  # type: ignore[no-any-return]


def client_ip() -> str | None:
    return request.remote_addr


# --------------------------------------------------------------------------- authentication

_BEARER_DOC: dict[str, Any] = {"security": [{"bearerAuth": []}]}


def bearer_token() -> str:
    """The request's bearer token; 401 without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


def _authenticate(org_id: str | None = None) -> Actor:
    """The caller, loaded once per request; ``org_id`` (the organisation the request addresses)
    has the same statement load the caller's roles there."""
    if "actor" in g:
        return g.actor  # type: ignore[no-any-return]
    from backend.auth import service as auth_service

    actor = auth_service.actor_from_access_token(
        session=get_session(), settings=settings(), token=bearer_token(),
        ip=client_ip(), user_agent=request.user_agent.string or None, org_id=org_id,
    )
    g.actor = actor
    return actor


def current_actor(org_id: str | None = None) -> Actor:
    """The authenticated caller of this request (the auth decorators have run)."""
    return _authenticate(org_id)


def _decorate(func: F, check: Callable[[dict[str, Any]], None]) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check(kwargs)
        return func(*args, **kwargs)

    doc = dict(getattr(wrapper, "_apidoc", {}))
    manual = dict(doc.get("manual_doc", {}))
    manual.update(_BEARER_DOC)
    doc["manual_doc"] = manual
    wrapper._apidoc = doc  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def login_required(func: F) -> F:
    """Any logged-in account."""
    def check(_kw: dict[str, Any]) -> None:
        _authenticate()

    return _decorate(func, check)


def token_required(func: F) -> F:
    """A valid access token, its account read by the view itself (``token_subject()``).

    For views whose own first statement reads the account row anyway (``GET /me``):
    that statement must refuse a missing or disabled account with 401, as
    ``login_required`` would, so the row is read once instead of twice.
    """
    def check(_kw: dict[str, Any]) -> None:
        from backend.auth import service as auth_service

        g.token_subject = auth_service.verify_access_token(settings=settings(), token=bearer_token())

    return _decorate(func, check)


def token_subject() -> str:
    """The account id of the request's verified access token (``token_required`` has run)."""
    return g.token_subject  # type: ignore[no-any-return]


def admin_required(func: F) -> F:
    """A platform admin."""

    def check(_kw: dict[str, Any]) -> None:
        if not _authenticate().is_admin:
            raise Forbidden("admin_required")

    return _decorate(func, check)


def verified_required(func: F) -> F:
    """A resident whose account passed real-name verification."""

    def check(_kw: dict[str, Any]) -> None:
        if not _authenticate().is_verified:
            raise Forbidden("verification_required")

    return _decorate(func, check)


def org_role(kinds: str | Iterable[str], *roles: str, allow_admin: bool = False,
             path_arg: str = "org_id") -> Callable[[F], F]:
    """Require one of ``roles`` in the organisation named by the path.

    The organisation must exist and be of one of ``kinds``; a caller who is no
    member of it gets 404 (as if it did not exist), a member without the role
    403. ``allow_admin`` lets platform admins through as well.
    """
    def decorator(func: F) -> F:
        def check(kwargs: dict[str, Any]) -> None:
            require_org_role(kwargs.get(path_arg, ""), kinds, *roles, allow_admin=allow_admin)

        return _decorate(func, check)

    return decorator


def require_org_role(org_id: str, kinds: str | Iterable[str], *roles: str, allow_admin: bool = False) -> None:
    """What ``org_role`` checks, for a view that needs it only for some requests (a public list whose
    ``include_inactive`` is for the organisation's own staff)."""
    from backend.identity import service as identity_service

    kind_set = {kinds} if isinstance(kinds, str) else set(kinds)
    actor = _authenticate(org_id)
    kind, member_roles = identity_service.org_kind_and_roles(session=get_session(), actor=actor, org_id=org_id)
    if kind not in kind_set:
        raise NotFound("org_not_found")
    if allow_admin and actor.is_admin:
        return
    if not member_roles:
        raise NotFound("org_not_found")
    if not member_roles & set(roles):
        raise Forbidden("forbidden_role", required=sorted(roles))


# --------------------------------------------------------------------------- idempotency

_IDEMPOTENCY_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": "Same key + same body within 24 h replays the first response.",
        }
    ]
}


def idempotent(func: F) -> F:
    """Honour ``Idempotency-Key`` (DESIGN.md): replay, 422 on a different body, 409 while in flight.

    Put it below the auth decorator and above ``@blp.arguments``/``@blp.response``
    so it sees the caller and the finished response.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return func(*args, **kwargs)
        idempotency.check_key(key)
        actor = _authenticate()
        cfg = settings()
        session = get_session()
        fp = idempotency.fingerprint(request.method, request.path, request.get_data(cache=True))
        scope = actor.account_id

        # The key's marker first: a new key is taken in one Redis command, with no database read.
        redis = get_redis()
        marker = idempotency.marker_name(scope, key)
        found = idempotency.claim(redis, marker, cfg.idempotency_lock_ttl_s)
        if found is not None and found != idempotency.ANSWERED:  # in flight (or an older version's lock)
            raise Conflict("request_in_progress")
        if found is not None:  # answered: replay, unless the answer is past its TTL
            existing = idempotency.find(session=session, scope=scope, key=key)
            if existing is not None and idempotency.is_live(existing, cfg.idempotency_ttl_s):
                idempotency.check_replay(existing, fp)
                return _replay(existing)
            idempotency.take_over(redis, marker, cfg.idempotency_lock_ttl_s)
        answered = False

        def answer(status: int, body: str, content_type: str) -> Response | None:
            """Store the response with the write; the live answer to replay instead if this key has one."""
            nonlocal answered
            if idempotency.store(session=session, scope=scope, key=key, fp=fp, status=status, body=body,
                                 content_type=content_type, ttl_s=cfg.idempotency_ttl_s):
                session.commit()
                answered = True
                return None
            session.rollback()  # the first request with this key answered meanwhile: its answer stands
            first = idempotency.find(session=session, scope=scope, key=key)
            if first is None:
                raise Conflict("request_in_progress")
            idempotency.check_replay(first, fp)
            answered = True
            return _replay(first)

        try:
            try:
                with session.held_commits():  # the response joins the use case's transaction
                    response = func(*args, **kwargs)
            except AppError as exc:
                session.rollback()
                if idempotency.should_store(exc.status, exc.code):
                    from backend.error_handlers import render_app_error

                    write_kept(exc, session)  # committed with the stored answer
                    rendered = render_app_error(exc)
                    replay = answer(rendered.status_code, rendered.get_data(as_text=True), rendered.content_type)
                    if replay is not None:
                        return replay
                raise
            except Exception:
                session.rollback()
                raise
            if isinstance(response, Response) and idempotency.should_store(response.status_code, None):
                replay = answer(response.status_code, response.get_data(as_text=True),
                                response.content_type or "application/json")
                if replay is not None:
                    return replay
            else:
                session.commit()
            return response
        finally:
            idempotency.release(redis, marker, answered=answered, ttl_s=cfg.idempotency_ttl_s)

    doc = dict(getattr(wrapper, "_apidoc", {}))
    manual = dict(doc.get("manual_doc", {}))
    manual["parameters"] = list(manual.get("parameters", [])) + _IDEMPOTENCY_DOC["parameters"]
    doc["manual_doc"] = manual
    wrapper._apidoc = doc  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _replay(record: Any) -> Response:
    response = Response(record.body, status=record.status, content_type=record.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


# --------------------------------------------------------------------------- schemas and pagination


class BaseSchema(ma.Schema):
    """Every request and response schema: unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class FullMatch(ma.validate.Regexp):
    """``validate.Regexp`` over the whole value. In Python ``$`` also matches before a final newline,
    so ``"13800000000\\n"`` would pass for a phone (and open a second account for one number); the
    pattern stays as written for OpenAPI, whose ``$`` ends the string."""

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


class Bool(ma.fields.Boolean):
    """A boolean of a JSON body: ``true`` or ``false`` only. marshmallow's Boolean also takes "no",
    "yes", "on", 0 and 1 (right for query strings), so ``{"active": "no"}`` from a form would have
    silently retired a scenario, while integer fields refuse "2"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Text(ma.fields.String):
    """Text a person reads (a title, a reason, a name): it must show at least one character (blank
    or only invisible characters such as U+200B is refused) and hold no direction override (an
    offer title or a store item shown reversed on a resident's screen), and surrounding whitespace is dropped
    (not with ``strip=False``: a document's text keeps its layout, e.g. the two U+3000 that open a
    Chinese paragraph). Length validators then apply to what is left."""

    default_error_messages = {"blank": "Text has nothing to read (blank or invisible characters only).",
                              "direction": "Text holds a direction override, embedding or isolate (U+202A-U+202E, "
                                           "U+2066-U+2069): it would display otherwise than it reads."}

    def __init__(self, *, strip: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("pattern", TEXT_PATTERN)
        super().__init__(**kwargs)
        self.strip = strip

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not has_visible(text):
            raise self.make_error("blank")
        if has_direction_overrides(text):
            raise self.make_error("direction")
        return text.strip() if self.strip else text


class PageQuerySchema(BaseSchema):
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))


_PAGE_SCHEMAS: dict[str, type[ma.Schema]] = {}


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """``{items: [...], next_cursor}`` for an item schema (one class per item schema, for OpenAPI names)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _PAGE_SCHEMAS:
        _PAGE_SCHEMAS[name] = type(
            name,
            (BaseSchema,),
            {
                "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
                "next_cursor": ma.fields.String(allow_none=True),
            },
        )
    return _PAGE_SCHEMAS[name]


def make_blueprint(name: str, import_name: str, description: str) -> Blueprint:
    return Blueprint(name, import_name, description=description)
