"""Request and response schemas of commitments, seals and credit reports."""

from __future__ import annotations

from marshmallow import fields as f
from marshmallow import validate

from backend.commitments.models import COMMITMENT_TYPES, FIELD_TYPES, STATUSES
from backend.http import BaseSchema, Bool, FullMatch, PageQuerySchema, Text

_TYPE = validate.OneOf(COMMITMENT_TYPES)


class FieldDefinitionSchema(BaseSchema):
    name = f.String(required=True, validate=validate.Length(min=1, max=32))
    type = f.String(load_default="string", validate=validate.OneOf(FIELD_TYPES))
    required = Bool(load_default=True)
    pattern = f.String(load_default=None, validate=validate.Length(max=200))
    label = f.String(load_default=None, validate=validate.Length(max=100))


class TemplateCreateSchema(BaseSchema):
    type = f.String(required=True, validate=_TYPE)
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    text = Text(required=True, strip=False, validate=validate.Length(min=1, max=20000))
    fields = f.List(f.Nested(FieldDefinitionSchema), load_default=list, validate=validate.Length(max=50))  # type: ignore[assignment]  # the API's field name
    validity_days = f.Integer(required=True, validate=validate.Range(min=1, max=3650))


class TemplateEditSchema(BaseSchema):
    title = Text(validate=validate.Length(min=1, max=200))
    text = Text(strip=False, validate=validate.Length(min=1, max=20000))
    fields = f.List(f.Nested(FieldDefinitionSchema), validate=validate.Length(max=50))  # type: ignore[assignment]  # the API's field name
    validity_days = f.Integer(validate=validate.Range(min=1, max=3650))


class TemplateSchema(BaseSchema):
    id = f.String()
    family_id = f.String()
    version = f.Integer()
    is_current = f.Boolean()
    department_id = f.String()
    type = f.String()
    title = f.String()
    text = f.String()
    fields = f.List(f.Dict())  # type: ignore[assignment]  # the API's field name
    validity_days = f.Integer()
    created_at = f.DateTime()


class TemplateQuerySchema(PageQuerySchema):
    type = f.String(load_default=None, validate=_TYPE)


class CommitmentCreateSchema(BaseSchema):
    template_id = f.String(required=True, validate=validate.Length(min=1, max=40))
    fields = f.Dict(load_default=dict, validate=validate.Length(max=50))  # type: ignore[assignment]  # the API's field name
    on_behalf_of = f.String(load_default=None, validate=validate.Length(min=1, max=40))


class CommitmentUpdateSchema(BaseSchema):
    fields = f.Dict(required=True, validate=validate.Length(max=50))  # type: ignore[assignment]  # the API's field name


class SignSchema(BaseSchema):
    password = f.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class CommitmentSchema(BaseSchema):
    id = f.String()
    channel = f.String(metadata={"enum": ["online", "offline"]})
    status = f.String(metadata={"enum": list(STATUSES)})
    template_id = f.String(allow_none=True)
    department_id = f.String()
    type = f.String()
    title = f.String()
    text = f.String()
    fields = f.Dict()  # type: ignore[assignment]  # the API's field name
    subject_kind = f.String()
    subject_org_id = f.String(allow_none=True)
    subject = f.Dict(metadata={"description": "whom it binds, masked: {kind, name, id_number} or "
                                              "{kind, name, credit_code}"})
    public_id = f.String(allow_none=True)
    hash = f.String(allow_none=True)
    signature = f.String(allow_none=True)
    key_id = f.String(allow_none=True)
    verify_url = f.String(allow_none=True)
    signed_at = f.DateTime(allow_none=True)
    valid_until = f.DateTime(allow_none=True)
    paper_ref = f.String(allow_none=True)
    decided_at = f.DateTime(allow_none=True)
    decision_reason = f.String(allow_none=True)
    fulfilled_at = f.DateTime(allow_none=True, metadata={
        "description": "when it was marked fulfilled; kept if it is later breached as a false commitment"})
    fulfilment_reason = f.String(allow_none=True)
    credit_record_id = f.String(allow_none=True)
    created_at = f.DateTime()


class CommitmentQuerySchema(PageQuerySchema):
    status = f.String(load_default=None, validate=validate.OneOf(STATUSES))


