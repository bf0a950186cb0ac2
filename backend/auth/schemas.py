from __future__ import annotations

from marshmallow import fields, validate

from backend.http import BaseSchema, FullMatch

PHONE = r"^1[3-9][0-9]{9}$"  # mainland China mobile number


class RegisterSchema(BaseSchema):
    phone = fields.String(required=True, validate=FullMatch(PHONE), metadata={"example": "13800000001"})
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128),
                             metadata={"description": "at least PASSWORD_MIN_LENGTH (8) characters, not common or "
                                                      "guessable (422 weak_password)"})


class AccountSchema(BaseSchema):
    id = fields.String(dump_only=True)
    phone = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class LoginSchema(BaseSchema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=20))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))


class TokenPairSchema(BaseSchema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    token_type = fields.String(required=True)


class RefreshSchema(BaseSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


