"""Rate limits (flask-limiter), one Limiter per app, on Redis storage in production.

Blueprints declare limits by endpoint with ``limit_route``; ``install`` wraps
those view functions when the app is built, so two apps in one process (tests)
never share a storage.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from redis.exceptions import RedisError
from werkzeug.exceptions import TooManyRequests

from backend.config import Settings


@dataclass(frozen=True)
class RouteLimit:
    endpoint: str
    limit: Callable[[Settings], str]
    key_func: Callable[[], str] = get_remote_address
    deduct_when: Callable[[Any], bool] | None = None


_ROUTE_LIMITS: list[RouteLimit] = []


def limit_route(endpoint: str, limit: Callable[[Settings], str], *, key_func: Callable[[], str] = get_remote_address,
                deduct_when: Callable[[Any], bool] | None = None) -> None:
    """Declare a limit for an endpoint (``"auth.Login"``); applied by ``install``."""
    _ROUTE_LIMITS.append(RouteLimit(endpoint, limit, key_func, deduct_when))


log = logging.getLogger("backend.ratelimit")

ATTEMPT_GUARD_TTL_S = 30  # far longer than any password check (a guard outliving it could be freed by the
# next attempt's teardown); a crashed worker's guard expires


def install(app: Flask, settings: Settings) -> Limiter:
    _one_attempt_at_a_time(app, settings)

    @app.after_request  # registered before the limiter's own hook, so it runs after it
    def _retry_after_only_when_retrying_helps(response: Response) -> Response:
        # flask-limiter sets Retry-After on every response of a limited route; on a 200 or a
        # 422 it would tell clients that honour it to wait and resend what cannot change.
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        key_prefix=settings.ratelimit_key_prefix,
        headers_enabled=True,
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    for route in _ROUTE_LIMITS:
        view = app.view_functions.get(route.endpoint)
        if view is None:
            continue
        value = route.limit(settings)
        app.view_functions[route.endpoint] = limiter.limit(  # type: ignore[assignment]
            value, key_func=route.key_func, deduct_when=route.deduct_when)(view)
    return limiter


def _one_attempt_at_a_time(app: Flask, settings: Settings) -> None:
    """Serialise the attempts a failures-only limit counts for one subject (a phone, an account).

    Such a limit tests before the request and counts a failure only after the response, so
    attempts sent in parallel would all pass the test before any was counted: 25 wrong passwords
    at once would all be tried. While one attempt of a subject is in flight, another gets 429
    (``Retry-After: 1``); the guard is taken before the limiter's test and released at teardown,
    after the failure was counted, so the limit holds however the attempts arrive. Limits keyed by
    IP are not serialised (many people share a carrier's address). Like the limiter, the guard
    fails open when Redis is down.
    """
    guarded: dict[str, list[Callable[[], str]]] = {}
    for route in _ROUTE_LIMITS:
        if route.deduct_when is not None and route.key_func is not get_remote_address:
            guarded.setdefault(route.endpoint, []).append(route.key_func)
    redis = app.extensions["redis"]

    @app.before_request
    def _take_guard() -> None:
        key_funcs = guarded.get(request.endpoint or "")
        if not key_funcs:
            return
        for key_func in key_funcs:
            subject = hashlib.sha256(key_func().encode("utf-8", "surrogatepass")).hexdigest()[:32]
            name = f"{settings.ratelimit_key_prefix}:attempt:{request.endpoint}:{subject}"
            try:
                taken = redis.set(name, "1", nx=True, ex=ATTEMPT_GUARD_TTL_S)
            except RedisError:
                log.warning("attempt guard unavailable (Redis); %s not serialised", request.endpoint)
                return
            if not taken:
                raise TooManyRequests(retry_after=1)
            g.setdefault("attempt_guards", []).append(name)

    @app.teardown_request
    def _release_guards(_exc: BaseException | None) -> None:
        for name in g.pop("attempt_guards", []):
            try:
                redis.delete(name)
            except RedisError:
                log.warning("attempt guard %s not released (Redis); it expires in %s s", name, ATTEMPT_GUARD_TTL_S)
