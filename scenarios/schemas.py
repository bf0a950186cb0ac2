"""Request and response schemas of 信易+ scenarios and 信用+医疗.

Merchant- and hospital-facing schemas carry a level and a masked name only:
never a score, an ID number or a full name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError, fields, pre_load, validate

from backend.http import BaseSchema, Bool, FullMatch, PageQuerySchema, Text
from scenarios.eligibility import LEVELS, MEDICAL_LEVELS, PERIODS

_MAX_FEN = 100_000_000  # ¥1,000,000: far above any line; keeps integers sane
_CODE = FullMatch(r"^[a-z][a-z0-9_]{1,39}$", error="lower-case letters, digits and _, 2-40 characters")
_MONTH = FullMatch(r"^[0-9]{4}-(0[1-9]|1[0-2])$", error="YYYY-MM")
PAYMENT_METHODS = ("cash", "wechat", "alipay", "card", "insurance", "transfer")


def _moment(value: dt.datetime) -> None:
    """An offer window lies in the years 2000-2099 as written: exactly what the documented pattern says."""
    if not 2000 <= value.year <= 2099:
        raise ValidationError("in the years 2000-2099")


_MOMENT: dict[str, Any] = {"validate": _moment, "metadata": {"pattern": r"^20\d{2}-"}}


# --------------------------------------------------------------------------- scenarios


class ScenarioSchema(BaseSchema):
    code = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    description = fields.String(dump_only=True)
    active = fields.Boolean(dump_only=True)


class ScenarioListSchema(BaseSchema):
    items = fields.List(fields.Nested(ScenarioSchema))
    next_cursor = fields.String(allow_none=True)


class ScenarioCreateSchema(BaseSchema):
    code = fields.String(required=True, validate=_CODE)
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class ScenarioUpdateSchema(BaseSchema):
    name = Text(validate=validate.Length(min=1, max=100))
    description = fields.String(validate=validate.Length(max=2000))
    active = Bool()


class ScenarioReportQuerySchema(BaseSchema):
    from_month = fields.String(data_key="from", load_default=None, validate=_MONTH)
    to_month = fields.String(data_key="to", load_default=None, validate=_MONTH)


class ScenarioMonthSchema(BaseSchema):
    month = fields.String()
    redemptions = fields.Integer()


class ScenarioStatsSchema(BaseSchema):
    code = fields.String()
    name = fields.String()
    active = fields.Boolean()
    live = fields.Boolean()
    live_offers = fields.Integer()
    redemptions = fields.Integer()
    months = fields.List(fields.Nested(ScenarioMonthSchema))


class ScenarioReportSchema(BaseSchema):
    scenarios = fields.Integer()
    live_scenarios = fields.Integer()
    from_month = fields.String(data_key="from")
    to_month = fields.String(data_key="to")
    items = fields.List(fields.Nested(ScenarioStatsSchema))


# --------------------------------------------------------------------------- offers


class OfferCreateSchema(BaseSchema):
    scenario = fields.String(required=True, validate=validate.Length(min=1, max=40))
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    benefit = Text(required=True, validate=validate.Length(min=1, max=2000))
    min_level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    red_list_only = Bool(load_default=False)
    per_person_limit = fields.Integer(load_default=None, allow_none=True, strict=True,
                                      validate=validate.Range(min=1, max=10_000))
    period = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(PERIODS))
    total_quota = fields.Integer(load_default=None, allow_none=True, strict=True,
                                 validate=validate.Range(min=0, max=10_000_000))
    valid_from = fields.AwareDateTime(load_default=None, allow_none=True, **_MOMENT)
    valid_to = fields.AwareDateTime(load_default=None, allow_none=True, **_MOMENT)
    active = Bool(load_default=True)


class OfferUpdateSchema(BaseSchema):
    title = Text(validate=validate.Length(min=1, max=200))
    benefit = Text(validate=validate.Length(min=1, max=2000))
    min_level = fields.String(validate=validate.OneOf(LEVELS))
    red_list_only = Bool()
    per_person_limit = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=10_000))
    period = fields.String(validate=validate.OneOf(PERIODS))
    total_quota = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=10_000_000))
    valid_from = fields.AwareDateTime(allow_none=True, **_MOMENT)
    valid_to = fields.AwareDateTime(allow_none=True, **_MOMENT)
    active = Bool()


class OfferSchema(BaseSchema):
    id = fields.String(dump_only=True)
    merchant_id = fields.String(dump_only=True)
    scenario = fields.String(attribute="scenario_code", dump_only=True)
    region_code = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    benefit = fields.String(dump_only=True)
    min_level = fields.String(dump_only=True)
    red_list_only = fields.Boolean(dump_only=True)
    per_person_limit = fields.Integer(dump_only=True, allow_none=True)
    period = fields.String(dump_only=True, allow_none=True)
    total_quota = fields.Integer(dump_only=True, allow_none=True)
    remaining_quota = fields.Integer(dump_only=True, allow_none=True)
    valid_from = fields.DateTime(dump_only=True, allow_none=True)
    valid_to = fields.DateTime(dump_only=True, allow_none=True)
    active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class OfferFilterSchema(BaseSchema):
    scenario = fields.String(load_default=None, validate=validate.Length(max=40))
    region = fields.String(load_default=None, validate=FullMatch(r"^[0-9]{2,12}$"))


class OfferQuerySchema(PageQuerySchema, OfferFilterSchema):
    merchant_id = fields.String(load_default=None, validate=validate.Length(max=40))


class MerchantOfferQuerySchema(PageQuerySchema):
    scenario = fields.String(load_default=None, validate=validate.Length(max=40))
    include_inactive = fields.Boolean(load_default=False, metadata={
        "description": "also paused, expired and retired-scenario offers (the merchant's own staff)"})


class ScenarioQuerySchema(BaseSchema):
    include_inactive = fields.Boolean(load_default=False, metadata={"description": "also retired (platform admin)"})


class BenefitQuerySchema(PageQuerySchema, OfferFilterSchema):
    pass


class BenefitSchema(BaseSchema):
    offer = fields.Nested(OfferSchema)
    merchant_name = fields.String()
    eligible = fields.Boolean()
    reason = fields.String(allow_none=True)
    used = fields.Integer(metadata={"description": "uses in the offer's current period"})


# --------------------------------------------------------------------------- merchant counter


class ResidentCodeSchema(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))


class RejectedOfferSchema(BaseSchema):
    offer_id = fields.String(attribute="offer.id")
    title = fields.String(attribute="offer.title")
    reason = fields.String()


class MerchantScanSchema(BaseSchema):
    name_masked = fields.String()
    level = fields.String()
    level_name = fields.String()
    offers = fields.List(fields.Nested(OfferSchema))
    not_eligible = fields.List(fields.Nested(RejectedOfferSchema))


class OfferRedemptionCreateSchema(ResidentCodeSchema):
    offer_id = fields.String(required=True, validate=validate.Length(min=1, max=40))


class OfferRedemptionSchema(BaseSchema):
    id = fields.String(dump_only=True)
    offer_id = fields.String(dump_only=True)
    offer_title = fields.String(dump_only=True)
    scenario = fields.String(attribute="scenario_code", dump_only=True)
    name_masked = fields.String(dump_only=True)
    level = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    voided_at = fields.DateTime(dump_only=True, allow_none=True)
    void_reason = fields.String(dump_only=True, allow_none=True)


class RedemptionVoidSchema(BaseSchema):
    reason = Text(required=True, validate=validate.Length(min=1, max=500))


class RedemptionDateRangeSchema(BaseSchema):
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)


class OfferRedemptionQuerySchema(PageQuerySchema, RedemptionDateRangeSchema):
    pass


# --------------------------------------------------------------------------- 信用+医疗


def _lines() -> dict[str, fields.Field]:
    return {level: fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=_MAX_FEN))
            for level in MEDICAL_LEVELS}


LinesSchema = BaseSchema.from_dict(_lines(), name="CreditLinesSchema")  # type: ignore[arg-type]


class CreditPolicySchema(BaseSchema):
    hospital_id = fields.String(dump_only=True)
    min_level = fields.String(dump_only=True)
    lines_fen = fields.Nested(LinesSchema, dump_only=True)
    repayment_days = fields.Integer(dump_only=True)
    is_default = fields.Boolean(dump_only=True)
    updated_at = fields.DateTime(dump_only=True, allow_none=True)


class CreditPolicyUpdateSchema(BaseSchema):
    min_level = fields.String(required=True, validate=validate.OneOf(MEDICAL_LEVELS))
    lines_fen = fields.Nested(LinesSchema, required=True)
    repayment_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=365))

    @pre_load
    def _drop_what_get_shows(self, data: Any, **_kwargs: Any) -> Any:
        """A policy read with GET can be edited and PUT back: its read-only members are ignored."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in ("hospital_id", "is_default", "updated_at")}
        return data


