from __future__ import annotations

from marshmallow import fields, validate

from backend.http import BaseSchema


class RegisterSchema(BaseSchema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=20))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))


class AccountSchema(BaseSchema):
    id = fields.String(dump_only=True)
    phone = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class LoginSchema(RegisterSchema):
    pass


class TokenPairSchema(BaseSchema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    token_type = fields.String(required=True)


class RefreshSchema(BaseSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


