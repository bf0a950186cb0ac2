from __future__ import annotations

from marshmallow import fields

from backend.http import BaseSchema


class IssuedCodeSchema(BaseSchema):
    code = fields.String(dump_only=True, metadata={"example": "CX1:7GQ4MZK2XNPLW3RT5YVB6HJCDA"})
    expires_at = fields.DateTime(dump_only=True)
    png = fields.String(dump_only=True, metadata={"description": "data:image/png;base64,... of the QR code"})


class LiveCodeSchema(BaseSchema):
    code = fields.String(dump_only=True)
    expires_at = fields.DateTime(dump_only=True)


class LiveCodeListSchema(BaseSchema):
    items = fields.List(fields.Nested(LiveCodeSchema))
    next_cursor = fields.String(allow_none=True)


class CodeSchema(BaseSchema):
    """A scanned resident code, as merchants, cashiers and clinicians send it."""

    code = fields.String(required=True, metadata={"example": "CX1:7GQ4MZK2XNPLW3RT5YVB6HJCDA"})