class DepartmentCommitmentQuerySchema(CommitmentQuerySchema):
    channel = f.String(load_default=None, validate=validate.OneOf(["online", "offline"]))


class CommitmentDecisionSchema(BaseSchema):
    reason = Text(load_default=None, validate=validate.Length(min=1, max=2000))


class CommitmentBreachSchema(BaseSchema):
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))


class OfflineCommitmentSchema(BaseSchema):
    type = f.String(required=True, validate=_TYPE)
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    text = Text(load_default=None, strip=False, validate=validate.Length(max=20000))
    template_id = f.String(load_default=None, validate=validate.Length(max=40))
    fields = f.Dict(load_default=None, validate=validate.Length(max=50),  # type: ignore[assignment]  # the API's field name
                    metadata={"description": "With template_id and no text: the values of the template's slots, "
                                             "checked as for an online draft; the stored text is the template "
                                             "rendered with them."})
    id_number = f.String(load_default=None, load_only=True, validate=validate.Length(max=32))
    credit_code = f.String(load_default=None, validate=validate.Length(max=32))
    signed_on = f.Date(required=True)
    paper_ref = Text(required=True, validate=validate.Length(min=1, max=100))
    validity_days = f.Integer(load_default=None, validate=validate.Range(min=1, max=3650))


class CommitmentStatsQuerySchema(BaseSchema):
    from_month = f.String(load_default=None, data_key="from", validate=FullMatch(r"^[0-9]{4}-[0-9]{2}$"))
    to_month = f.String(load_default=None, data_key="to", validate=FullMatch(r"^[0-9]{4}-[0-9]{2}$"))


class CommitmentMonthStatsSchema(BaseSchema):
    month = f.String()
    online = f.Integer()
    offline = f.Integer()
    total = f.Integer()
    paperless_share = f.Float(allow_none=True)


class CommitmentStatsSchema(BaseSchema):
    items = f.List(f.Nested(CommitmentMonthStatsSchema))
    online = f.Integer()
    offline = f.Integer()
    total = f.Integer()
    paperless_share = f.Float(allow_none=True)
    target_share = f.Float()
    target_met = f.Boolean()


class SealedSubjectSchema(BaseSchema):
    kind = f.String()
    name = f.String()
    id_number = f.String(metadata={"description": "masked"})
    credit_code = f.String(allow_none=True)


class SealedSchema(BaseSchema):
    public_id = f.String()
    kind = f.String()
    title = f.String()
    subject = f.Nested(SealedSubjectSchema)
    hash = f.String(metadata={"description": "SHA-256 (hex) of content"})
    signature = f.String(metadata={"description": "Ed25519 signature (base64url) of content"})
    key_id = f.String(metadata={"description": "kid of the key in /.well-known/jwks.json"})
    algorithm = f.String()
    content = f.String(metadata={"description": "the signed canonical JSON, exactly as signed"})
    valid = f.Boolean(metadata={"description": "hash and signature re-verified now"})
    verify_url = f.String()


class PublicCommitmentSchema(SealedSchema):
    type = f.String()
    type_name = f.String()
    text = f.String()
    department_name = f.String()
    status = f.String()
    signed_at = f.String()
    valid_until = f.String(allow_none=True)


class ReportCreateSchema(BaseSchema):
    on_behalf_of = f.String(load_default=None, validate=validate.Length(min=1, max=40))
    purpose = Text(load_default=None, validate=validate.Length(min=1, max=200),
                   metadata={"description": "what the report is for (sealed with it), e.g. 招投标"})


class ReportSchema(BaseSchema):
    id = f.String()
    public_id = f.String()
    subject_kind = f.String()
    subject_org_id = f.String(allow_none=True)
    purpose = f.String(allow_none=True)
    issued_at = f.DateTime()
    verify_url = f.String()
    hash = f.String()
    signature = f.String()
    key_id = f.String()


class PublicReportSchema(SealedSchema):
    purpose = f.String()
    issued_at = f.String()
    standing = f.Dict(allow_none=True)
    records = f.List(f.Dict())


class JwkSchema(BaseSchema):
    kty = f.String()
    crv = f.String()
    x = f.String()
    kid = f.String()
    use = f.String()
    alg = f.String()


class JwksSchema(BaseSchema):
    keys = f.List(f.Nested(JwkSchema))
