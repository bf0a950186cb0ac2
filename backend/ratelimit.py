"""Rate limits (flask-limiter), one Limiter per app, on Redis storage in production.

Blueprints declare limits by endpoint with ``limit_route``; ``install`` wraps
those view functions when the app is built, so two apps in one process (tests)
never share a storage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

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


def install(app: Flask, settings: Settings) -> Limiter:
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
