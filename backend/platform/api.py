"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import text

from backend.errors import Unavailable
from backend.http import BaseSchema, get_redis, get_session, make_blueprint

blp = make_blueprint("platform", __name__, "Health of the service")


class StatusSchema(BaseSchema):
    status = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String())


@blp.route("/healthz")
class Healthz(MethodView):
    @blp.response(200, StatusSchema)
    def get(self) -> Any:
        """The process is alive"""
        return {"status": "ok"}


@blp.route("/readyz")
class Readyz(MethodView):
    @blp.response(200, StatusSchema)
    def get(self) -> Any:
        """The database and Redis both answer (503 names the part that does not)"""
        try:
            get_session().execute(text("SELECT 1"))
        except Exception as exc:
            raise Unavailable("database") from exc
        try:
            get_redis().ping()
        except Exception as exc:
            raise Unavailable("redis") from exc
        return {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
