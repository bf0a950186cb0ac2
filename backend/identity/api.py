"""Me, real-name verification, organisations, memberships and enterprise claims."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from backend.http import (
    PageQuerySchema,
    admin_required,
    current_actor,
    get_session,
    login_required,
    make_blueprint,
    org_role,
    page_schema,
    settings,
    token_required,
    token_subject,
)
from backend.identity import service
from backend.identity.models import ORG_KINDS
from backend.identity.schemas import (
    ClaimListQuerySchema,
    CounterClaimSchema,
    DecisionSchema,
    EnterpriseClaimCreateSchema,
    EnterpriseClaimSchema,
    MemberCreateSchema,
    MemberListSchema,
    MemberSchema,
    MeSchema,
    OrgCreateSchema,
    OrgListQuerySchema,
    OrgSchema,
    RealNameClaimSchema,
    RealNameSchema,
)

blp = make_blueprint("identity", __name__, "Me, real-name identity and organisations")


class ClaimPageQuerySchema(PageQuerySchema, ClaimListQuerySchema):
    pass


class OrgPageQuerySchema(PageQuerySchema, OrgListQuerySchema):
    pass


@blp.route("/me")
class Me(MethodView):
    @token_required  # profile() is the account read, and refuses a missing or disabled account
    @blp.response(200, MeSchema)
    def get(self) -> Any:
        """My account, masked identity and memberships"""
        return service.profile(session=get_session(), account_id=token_subject())


@blp.route("/me/real-name")
class RealName(MethodView):
    @login_required
    @blp.arguments(RealNameSchema)
    @blp.response(201, RealNameClaimSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Claim a real-name identity (approved at once in development, at a service counter in production)"""
        return service.submit_real_name(session=get_session(), settings=settings(), actor=current_actor(), **data)


@blp.route("/departments/<org_id>/real-name-claims")
class CounterClaims(MethodView):
    @org_role("department", "officer")
    @blp.arguments(ClaimPageQuerySchema, location="query")
    @blp.response(200, page_schema(CounterClaimSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """Real-name claims waiting at the service counter"""
        return service.list_real_name_claims(session=get_session(), **query)


@blp.route("/departments/<org_id>/real-name-claims/<claim_id>/decision")
class CounterDecision(MethodView):
    @org_role("department", "officer")
    @blp.arguments(DecisionSchema)
    @blp.response(200, RealNameClaimSchema)
    def post(self, data: dict[str, Any], org_id: str, claim_id: str) -> Any:
        """Confirm or reject a real-name claim after checking the person's card in person"""
        return service.decide_real_name_claim(session=get_session(), actor=current_actor(), claim_id=claim_id, **data)


@blp.route("/orgs")
class Orgs(MethodView):
    @admin_required
    @blp.arguments(OrgCreateSchema)
    @blp.response(201, OrgSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register an organisation (platform admin)"""
        return service.create_org(session=get_session(), **data)

    @admin_required
    @blp.arguments(OrgPageQuerySchema, location="query")
    @blp.response(200, page_schema(OrgSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """List organisations (platform admin)"""
        return service.list_orgs(session=get_session(), **query)


_ALL_ROLES = ("admin", "clerk", "approver", "cashier", "clinician", "billing", "officer", "signer")


@blp.route("/orgs/<org_id>")
class Org(MethodView):
    @org_role(ORG_KINDS, *_ALL_ROLES, allow_admin=True)
    @blp.response(200, OrgSchema)
    def get(self, org_id: str) -> Any:
        """An organisation (its members and platform admins)"""
        return service.get_org(session=get_session(), org_id=org_id)


@blp.route("/orgs/<org_id>/members")
class Members(MethodView):
    @org_role(ORG_KINDS, "admin", allow_admin=True)
    @blp.response(200, MemberListSchema)
    def get(self, org_id: str) -> Any:
        """Members and their roles"""
        return {"items": service.list_members(session=get_session(), org_id=org_id)}

    @org_role(ORG_KINDS, "admin", allow_admin=True)
    @blp.arguments(MemberCreateSchema)
    @blp.response(201, MemberSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Give an account (by phone) roles in this organisation"""
        return service.add_member(session=get_session(), org_id=org_id, **data)


@blp.route("/orgs/<org_id>/members/<account_id>")
class MemberResource(MethodView):
    @org_role(ORG_KINDS, "admin", allow_admin=True)
    @blp.response(204)
    def delete(self, org_id: str, account_id: str) -> None:
        """Remove a member (all roles)"""
        service.remove_member(session=get_session(), org_id=org_id, account_id=account_id)


@blp.route("/enterprises/claims")
class EnterpriseClaims(MethodView):
    @login_required
    @blp.arguments(EnterpriseClaimCreateSchema)
    @blp.response(201, EnterpriseClaimSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Claim to act for an enterprise (by its credit code); a platform admin confirms"""
        return service.claim_enterprise(session=get_session(), actor=current_actor(), **data)

    @login_required
    @blp.arguments(ClaimPageQuerySchema, location="query")
    @blp.response(200, page_schema(EnterpriseClaimSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """Enterprise claims: all for platform admins, one's own otherwise"""
        return service.list_enterprise_claims(session=get_session(), actor=current_actor(), **query)


@blp.route("/enterprises/claims/<claim_id>/decision")
class EnterpriseClaimDecision(MethodView):
    @admin_required
    @blp.arguments(DecisionSchema)
    @blp.response(200, EnterpriseClaimSchema)
    def post(self, data: dict[str, Any], claim_id: str) -> Any:
        """Approve (the claimant becomes the enterprise's admin) or reject a claim"""
        return service.decide_enterprise_claim(session=get_session(), actor=current_actor(), claim_id=claim_id, **data)
