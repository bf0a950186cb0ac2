"""Request and response schemas of credit."""

from __future__ import annotations

from marshmallow import fields, validate

from backend.credit.models import GRADES, LEVELS, RECORD_STATUSES
from backend.http import BaseSchema, FullMatch, PageQuerySchema, Text


class CategorySchema(BaseSchema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    polarity = fields.String(metadata={"enum": ["positive", "negative", "either"]})
    severities = fields.List(fields.String())
    positive_dimension = fields.String(allow_none=True)
    publicity_months = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()),
                                   metadata={"description": "severity (or positive) -> [minimum, maximum] months"})
    repairable = fields.Boolean()


class CategoryListSchema(BaseSchema):
    items = fields.List(fields.Nested(CategorySchema))


# --------------------------------------------------------------------------- batch ingestion


# One record of a batch, as documented: the service checks each item itself (a bad item is that
# item's error, never the batch's), so the list's items are taken as they come.
_BATCH_RECORD_DOC = {
    "type": "object",
    "required": ["category", "source_ref", "occurred_at", "decision"],
    "properties": {
        "id_number": {"type": "string", "description": "a person's 18-character ID number (or credit_code)"},
        "credit_code": {"type": "string", "description": "an enterprise's unified social credit code"},
        "category": {"type": "string", "description": "a code of GET /credit/categories"},
        "polarity": {"type": "string", "enum": ["positive", "negative"]},
        "severity": {"type": "string", "enum": ["minor", "general", "serious"], "description": "negative records"},
        "source_ref": {"type": "string", "maxLength": 100, "description": "the department's own reference: "
                                                                            "a record is stored once per ref"},
        "occurred_at": {"type": "string", "format": "date-time", "description": "from 2000-01-01, Beijing "
                                                                                  "time if no offset"},
        "decision": {"type": "string", "maxLength": 2000},
    },
}


class BatchSchema(BaseSchema):
    records = fields.List(
        fields.Raw(allow_none=True, metadata=_BATCH_RECORD_DOC), required=True, validate=validate.Length(min=1),
        metadata={"description": "up to 1,000 records, each checked on its own (per-item results)"},
    )


class ItemErrorSchema(BaseSchema):
    code = fields.String()


class BatchItemSchema(BaseSchema):
    source_ref = fields.String()
    result = fields.String(metadata={"enum": ["created", "duplicate", "error"]})
    id = fields.String(allow_none=True)
    error = fields.Dict(allow_none=True)


class BatchResultSchema(BaseSchema):
    items = fields.List(fields.Nested(BatchItemSchema))
    created = fields.Integer()
    duplicate = fields.Integer()
    error = fields.Integer()


class RecordSchema(BaseSchema):
    id = fields.String()
    category = fields.String()
    category_name = fields.String()
    polarity = fields.String()
    severity = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(RECORD_STATUSES)})
    source_org_id = fields.String()
    source_org_name = fields.String(allow_none=True)
    source_ref = fields.String()
    occurred_at = fields.DateTime()
    decision = fields.String()
    publicity_end = fields.DateTime()
    person_id = fields.String(allow_none=True)
    org_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class MyRecordQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(RECORD_STATUSES))


class DepartmentRecordQuerySchema(PageQuerySchema):
    subject = fields.String(load_default=None, validate=validate.Length(max=40),
                            metadata={"description": "person or organisation id, ID number or credit code "
                                                     "(a person looked up is logged in their query log)"})
    category = fields.String(load_default=None, validate=validate.Length(max=40))
    status = fields.String(load_default=None, validate=validate.OneOf(RECORD_STATUSES))


# --------------------------------------------------------------------------- scores


class DimensionSchema(BaseSchema):
    code = fields.String()
    name = fields.String()
    points = fields.Integer()
    cap = fields.Integer()
    records = fields.Integer()
    rating_points = fields.Integer()


class CreditSchema(BaseSchema):
    score = fields.Integer()
    level = fields.String(metadata={"enum": list(LEVELS)})
    level_name = fields.String()
    model_version = fields.String()
    dimensions = fields.List(fields.Nested(DimensionSchema))
    reasons = fields.List(fields.String(), metadata={"description": "at most 4, readable"})
    serious_dishonesty = fields.Boolean()
    red_list = fields.Boolean()
    as_of = fields.DateTime()


class SnapshotSchema(CreditSchema):
    id = fields.String()
    previous_score = fields.Integer(allow_none=True)
    delta = fields.Integer(allow_none=True)
    cause = fields.String()
    changes = fields.List(fields.Dict())


class QuerySchema(BaseSchema):
    id = fields.String()
    org_id = fields.String()
    org_name = fields.String(allow_none=True)
    purpose = fields.String()
    at = fields.DateTime()


class EnterpriseCreditSchema(CreditSchema):
    org_id = fields.String()
    name = fields.String()
    credit_code = fields.String(allow_none=True)
    grade = fields.String(metadata={"enum": list(GRADES)})


class EnterpriseGradeSchema(BaseSchema):
    org_id = fields.String()
    name = fields.String()
    credit_code = fields.String(allow_none=True)
    grade = fields.String(metadata={"enum": list(GRADES)})
    score = fields.Integer()
    serious_dishonesty = fields.Boolean()
    as_of = fields.DateTime()


class EnterpriseQuerySchema(PageQuerySchema):
    grade = fields.String(load_default=None, validate=validate.OneOf(GRADES))


# --------------------------------------------------------------------------- 双随机 inspection draws


