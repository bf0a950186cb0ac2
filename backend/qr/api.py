"""Resident one-time codes."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from backend.http import current_actor, get_redis, make_blueprint, settings, verified_required
from backend.qr import service
from backend.qr.schemas import IssuedCodeSchema, LiveCodeListSchema

blp = make_blueprint("qr", __name__, "Resident one-time QR codes")


@blp.route("/me/qr-codes")
class QrCodes(MethodView):
    @verified_required
    @blp.response(201, IssuedCodeSchema)
    def post(self) -> Any:
        """Issue a one-time code (60 s) with its QR image (429 too_many_live_codes past QR_MAX_LIVE unused ones)"""
        config = settings()
        issued = service.issue(redis=get_redis(), person_id=current_actor().person_id or "", ttl_s=config.qr_ttl_s,
                               max_live=config.qr_max_live)
        return {"code": issued.code, "expires_at": issued.expires_at, "png": service.png_data_uri(issued.code)}

    @verified_required
    @blp.response(200, LiveCodeListSchema)
    def get(self) -> Any:
        """My codes that are still live (neither used nor expired)"""
        return {"items": service.live_codes(redis=get_redis(), person_id=current_actor().person_id or ""),
                "next_cursor": None}
