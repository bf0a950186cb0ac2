"""厚德积分 endpoints: rules, residents, awards (公示), my points, leaderboard, store and redemptions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g
from flask.views import MethodView

from backend.errors import NotFound
from backend.http import (
    PageQuerySchema,
    current_actor,
    get_redis,
    get_session,
    idempotent,
    make_blueprint,
    org_role,
    page_schema,
    settings,
    verified_required,
)
from backend.identity import service as identity_service
from points import service
from points.schemas import (
    AwardBatchResultSchema,
    AwardBatchSchema,
    AwardListQuerySchema,
    AwardSchema,
    EntryQuerySchema,
    EntrySchema,
    LeaderboardQuerySchema,
    LeaderboardSchema,
    MyPointsSchema,
    ReasonSchema,
    RedemptionCreateSchema,
    RedemptionSchema,
    RejectSchema,
    ResidentCreateSchema,
    ResidentSchema,
    RuleCreateSchema,
    RuleListQuerySchema,
    RuleListSchema,
    RuleSchema,
    RuleUpdateSchema,
    SaleQuerySchema,
    SaleSchema,
    StarThresholdsSchema,
    StoreItemCreateSchema,
    StoreItemListSchema,
    StoreItemSchema,
    StoreItemUpdateSchema,
)

blp = make_blueprint("points", __name__, "厚德积分: village points rules, awards, store and leaderboard")

VILLAGE = ("village", "community")
STAFF = ("admin", "clerk", "approver", "cashier")
F = TypeVar("F", bound=Callable[..., Any])


def village_member(func: F) -> F:
    """Staff of the village (any role) or a resident on its points roll; anyone else gets 404."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        org_id = kwargs.get("org_id", "")
        actor = current_actor(org_id)
        session = get_session()
        kind, roles = identity_service.org_kind_and_roles(session=session, actor=actor, org_id=org_id)
        if kind not in VILLAGE:
            raise NotFound("org_not_found")
        if roles & set(STAFF) or actor.is_admin:
            g.points_staff = True
        elif service.is_resident(session=session, org_id=org_id, person_id=actor.person_id):
            g.points_staff = False
        else:
            raise NotFound("org_not_found")
        return func(*args, **kwargs)

    doc = dict(getattr(wrapper, "_apidoc", {}))
    manual = dict(doc.get("manual_doc", {}))
    manual["security"] = [{"bearerAuth": []}]
    doc["manual_doc"] = manual
    wrapper._apidoc = doc  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


class AwardPageQuerySchema(PageQuerySchema, AwardListQuerySchema):
    pass


class EntryPageQuerySchema(PageQuerySchema, EntryQuerySchema):
    pass


# --------------------------------------------------------------------------- rules