class MedicalEligibilitySchema(BaseSchema):
    eligible = fields.Boolean()
    level = fields.String()
    level_name = fields.String()
    line_fen = fields.Integer()
    available_fen = fields.Integer()
    reason = fields.String(allow_none=True)
    name_masked = fields.String()


class MedicalChargeCreateSchema(BaseSchema):
    amount_fen = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=_MAX_FEN))
    item = Text(required=True, validate=validate.Length(min=1, max=200))


class MedicalChargeSchema(BaseSchema):
    id = fields.String(dump_only=True)
    visit_id = fields.String(dump_only=True)
    amount_fen = fields.Integer(dump_only=True)
    item = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class BillPaymentSchema(BaseSchema):
    id = fields.String(dump_only=True)
    amount_fen = fields.Integer(dump_only=True)
    method = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class MedicalBillSchema(BaseSchema):
    id = fields.String(dump_only=True)
    visit_id = fields.String(dump_only=True)
    hospital_id = fields.String(dump_only=True)
    hospital_name = fields.String(dump_only=True)
    amount_fen = fields.Integer(dump_only=True)
    paid_fen = fields.Integer(dump_only=True)
    outstanding_fen = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": ["open", "overdue", "paid"]})
    due_date = fields.Date(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    overdue_at = fields.DateTime(dump_only=True, allow_none=True)
    paid_at = fields.DateTime(dump_only=True, allow_none=True)
    payments = fields.List(fields.Nested(BillPaymentSchema), dump_only=True,
                           metadata={"description": "the payments made on this bill, oldest first"})


class HospitalMedicalBillSchema(MedicalBillSchema):
    name_masked = fields.String(dump_only=True)


class MedicalVisitQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(["open", "settled"]))


class MedicalVisitSummarySchema(BaseSchema):
    id = fields.String(dump_only=True)
    hospital_id = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    level = fields.String(dump_only=True)
    name_masked = fields.String(dump_only=True)
    total_fen = fields.Integer(dump_only=True)
    opened_at = fields.DateTime(dump_only=True)
    settled_at = fields.DateTime(dump_only=True, allow_none=True)


class MedicalVisitSchema(MedicalVisitSummarySchema):
    """One visit: the summary, the patient's line now, the charges and the bill."""

    line_fen = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "null once settled"})
    available_fen = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "null once settled"})
    charges = fields.List(fields.Nested(MedicalChargeSchema), dump_only=True)
    bill = fields.Nested(MedicalBillSchema, dump_only=True, allow_none=True)


class MedicalPaymentCreateSchema(BaseSchema):
    amount_fen = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=_MAX_FEN))
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))


class MedicalPaymentSchema(BaseSchema):
    id = fields.String(dump_only=True)
    bill_id = fields.String(dump_only=True)
    amount_fen = fields.Integer(dump_only=True)
    method = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    bill_status = fields.String(dump_only=True)
    outstanding_fen = fields.Integer(dump_only=True)


class MedicalBillQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(["open", "overdue", "paid"]))
