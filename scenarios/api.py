"""信易+ scenarios, merchant offers and the counter (scan, redeem, void, export); 信用+医疗."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from backend.errors import Forbidden
from backend.http import (
    admin_required,
    current_actor,
    get_redis,
    get_session,
    idempotent,
    make_blueprint,
    org_role,
    page_schema,
    require_org_role,
    settings,
    verified_required,
)
from scenarios.schemas import (
    BenefitQuerySchema,
    BenefitSchema,
    CreditPolicySchema,
    CreditPolicyUpdateSchema,
    HospitalMedicalBillSchema,
    MedicalBillQuerySchema,
    MedicalBillSchema,
    MedicalChargeCreateSchema,
    MedicalChargeSchema,
    MedicalEligibilitySchema,
    MedicalPaymentCreateSchema,
    MedicalPaymentSchema,
    MedicalVisitQuerySchema,
    MedicalVisitSchema,
    MedicalVisitSummarySchema,
    MerchantOfferQuerySchema,
    MerchantScanSchema,
    OfferCreateSchema,
    OfferQuerySchema,
    OfferRedemptionCreateSchema,
    OfferRedemptionQuerySchema,
    OfferRedemptionSchema,
    OfferSchema,
    OfferUpdateSchema,
    RedemptionDateRangeSchema,
    RedemptionVoidSchema,
    ResidentCodeSchema,
    ScenarioCreateSchema,
    ScenarioListSchema,
    ScenarioQuerySchema,
    ScenarioReportQuerySchema,
    ScenarioReportSchema,
    ScenarioSchema,
    ScenarioUpdateSchema,
)
from scenarios.service import catalogue, medical, offers, redemptions

blp = make_blueprint("scenarios", __name__, "信易+ scenarios, merchant offers and 信用+医疗")

_COUNTER = ("cashier", "admin")
_HOSPITAL_STAFF = ("admin", "clinician", "billing")


# --------------------------------------------------------------------------- scenarios


@blp.route("/scenarios")
class Scenarios(MethodView):
    @blp.arguments(ScenarioQuerySchema, location="query")
    @blp.response(200, ScenarioListSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """The 信易+ scenario catalogue, whole (a short list); ``include_inactive`` (platform admin)
        adds the retired ones, to revive one"""
        if query["include_inactive"] and not current_actor().is_admin:
            raise Forbidden("admin_required")
        return {"items": catalogue.list_scenarios(session=get_session(), **query), "next_cursor": None}

    @admin_required
    @blp.arguments(ScenarioCreateSchema)
    @blp.response(201, ScenarioSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a scenario (platform admin)"""
        return catalogue.create_scenario(session=get_session(), **data)


@blp.route("/scenario-stats")
class ScenarioStats(MethodView):
    @admin_required
    @blp.arguments(ScenarioReportQuerySchema, location="query")
    @blp.response(200, ScenarioReportSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Live scenarios, live offers and redemptions per scenario per month (platform admin)"""
        return catalogue.scenario_stats(session=get_session(), **query)


@blp.route("/scenarios/<code>")
class ScenarioResource(MethodView):
    @blp.response(200, ScenarioSchema)
    def get(self, code: str) -> Any:
        """One scenario"""
        return catalogue.get_scenario(session=get_session(), code=code)

    @admin_required
    @blp.arguments(ScenarioUpdateSchema)
    @blp.response(200, ScenarioSchema)
    def patch(self, data: dict[str, Any], code: str) -> Any:
        """Rename, describe, retire or revive a scenario (platform admin)"""
        return catalogue.update_scenario(session=get_session(), code=code, **data)


# --------------------------------------------------------------------------- offers and benefits


@blp.route("/offers")
class Offers(MethodView):
    @blp.arguments(OfferQuerySchema, location="query")
    @blp.response(200, page_schema(OfferSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """Live offers of all merchants: by scenario, region (prefix of the region code) or merchant"""
        return offers.list_offers(session=get_session(), **query)


@blp.route("/merchants/<org_id>/offers")
class MerchantOffers(MethodView):
    @blp.arguments(MerchantOfferQuerySchema, location="query")
    @blp.response(200, page_schema(OfferSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """A merchant's live offers (anyone); ``include_inactive`` (the merchant's own staff) adds the
        paused, expired and retired ones, to find and re-enable one"""
        if query["include_inactive"]:
            require_org_role(org_id, "merchant", *_COUNTER)
        return offers.merchant_offers(session=get_session(), merchant_id=org_id, **query)

    @org_role("merchant", "admin")
    @blp.arguments(OfferCreateSchema)
    @blp.response(201, OfferSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Publish an offer (merchant admin)"""
        return offers.create_offer(session=get_session(), merchant_id=org_id, **data)