class InspectionWeightsSchema(BaseSchema):
    A = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))
    B = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))
    C = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))
    D = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))


class InspectionDrawCreateSchema(BaseSchema):
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=500),
                           metadata={"description": "how many enterprises to inspect (all candidates if fewer)"})
    weights = fields.Nested(InspectionWeightsSchema, load_default=None, metadata={
        "description": "relative chance of each grade (default INSPECTION_WEIGHTS: A 1, B 2, C 4, D 8); 0 leaves a grade out"})
    region_code = fields.String(load_default=None, validate=FullMatch(r"^[0-9]{2}([0-9]{2}){0,2}$"), metadata={
        "description": "only enterprises whose division code starts so (43: the province, 4301: the city...)"})
    inspectors_per_target = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=0, max=10),
                                           metadata={"description": "default INSPECTION_INSPECTORS_PER_TARGET (2)"})


class InspectionTargetSchema(BaseSchema):
    org_id = fields.String()
    name = fields.String()
    credit_code = fields.String(allow_none=True)
    grade = fields.String(metadata={"enum": list(GRADES)})
    inspectors = fields.List(fields.String(), metadata={"description": "account ids of the officers sent"})


class InspectionDrawSchema(BaseSchema):
    id = fields.String()
    department_id = fields.String()
    drawn_by = fields.String()
    created_at = fields.DateTime()
    seed = fields.String(metadata={"description": "random.Random(int(seed)) re-runs the draw (backend/credit/inspection.py)"})
    weights = fields.Nested(InspectionWeightsSchema)
    region_code = fields.String(allow_none=True)
    requested = fields.Integer()
    inspectors_per_target = fields.Integer()
    candidates = fields.Integer(metadata={"description": "graded enterprises the draw chose from"})
    candidates_digest = fields.String(metadata={"description": "SHA-256 of the candidates as id:grade lines in id order"})
    targets = fields.List(fields.Nested(InspectionTargetSchema), metadata={"description": "in the order drawn"})


class InspectionDrawDetailSchema(InspectionDrawSchema):
    inputs = fields.Dict(allow_none=True, metadata={
        "description": "what the draw chose from, as it was then: {candidates: [[org_id, grade]...], officers: "
                       "[account ids], conflicts: {org_id: [account ids]}}; draw(candidates, weights, count, officers, "
                       "conflicts, inspectors_per_target, int(seed)) gives targets again"})


# --------------------------------------------------------------------------- objections and repairs


class ObjectionCreateSchema(BaseSchema):
    record_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    reason = Text(required=True, validate=validate.Length(min=1, max=2000))
    evidence = fields.List(Text(validate=validate.Length(min=1, max=500)), load_default=list,
                           validate=validate.Length(max=20))


class ObjectionSchema(BaseSchema):
    id = fields.String()
    record_id = fields.String()
    reason = fields.String()
    evidence = fields.List(fields.String())
    status = fields.String(metadata={"enum": ["open", "decided"]})
    outcome = fields.String(allow_none=True, metadata={"enum": ["upheld", "corrected", "revoked"]})
    note = fields.String(allow_none=True)
    corrections = fields.Dict(allow_none=True)
    due_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class ObjectionQuerySchema(PageQuerySchema):
    overdue = fields.Boolean(load_default=False)
    status = fields.String(load_default=None, validate=validate.OneOf(["open", "decided"]))


class CorrectionsSchema(BaseSchema):
    category = fields.String(validate=validate.Length(min=1, max=40))
    polarity = fields.String(validate=validate.OneOf(["positive", "negative"]))
    severity = fields.String(allow_none=True, validate=validate.OneOf(["minor", "general", "serious"]))
    occurred_at = fields.AwareDateTime(default_timezone=None)
    decision = Text(validate=validate.Length(min=1, max=2000))


class ObjectionDecisionSchema(BaseSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(["upheld", "corrected", "revoked"]))
    note = Text(load_default=None, validate=validate.Length(max=2000))
    corrections = fields.Nested(CorrectionsSchema, load_default=None)


class RepairCreateSchema(BaseSchema):
    record_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    statement = Text(required=True, validate=validate.Length(min=1, max=2000),
                              metadata={"description": "the correction made (fine paid, commitment signed ...)"})
    commitment_id = fields.String(load_default=None, validate=validate.Length(min=1, max=40))


class RepairSchema(BaseSchema):
    id = fields.String()
    record_id = fields.String()
    statement = fields.String()
    commitment_id = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["pending", "approved", "rejected"]})
    note = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class RepairQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(["pending", "approved", "rejected"]))


class RepairDecisionSchema(BaseSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(["approved", "rejected"]))
    note = Text(load_default=None, validate=validate.Length(max=2000))


# --------------------------------------------------------------------------- score models


class ScoreModelCreateSchema(BaseSchema):
    version = fields.String(required=True, validate=[validate.Length(min=1, max=40),
                                                     FullMatch(r"^[A-Za-z0-9._-]+$")])
    subject_kind = fields.String(load_default="person", validate=validate.OneOf(["person", "enterprise"]))
    params = fields.Dict(required=True, metadata={"description": "same shape as the seeded default"})
    note = Text(load_default=None, validate=validate.Length(max=500))


class ScoreModelSchema(BaseSchema):
    version = fields.String()
    subject_kind = fields.String()
    params = fields.Dict()
    active = fields.Boolean()
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    activated_at = fields.DateTime(allow_none=True)


class ScoreModelListSchema(BaseSchema):
    items = fields.List(fields.Nested(ScoreModelSchema))