@blp.route("/villages/<org_id>/rules")
class Rules(MethodView):
    @village_member
    @blp.arguments(RuleListQuerySchema, location="query")
    @blp.response(200, RuleListSchema)
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """The village's points rules (村规民约)"""
        return {"items": service.list_rules(session=get_session(), org_id=org_id, **query), "next_cursor": None}

    @org_role(VILLAGE, "admin")
    @blp.arguments(RuleCreateSchema)
    @blp.response(201, RuleSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Add a points rule (village admin)"""
        return service.create_rule(session=get_session(), org_id=org_id, **data)


@blp.route("/villages/<org_id>/rules/<code>")
class Rule(MethodView):
    @org_role(VILLAGE, "admin")
    @blp.arguments(RuleUpdateSchema)
    @blp.response(200, RuleSchema)
    def patch(self, data: dict[str, Any], org_id: str, code: str) -> Any:
        """Change or retire a points rule (village admin)"""
        return service.update_rule(session=get_session(), org_id=org_id, code=code, **data)


# --------------------------------------------------------------------------- residents and stars


@blp.route("/villages/<org_id>/residents")
class Residents(MethodView):
    @org_role(VILLAGE, "admin", "clerk")
    @blp.arguments(ResidentCreateSchema)
    @blp.response(201, ResidentSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Add a verified resident (by phone) to the points roll; opens the account"""
        return service.add_resident(session=get_session(), settings=settings(), actor=current_actor(),
                                    org_id=org_id, **data)

    @org_role(VILLAGE, *STAFF)
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(ResidentSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """The points roll with balances, ratings and stars (village staff)"""
        return service.list_residents(session=get_session(), settings=settings(), org_id=org_id, **query)


@blp.route("/villages/<org_id>/star-thresholds")
class StarThresholds(MethodView):
    @village_member
    @blp.response(200, StarThresholdsSchema)
    def get(self, org_id: str) -> Any:
        """Rating thresholds of 1★ to 5★ (信用户)"""
        return service.get_thresholds(session=get_session(), settings=settings(), org_id=org_id)

    @org_role(VILLAGE, "admin")
    @blp.arguments(StarThresholdsSchema)
    @blp.response(200, StarThresholdsSchema)
    def put(self, data: dict[str, Any], org_id: str) -> Any:
        """Set the village's star thresholds (village admin)"""
        return service.set_thresholds(session=get_session(), org_id=org_id, **data)


# --------------------------------------------------------------------------- awards


@blp.route("/villages/<org_id>/awards")
class Awards(MethodView):
    @org_role(VILLAGE, "clerk")
    @idempotent
    @blp.arguments(AwardBatchSchema)
    @blp.response(201, AwardBatchResultSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Submit awards or deductions (one or many; per-item results); a retried batch with its
        Idempotency-Key gets the first answer instead of a second set of awards"""
        return service.submit_awards(session=get_session(), actor=current_actor(), org_id=org_id, **data)

    @village_member
    @blp.arguments(AwardPageQuerySchema, location="query")
    @blp.response(200, page_schema(AwardSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """Awards: all for staff; the approved ones (公示) for residents"""
        return service.list_awards(session=get_session(), org_id=org_id, staff=g.points_staff, **query)


@blp.route("/villages/<org_id>/awards/<award_id>")
class Award(MethodView):
    @org_role(VILLAGE, *STAFF)
    @blp.response(200, AwardSchema)
    def get(self, org_id: str, award_id: str) -> Any:
        """One award with its evidence (village staff)"""
        return service.get_award(session=get_session(), org_id=org_id, award_id=award_id)


@blp.route("/villages/<org_id>/awards/<award_id>/approve")
class ApproveAward(MethodView):
    @org_role(VILLAGE, "approver")
    @blp.response(200, AwardSchema)
    def post(self, org_id: str, award_id: str) -> Any:
        """Approve an award and post it (exactly once, however often clicked)"""
        return service.approve(session=get_session(), actor=current_actor(), org_id=org_id, award_id=award_id)


@blp.route("/villages/<org_id>/awards/<award_id>/reject")
class RejectAward(MethodView):
    @org_role(VILLAGE, "approver")
    @blp.arguments(RejectSchema)
    @blp.response(200, AwardSchema)
    def post(self, data: dict[str, Any], org_id: str, award_id: str) -> Any:
        """Reject a pending award"""
        return service.reject(session=get_session(), actor=current_actor(), org_id=org_id, award_id=award_id,
                              **data)


@blp.route("/villages/<org_id>/awards/<award_id>/reverse")
class ReverseAward(MethodView):
    @org_role(VILLAGE, "approver")
    @idempotent
    @blp.arguments(ReasonSchema)
    @blp.response(200, AwardSchema)
    def post(self, data: dict[str, Any], org_id: str, award_id: str) -> Any:
        """Reverse an approved award with a reason (compensating transaction)"""
        return service.reverse(session=get_session(), actor=current_actor(), org_id=org_id, award_id=award_id,
                               **data)


# --------------------------------------------------------------------------- me and leaderboard


@blp.route("/me/points")
class MyPoints(MethodView):
    @verified_required
    @blp.response(200, MyPointsSchema)
    def get(self) -> Any:
        """My points per village: balance, rating, stars"""
        return service.my_points(session=get_session(), settings=settings(), person_id=current_actor().person_id or "")


@blp.route("/me/points/entries")
class MyEntries(MethodView):
    @verified_required
    @blp.arguments(EntryPageQuerySchema, location="query")
    @blp.response(200, page_schema(EntrySchema))
    def get(self, query: dict[str, Any]) -> Any:
        """My ledger lines, newest first"""
        return service.my_entries(session=get_session(), person_id=current_actor().person_id or "", **query)


@blp.route("/villages/<org_id>/leaderboard")
class Leaderboard(MethodView):
    @village_member
    @blp.arguments(LeaderboardQuerySchema, location="query")
    @blp.response(200, LeaderboardSchema)
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """Residents by rating earned in a month (``period=YYYY-MM``, Asia/Shanghai)"""
        return service.leaderboard(session=get_session(), settings=settings(), org_id=org_id, **query)


# --------------------------------------------------------------------------- store


@blp.route("/villages/<org_id>/store-items")
class StoreItems(MethodView):
    @village_member
    @blp.arguments(RuleListQuerySchema, location="query")
    @blp.response(200, StoreItemListSchema)
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """Items of the points store (积分超市); retired ones too with ?include_inactive=true"""
        return {"items": service.list_items(session=get_session(), org_id=org_id, **query), "next_cursor": None}

    @org_role(VILLAGE, "admin")
    @blp.arguments(StoreItemCreateSchema)
    @blp.response(201, StoreItemSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Add a store item (village admin)"""
        return service.create_item(session=get_session(), org_id=org_id, **data)


@blp.route("/villages/<org_id>/store-items/<item_id>")
class StoreItemResource(MethodView):
    @org_role(VILLAGE, "admin")
    @blp.arguments(StoreItemUpdateSchema)
    @blp.response(200, StoreItemSchema)
    def patch(self, data: dict[str, Any], org_id: str, item_id: str) -> Any:
        """Rename, reprice, restock or retire a store item (village admin)"""
        return service.update_item(session=get_session(), org_id=org_id, item_id=item_id, **data)


@blp.route("/villages/<org_id>/store-redemptions")
class StoreRedemptions(MethodView):
    @org_role(VILLAGE, "admin", "cashier")
    @blp.arguments(SaleQuerySchema, location="query")
    @blp.response(200, page_schema(SaleSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """The store's sales of a range of days (?from=&to=, Asia/Shanghai; default the last 30), newest first"""
        return service.list_sales(session=get_session(), org_id=org_id, **query)

    @org_role(VILLAGE, "cashier")
    @idempotent
    @blp.arguments(RedemptionCreateSchema)
    @blp.response(201, RedemptionSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Redeem an item for the resident showing a one-time code (the code is used up even if this fails)"""
        return service.redeem(session=get_session(), redis=get_redis(), actor=current_actor(), org_id=org_id,
                              **data)


@blp.route("/villages/<org_id>/store-redemptions/<sale_id>/void")
class VoidStoreRedemption(MethodView):
    @org_role(VILLAGE, "admin")
    @idempotent
    @blp.arguments(ReasonSchema)
    @blp.response(200, SaleSchema)
    def post(self, data: dict[str, Any], org_id: str, sale_id: str) -> Any:
        """Void a sale within 24 h because the goods came back (village admin): the points are refunded, the stock returns"""
        return service.void_sale(session=get_session(), settings=settings(), actor=current_actor(), org_id=org_id,
                                 sale_id=sale_id, **data)