@blp.route("/merchants/<org_id>/offers/<offer_id>")
class MerchantOffer(MethodView):
    @blp.response(200, OfferSchema)
    def get(self, org_id: str, offer_id: str) -> Any:
        """One offer"""
        return offers.merchant_offer(session=get_session(), merchant_id=org_id, offer_id=offer_id)

    @org_role("merchant", "admin")
    @blp.arguments(OfferUpdateSchema)
    @blp.response(200, OfferSchema)
    def patch(self, data: dict[str, Any], org_id: str, offer_id: str) -> Any:
        """Change an offer: text, level, limits, quota, window, or switch it off (merchant admin)"""
        return offers.update_offer(session=get_session(), merchant_id=org_id, offer_id=offer_id, **data)


@blp.route("/me/benefits")
class MyBenefits(MethodView):
    @verified_required
    @blp.arguments(BenefitQuerySchema, location="query")
    @blp.response(200, page_schema(BenefitSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """Live offers, each with whether I may use it or the reason code why not"""
        return offers.my_benefits(session=get_session(), person_id=current_actor().person_id or "", **query)


# --------------------------------------------------------------------------- merchant counter


@blp.route("/merchants/<org_id>/scans")
class Scans(MethodView):
    @org_role("merchant", *_COUNTER)
    @blp.arguments(ResidentCodeSchema)
    @blp.response(200, MerchantScanSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Read a resident's code without using it: masked name, level, eligible offers (logged)"""
        return redemptions.scan(session=get_session(), redis=get_redis(), actor=current_actor(),
                                merchant_id=org_id, code=data["code"])


@blp.route("/merchants/<org_id>/redemptions")
class Redemptions(MethodView):
    @org_role("merchant", *_COUNTER)
    @idempotent
    @blp.arguments(OfferRedemptionCreateSchema)
    @blp.response(201, OfferRedemptionSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Redeem an offer with a resident's one-time code (consumes the code)"""
        return redemptions.redeem(session=get_session(), redis=get_redis(), actor=current_actor(),
                                  merchant_id=org_id, **data)

    @org_role("merchant", *_COUNTER)
    @blp.arguments(OfferRedemptionQuerySchema, location="query")
    @blp.response(200, page_schema(OfferRedemptionSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """This merchant's redemptions, newest first (`from`/`to`: Asia/Shanghai dates)"""
        return redemptions.list_redemptions(session=get_session(), merchant_id=org_id, **query)


@blp.route("/merchants/<org_id>/redemptions/<redemption_id>/void")
class RedemptionVoid(MethodView):
    @org_role("merchant", "admin")
    @idempotent
    @blp.arguments(RedemptionVoidSchema)
    @blp.response(200, OfferRedemptionSchema)
    def post(self, data: dict[str, Any], org_id: str, redemption_id: str) -> Any:
        """Void a redemption within 24 h: quota and the resident's limit are restored (merchant admin);
        a retry with its Idempotency-Key gets the first answer"""
        return redemptions.void(session=get_session(), settings=settings(), actor=current_actor(),
                                merchant_id=org_id, redemption_id=redemption_id, **data)


@blp.route("/merchants/<org_id>/redemptions.csv")
class RedemptionExport(MethodView):
    @org_role("merchant", "admin")
    @blp.arguments(RedemptionDateRangeSchema, location="query")
    @blp.response(200, content_type="text/csv", description="UTF-8 CSV with a BOM, masked names")
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """Export redemptions of a date range as CSV (merchant admin)"""
        body = redemptions.export_csv(session=get_session(), merchant_id=org_id, **query)
        return Response(body.encode("utf-8"), content_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="redemptions-{org_id}.csv"'})


# --------------------------------------------------------------------------- 信用+医疗


@blp.route("/hospitals/<org_id>/credit-policy")
class CreditPolicy(MethodView):
    @org_role("hospital", *_HOSPITAL_STAFF)
    @blp.response(200, CreditPolicySchema)
    def get(self, org_id: str) -> Any:
        """The hospital's treat-first-pay-later policy (defaults until set)"""
        return medical.get_policy(session=get_session(), settings=settings(), hospital_id=org_id)

    @org_role("hospital", "admin")
    @blp.arguments(CreditPolicyUpdateSchema)
    @blp.response(200, CreditPolicySchema)
    def put(self, data: dict[str, Any], org_id: str) -> Any:
        """Set the minimum level, line per level (fen) and repayment window (hospital admin)"""
        return medical.put_policy(session=get_session(), settings=settings(), hospital_id=org_id, **data)


@blp.route("/hospitals/<org_id>/eligibility")
class MedicalEligibility(MethodView):
    @org_role("hospital", "clinician", "admin")
    @blp.arguments(ResidentCodeSchema)
    @blp.response(200, MedicalEligibilitySchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Read a patient's code (not used): eligible, level, line and available amount (logged)"""
        return medical.check_eligibility(session=get_session(), settings=settings(), redis=get_redis(),
                                         actor=current_actor(), hospital_id=org_id, code=data["code"])


@blp.route("/hospitals/<org_id>/visits")
class Visits(MethodView):
    @org_role("hospital", *_HOSPITAL_STAFF)
    @blp.arguments(MedicalVisitQuerySchema, location="query")
    @blp.response(200, page_schema(MedicalVisitSummarySchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """This hospital's visits, newest first (``status=open``: the ones still taking charges)"""
        return medical.hospital_visits(session=get_session(), hospital_id=org_id, **query)

    @org_role("hospital", "clinician")
    @idempotent
    @blp.arguments(ResidentCodeSchema)
    @blp.response(201, MedicalVisitSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Open a treat-first visit with the patient's code (consumes the code)"""
        return medical.open_visit(session=get_session(), settings=settings(), redis=get_redis(),
                                  actor=current_actor(), hospital_id=org_id, code=data["code"])


@blp.route("/hospitals/<org_id>/visits/<visit_id>")
class Visit(MethodView):
    @org_role("hospital", *_HOSPITAL_STAFF)
    @blp.response(200, MedicalVisitSchema)
    def get(self, org_id: str, visit_id: str) -> Any:
        """A visit with its charges and bill"""
        return medical.get_visit(session=get_session(), settings=settings(), actor=current_actor(),
                                 hospital_id=org_id, visit_id=visit_id)


@blp.route("/hospitals/<org_id>/visits/<visit_id>/charges")
class Charges(MethodView):
    @org_role("hospital", "billing")
    @idempotent
    @blp.arguments(MedicalChargeCreateSchema)
    @blp.response(201, MedicalChargeSchema)
    def post(self, data: dict[str, Any], org_id: str, visit_id: str) -> Any:
        """Post a charge within the patient's line across all hospitals (409 credit_line_exceeded)"""
        return medical.add_charge(session=get_session(), settings=settings(), actor=current_actor(),
                                  hospital_id=org_id, visit_id=visit_id, **data)


@blp.route("/hospitals/<org_id>/visits/<visit_id>/settle")
class Settle(MethodView):
    @org_role("hospital", "billing")
    @idempotent
    @blp.response(201, MedicalBillSchema)
    def post(self, org_id: str, visit_id: str) -> Any:
        """Settle the visit into a bill due after the repayment window"""
        return medical.settle_visit(session=get_session(), settings=settings(), hospital_id=org_id,
                                    visit_id=visit_id)


@blp.route("/hospitals/<org_id>/bills")
class HospitalBills(MethodView):
    @org_role("hospital", "billing", "admin")
    @blp.arguments(MedicalBillQuerySchema, location="query")
    @blp.response(200, page_schema(HospitalMedicalBillSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """The hospital's bills, newest first (`status`: open/overdue/paid)"""
        return medical.hospital_bills(session=get_session(), hospital_id=org_id, **query)


@blp.route("/hospitals/<org_id>/bills/<bill_id>")
class HospitalBill(MethodView):
    @org_role("hospital", "billing", "admin")
    @blp.response(200, HospitalMedicalBillSchema)
    def get(self, org_id: str, bill_id: str) -> Any:
        """One bill"""
        return medical.get_bill(session=get_session(), hospital_id=org_id, bill_id=bill_id)


@blp.route("/hospitals/<org_id>/bills/<bill_id>/payments")
class Payments(MethodView):
    @org_role("hospital", "billing")
    @idempotent
    @blp.arguments(MedicalPaymentCreateSchema)
    @blp.response(201, MedicalPaymentSchema)
    def post(self, data: dict[str, Any], org_id: str, bill_id: str) -> Any:
        """Record a payment (partial allowed; more than is owed: 422 overpayment)"""
        return medical.pay_bill(session=get_session(), actor=current_actor(), hospital_id=org_id,
                                bill_id=bill_id, **data)


@blp.route("/me/medical/bills")
class MyBills(MethodView):
    @verified_required
    @blp.arguments(MedicalBillQuerySchema, location="query")
    @blp.response(200, page_schema(MedicalBillSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """My treat-first bills at every hospital, newest first"""
        return medical.my_bills(session=get_session(), person_id=current_actor().person_id or "", **query)

