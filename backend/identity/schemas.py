from __future__ import annotations

from marshmallow import fields, validate

from backend.http import BaseSchema, Text
from backend.identity.models import ORG_KINDS

_ALL_ROLES = sorted({"admin", "clerk", "approver", "cashier", "clinician", "billing", "officer", "signer"})


class MembershipSchema(BaseSchema):
    org_id = fields.String()
    org_kind = fields.String()
    org_name = fields.String()
    roles = fields.List(fields.String())


class MeSchema(BaseSchema):
    id = fields.String()
    phone = fields.String()
    is_admin = fields.Boolean()
    verified = fields.Boolean()
    real_name_status = fields.String(metadata={"enum": ["none", "pending", "approved", "rejected"]})
    name_masked = fields.String(allow_none=True)
    id_number_masked = fields.String(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)
    memberships = fields.List(fields.Nested(MembershipSchema))


class RealNameSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    id_number = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=32))


class RealNameClaimSchema(BaseSchema):
    id = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    verifier = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    decided_at = fields.DateTime(dump_only=True, allow_none=True)
    note = fields.String(dump_only=True, allow_none=True)


class CounterClaimSchema(RealNameClaimSchema):
    """What a service-counter officer sees: enough to check the person's card in front of them."""

    account_id = fields.String(dump_only=True)
    person_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    id_number_masked = fields.String(dump_only=True)


class ClaimListQuerySchema(BaseSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(["pending", "approved", "rejected"]))


class DecisionSchema(BaseSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"]))
    note = Text(load_default=None, validate=validate.Length(max=500))


class OrgCreateSchema(BaseSchema):
    kind = fields.String(required=True, validate=validate.OneOf(ORG_KINDS))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    credit_code = fields.String(load_default=None, validate=validate.Length(max=32))
    region_code = fields.String(required=True, validate=validate.Length(min=1, max=12))


class OrgSchema(BaseSchema):
    id = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    credit_code = fields.String(dump_only=True, allow_none=True)
    region_code = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class OrgListQuerySchema(BaseSchema):
    kind = fields.String(load_default=None, validate=validate.OneOf(ORG_KINDS))


class MemberCreateSchema(BaseSchema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=20))
    roles = fields.List(fields.String(validate=validate.OneOf(_ALL_ROLES)), required=True,
                        validate=validate.Length(min=1, max=8))


class MemberSchema(BaseSchema):
    account_id = fields.String(dump_only=True)
    phone = fields.String(dump_only=True)
    roles = fields.List(fields.String(), dump_only=True)


class MemberListSchema(BaseSchema):
    items = fields.List(fields.Nested(MemberSchema))


class EnterpriseClaimCreateSchema(BaseSchema):
    credit_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    region_code = fields.String(required=True, validate=validate.Length(min=1, max=12))


class EnterpriseClaimSchema(BaseSchema):
    id = fields.String(dump_only=True)
    account_id = fields.String(dump_only=True)
    credit_code = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    region_code = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    org_id = fields.String(dump_only=True, allow_none=True)
    note = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)
    decided_at = fields.DateTime(dump_only=True, allow_none=True)



class OrgListSchema(BaseSchema):
    items = fields.List(fields.Nested(OrgSchema))


class EnterpriseClaimListSchema(BaseSchema):
    items = fields.List(fields.Nested(EnterpriseClaimSchema))


class CounterClaimListSchema(BaseSchema):
    items = fields.List(fields.Nested(CounterClaimSchema))
