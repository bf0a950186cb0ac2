"""Request and response schemas of points (field names of API.md)."""

from __future__ import annotations

from marshmallow import fields, validate

from backend.http import BaseSchema, Bool, FullMatch, PageQuerySchema, Text
from points import ledger

_CODE = FullMatch(r"^[a-z0-9][a-z0-9_\-]{0,39}$", error="lower-case letters, digits, _ and -, up to 40")
_PERIOD = validate.OneOf(["day", "month", "year"])
_POINTS = validate.Range(min=-10_000, max=10_000)


class RuleCreateSchema(BaseSchema):
    code = fields.String(required=True, validate=_CODE)
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    points = fields.Integer(required=True, strict=True, validate=_POINTS,
                            metadata={"description": "positive: award; negative: deduction"})
    category = Text(required=True, validate=validate.Length(min=1, max=40),
                             metadata={"example": "志愿服务"})
    limit_per_period = fields.Integer(load_default=None, allow_none=True, strict=True,
                                      validate=validate.Range(min=1, max=1000))
    period = fields.String(load_default=None, allow_none=True, validate=_PERIOD)
    evidence_required = Bool(load_default=False)


class RuleUpdateSchema(BaseSchema):
    name = Text(validate=validate.Length(min=1, max=100))
    points = fields.Integer(strict=True, validate=_POINTS)
    category = Text(validate=validate.Length(min=1, max=40))
    limit_per_period = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=1000))
    period = fields.String(allow_none=True, validate=_PERIOD)
    evidence_required = Bool()
    active = Bool()


class RuleSchema(BaseSchema):
    id = fields.String()
    code = fields.String()
    name = fields.String()
    points = fields.Integer()
    category = fields.String()
    limit_per_period = fields.Integer(allow_none=True)
    period = fields.String(allow_none=True)
    evidence_required = fields.Boolean()
    active = fields.Boolean()
    created_at = fields.DateTime()


class RuleListSchema(BaseSchema):
    items = fields.List(fields.Nested(RuleSchema))
    next_cursor = fields.String(allow_none=True)


class RuleListQuerySchema(BaseSchema):
    """``?include_inactive=true``: retired rules (or store items) too."""

    include_inactive = fields.Boolean(load_default=False)


class ResidentCreateSchema(BaseSchema):
    phone = fields.String(required=True, validate=FullMatch(r"^1[0-9]{10}$", error="a mainland mobile number"))


class ResidentSchema(BaseSchema):
    id = fields.String(metadata={"description": "the resident_id used in awards"})
    village_id = fields.String()
    name_masked = fields.String(allow_none=True)
    phone_masked = fields.String(allow_none=True)
    balance = fields.Integer()
    rating = fields.Integer()
    stars = fields.Integer()
    created_at = fields.DateTime()


class AwardItemSchema(BaseSchema):
    resident_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    rule_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=500))
    evidence = fields.List(Text(validate=validate.Length(min=1, max=500)), load_default=list,
                           validate=validate.Length(max=10),
                           metadata={"description": "links or file ids of photos, certificates ..."})


class AwardBatchSchema(BaseSchema):
    items = fields.List(fields.Nested(AwardItemSchema), required=True, validate=validate.Length(min=1, max=200))


class ItemErrorSchema(BaseSchema):
    code = fields.String()
    status = fields.Integer()


class AwardResultSchema(BaseSchema):
    id = fields.String()
    resident_id = fields.String(allow_none=True)
    rule_code = fields.String(allow_none=True)
    points = fields.Integer()
    status = fields.String()
    error = fields.Nested(ItemErrorSchema)


class AwardBatchResultSchema(BaseSchema):
    items = fields.List(fields.Nested(AwardResultSchema))


class AwardSchema(BaseSchema):
    id = fields.String()
    resident_id = fields.String()
    resident_name_masked = fields.String()
    rule_code = fields.String()
    points = fields.Integer()
    note = fields.String(allow_none=True)
    evidence = fields.List(fields.String())
    status = fields.String(metadata={"enum": ["pending", "approved", "rejected", "reversed"]})
    submitted_by = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    reversal_reason = fields.String(allow_none=True)
    decision_note = fields.String(allow_none=True, metadata={"description": "the approver's note on a decision "
                                                             "(staff only; null in the public 公示 list)"})


