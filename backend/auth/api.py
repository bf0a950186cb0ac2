"""Accounts: register, login, refresh, logout."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from backend.auth import service
from backend.auth.schemas import (
    AccountSchema,
    LoginSchema,
    RefreshSchema,
    RegisterSchema,
    TokenPairSchema,
)
from backend.http import current_actor, get_session, login_required, make_blueprint, settings
from backend.ratelimit import limit_route

blp = make_blueprint("auth", __name__, "Accounts and tokens")


def _login_phone() -> str:
    body = request.get_json(silent=True)  # runs after the input checks: the body decodes
    phone = body.get("phone") if isinstance(body, dict) else None
    return f"phone:{phone if isinstance(phone, str) else '-'}"


def _failed(response: Any) -> bool:
    return response.status_code == 401  # only wrong passwords count towards the limit


@blp.route("/auth/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, AccountSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Open an account with a mainland mobile number and a password"""
        return service.register(session=get_session(), settings=settings(), **data)


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenPairSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Log in; returns an access token (15 min) and a refresh token"""
        return service.login(session=get_session(), settings=settings(), **data)


limit_route("auth.Login", lambda s: s.login_limit_per_phone, key_func=_login_phone, deduct_when=_failed)
limit_route("auth.Login", lambda s: s.login_limit_per_ip, deduct_when=_failed)


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokenPairSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Swap a refresh token for a new pair; the old one dies (reuse revokes the family)"""
        return service.refresh(session=get_session(), settings=settings(), refresh_token=data["refresh_token"])


@blp.route("/auth/logout")
class Logout(MethodView):
    @login_required
    @blp.arguments(RefreshSchema)
    @blp.response(204)
    def post(self, data: dict[str, Any]) -> None:
        """Revoke the refresh-token family of this login"""
        service.logout(session=get_session(), actor=current_actor(), refresh_token=data["refresh_token"])