class AwardListQuerySchema(BaseSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(["pending", "approved", "rejected", "reversed"]))
    resident_id = fields.String(load_default=None, validate=validate.Length(max=40))


class RejectSchema(BaseSchema):
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ReasonSchema(BaseSchema):
    """Why an award is reversed or a sale voided (kept with it)."""

    reason = Text(required=True, validate=validate.Length(min=1, max=500))


class MyPointsItemSchema(BaseSchema):
    village_id = fields.String()
    village_name = fields.String()
    resident_id = fields.String()
    balance = fields.Integer()
    rating = fields.Integer()
    stars = fields.Integer()


class MyPointsSchema(BaseSchema):
    items = fields.List(fields.Nested(MyPointsItemSchema))
    next_cursor = fields.String(allow_none=True)


class EntrySchema(BaseSchema):
    id = fields.String()
    village_id = fields.String()
    transaction_id = fields.String()
    kind = fields.String(metadata={"enum": list(ledger.KINDS)})
    amount = fields.Integer()
    memo = fields.String()
    created_at = fields.DateTime()


class EntryQuerySchema(BaseSchema):
    village_id = fields.String(load_default=None, validate=validate.Length(max=40))


class LeaderboardQuerySchema(BaseSchema):
    period = fields.String(load_default=None, validate=validate.Length(max=20), metadata={  # the service says invalid_period
        "example": "2026-11", "description": "YYYY-MM (Asia/Shanghai); default the current month"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100),
                           metadata={"description": "how many of the top residents"})


class LeaderRowSchema(BaseSchema):
    rank = fields.Integer()
    resident_id = fields.String()
    name_masked = fields.String()
    rating = fields.Integer(metadata={"description": "rating earned in the period"})
    total_rating = fields.Integer()
    stars = fields.Integer()


class LeaderboardSchema(BaseSchema):
    period = fields.String()
    items = fields.List(fields.Nested(LeaderRowSchema))


class StarThresholdsSchema(BaseSchema):
    star_thresholds = fields.List(fields.Integer(strict=True, validate=validate.Range(min=-10_000_000, max=10_000_000)),
                                  required=True, validate=validate.Length(equal=5),
                                  metadata={"example": [0, 50, 100, 200, 400]})


class StoreItemCreateSchema(BaseSchema):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    price = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1_000_000))
    stock = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1_000_000))


class StoreItemUpdateSchema(BaseSchema):
    name = Text(validate=validate.Length(min=1, max=100))
    price = fields.Integer(strict=True, validate=validate.Range(min=1, max=1_000_000))
    restock = fields.Integer(strict=True, validate=validate.Range(min=1, max=1_000_000),
                             metadata={"description": "add this many to the stock"})
    active = Bool()


class StoreItemSchema(BaseSchema):
    id = fields.String()
    name = fields.String()
    price = fields.Integer()
    stock = fields.Integer()
    active = fields.Boolean()
    created_at = fields.DateTime()


class StoreItemListSchema(BaseSchema):
    items = fields.List(fields.Nested(StoreItemSchema))
    next_cursor = fields.String(allow_none=True)


class RedemptionCreateSchema(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    quantity = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=100))


class SaleQuerySchema(PageQuerySchema):
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)


class SaleSchema(BaseSchema):
    id = fields.String()
    item_id = fields.String()
    item_name = fields.String()
    resident_id = fields.String()
    resident_name_masked = fields.String()
    quantity = fields.Integer()
    points = fields.Integer()
    cashier_id = fields.String()
    transaction_id = fields.String()
    created_at = fields.DateTime()
    status = fields.String(metadata={"description": "completed, or voided (the goods came back)"})
    voided_at = fields.DateTime(allow_none=True)
    voided_by = fields.String(allow_none=True)
    void_reason = fields.String(allow_none=True)
    refund_transaction_id = fields.String(allow_none=True)


class RedemptionSchema(BaseSchema):
    id = fields.String()
    item_id = fields.String()
    resident_id = fields.String()
    quantity = fields.Integer()
    points = fields.Integer()
    balance = fields.Integer(metadata={"description": "the resident's balance after the redemption"})
    transaction_id = fields.String()
    created_at = fields.DateTime()
