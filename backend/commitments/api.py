"""HTTP endpoints of commitments, sealed credit reports and public verification.

``blp`` is mounted under /api/v1; ``root_blp`` (``at_root = True``) serves the key set at
/.well-known/jwks.json and the HTML verification page /v/<public_id> at the site root.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, render_template, request
from flask.views import MethodView

from backend.commitments.schemas import (
    CommitmentBreachSchema,
    CommitmentCreateSchema,
    CommitmentDecisionSchema,
    CommitmentQuerySchema,
    CommitmentSchema,
    CommitmentStatsQuerySchema,
    CommitmentStatsSchema,
    CommitmentUpdateSchema,
    DepartmentCommitmentQuerySchema,
    JwksSchema,
    OfflineCommitmentSchema,
    PublicCommitmentSchema,
    PublicReportSchema,
    ReportCreateSchema,
    ReportSchema,
    SignSchema,
    TemplateCreateSchema,
    TemplateEditSchema,
    TemplateQuerySchema,
    TemplateSchema,
)
from backend.commitments.service import commitments, keys, public, reports, templates
from backend.errors import NotFound
from backend.http import (
    PageQuerySchema,
    current_actor,
    get_session,
    idempotent,
    login_required,
    make_blueprint,
    org_role,
    page_schema,
    settings,
)
from backend.pagination import Page
from backend.ratelimit import limit_route

blp = make_blueprint("commitments", __name__, "Credit commitments and sealed credit reports")
root_blp = make_blueprint("commitments_root", __name__, "Seal keys and the public verification page")
root_blp.at_root = True  # type: ignore[attr-defined]  # backend.app registers it without /api/v1
root_blp.template_folder = "templates"  # backend/commitments/templates/commitments/verify.html


def _commitment(item: Any) -> dict[str, Any]:
    return public.commitment_out(session=get_session(), settings=settings(), items=[item])[0]


def _commitment_page(page: Page) -> dict[str, Any]:
    return {"items": public.commitment_out(session=get_session(), settings=settings(), items=page.items),
            "next_cursor": page.next_cursor}


# --------------------------------------------------------------------------- templates


@blp.route("/departments/<org_id>/commitment-templates")
class Templates(MethodView):
    @blp.arguments(TemplateQuerySchema, location="query")
    @blp.response(200, page_schema(TemplateSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """A department's current commitment templates (anyone)"""
        return templates.list_templates(session=get_session(), department_id=org_id, **query)

    @org_role("department", "officer")
    @blp.arguments(TemplateCreateSchema)
    @blp.response(201, TemplateSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Publish a commitment template: type, title, text with {field} slots, fields, validity days"""
        return templates.create_template(session=get_session(), actor=current_actor(), department_id=org_id, **data)


@blp.route("/departments/<org_id>/commitment-templates/<template_id>")
class TemplateResource(MethodView):
    @blp.response(200, TemplateSchema)
    def get(self, org_id: str, template_id: str) -> Any:
        """One template version (anyone)"""
        return templates.get_template(session=get_session(), template_id=template_id, department_id=org_id)

    @org_role("department", "officer")
    @blp.arguments(TemplateEditSchema)
    @blp.response(201, TemplateSchema)
    def put(self, data: dict[str, Any], org_id: str, template_id: str) -> Any:
        """Edit a template: creates its next version (signed commitments keep theirs)"""
        return templates.edit_template(session=get_session(), actor=current_actor(), department_id=org_id,
                                       template_id=template_id, **data)


# --------------------------------------------------------------------------- drafting and signing


@blp.route("/commitments")
class Commitments(MethodView):
    @login_required
    @blp.arguments(CommitmentCreateSchema)
    @blp.response(201, CommitmentSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Draft a commitment from a template (self, or an enterprise by its admin/signer); returns the exact text"""
        return _commitment(commitments.draft(session=get_session(), actor=current_actor(), **data))


@blp.route("/commitments/<commitment_id>")
class CommitmentResource(MethodView):
    @login_required
    @blp.response(200, CommitmentSchema)
    def get(self, commitment_id: str) -> Any:
        """One of my commitments (drafter or subject)"""
        return _commitment(commitments.get_own(session=get_session(), actor=current_actor(),
                                               commitment_id=commitment_id))

    @login_required
    @blp.arguments(CommitmentUpdateSchema)
    @blp.response(200, CommitmentSchema)
    def patch(self, data: dict[str, Any], commitment_id: str) -> Any:
        """Change the fields of a draft (signed commitments are immutable: 409)"""
        return _commitment(commitments.update_draft(session=get_session(), actor=current_actor(),
                                                    commitment_id=commitment_id, **data))


@blp.route("/commitments/<commitment_id>/sign")
class Sign(MethodView):
    @login_required
    @idempotent
    @blp.arguments(SignSchema)
    @blp.response(200, CommitmentSchema)
    def post(self, data: dict[str, Any], commitment_id: str) -> Any:
        """Sign a draft with the password again: seals it (hash, Ed25519 signature, public id)"""
        return _commitment(commitments.sign(session=get_session(), settings=settings(), actor=current_actor(),
                                            commitment_id=commitment_id, **data))


def _sign_key() -> str:
    token = request.headers.get("Authorization", "")
    return "commitment-sign:" + hashlib.sha256(token.encode()).hexdigest()[:24]


def _failed_reauth(response: Any) -> bool:
    return bool(response.status_code == 401)


limit_route("commitments.Sign", lambda s: s.commitment_sign_limit, key_func=_sign_key, deduct_when=_failed_reauth)
limit_route("commitments.Sign", lambda s: s.login_limit_per_ip, deduct_when=_failed_reauth)


@blp.route("/me/commitments")
class MyCommitments(MethodView):
    @login_required
    @blp.arguments(CommitmentQuerySchema, location="query")
    @blp.response(200, page_schema(CommitmentSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """Commitments I drafted or that bind me"""
        return _commitment_page(commitments.list_mine(session=get_session(), actor=current_actor(), **query))


# --------------------------------------------------------------------------- department side


@blp.route("/departments/<org_id>/commitments")
class DepartmentCommitments(MethodView):
    @org_role("department", "officer")
    @blp.arguments(DepartmentCommitmentQuerySchema, location="query")
    @blp.response(200, page_schema(CommitmentSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """Signed commitments (online and paper) made under this department's templates"""
        return _commitment_page(commitments.list_department(session=get_session(), department_id=org_id, **query))


@blp.route("/departments/<org_id>/commitments:offline")
class OfflineCommitments(MethodView):
    @org_role("department", "officer")
    @blp.arguments(OfflineCommitmentSchema)
    @blp.response(201, CommitmentSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Record a commitment signed on paper (counts as offline; paper_ref unique per department)"""
        return _commitment(commitments.record_offline(session=get_session(), settings=settings(),
                                                      actor=current_actor(), department_id=org_id, **data))


@blp.route("/departments/<org_id>/commitments/stats")
class Stats(MethodView):
    @org_role("department", "officer")
    @blp.arguments(CommitmentStatsQuerySchema, location="query")
    @blp.response(200, CommitmentStatsSchema)
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """Online, offline and paperless share per month (Asia/Shanghai), default the last 12 months"""
        return commitments.stats(session=get_session(), settings=settings(), department_id=org_id, **query)


@blp.route("/departments/<org_id>/commitments/<commitment_id>")
class DepartmentCommitment(MethodView):
    @org_role("department", "officer")
    @blp.response(200, CommitmentSchema)
    def get(self, org_id: str, commitment_id: str) -> Any:
        """One signed commitment of this department"""
        return _commitment(commitments.get_department_commitment(session=get_session(), department_id=org_id,
                                                                 commitment_id=commitment_id))


@blp.route("/departments/<org_id>/commitments/<commitment_id>/fulfil")
class Fulfil(MethodView):
    @org_role("department", "officer")
    @idempotent
    @blp.arguments(CommitmentDecisionSchema)
    @blp.response(200, CommitmentSchema)
    def post(self, data: dict[str, Any], org_id: str, commitment_id: str) -> Any:
        """Mark a signed commitment fulfilled"""
        return _commitment(commitments.decide(session=get_session(), settings=settings(), actor=current_actor(),
                                              department_id=org_id, commitment_id=commitment_id,
                                              outcome="fulfilled", **data))


@blp.route("/departments/<org_id>/commitments/<commitment_id>/breach")
class Breach(MethodView):
    @org_role("department", "officer")
    @idempotent
    @blp.arguments(CommitmentBreachSchema)
    @blp.response(200, CommitmentSchema)
    def post(self, data: dict[str, Any], org_id: str, commitment_id: str) -> Any:
        """Mark a signed commitment breached: writes one negative commitment_breach credit record"""
        return _commitment(commitments.decide(session=get_session(), settings=settings(), actor=current_actor(),
                                              department_id=org_id, commitment_id=commitment_id,
                                              outcome="breached", **data))


# --------------------------------------------------------------------------- credit reports


@blp.route("/me/credit/reports")
class Reports(MethodView):
    @login_required
    @idempotent
    @blp.arguments(ReportCreateSchema)
    @blp.response(201, ReportSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Issue a sealed credit report (专用信用报告) of myself, or of my enterprise (on_behalf_of, admin)"""
        report = reports.issue(session=get_session(), settings=settings(), actor=current_actor(), **data)
        return public.report_out(session=get_session(), settings=settings(), items=[report])[0]

    @login_required
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(ReportSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """Credit reports I issued or that are about me"""
        page = reports.list_mine(session=get_session(), actor=current_actor(), **query)
        return {"items": public.report_out(session=get_session(), settings=settings(), items=page.items),
                "next_cursor": page.next_cursor}


# --------------------------------------------------------------------------- public verification


@blp.route("/public/commitments/<public_id>")
class PublicCommitment(MethodView):
    @blp.response(200, PublicCommitmentSchema)
    def get(self, public_id: str) -> Any:
        """Verify a commitment by its public id (no login): masked subject, seal and `valid`"""
        return public.commitment_view(session=get_session(), settings=settings(), public_id=public_id.upper())


def _png(data: bytes) -> Response:
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@blp.route("/public/commitments/<public_id>/qr.png")
class PublicCommitmentQr(MethodView):
    @blp.response(200, content_type="image/png", description="QR code of the verification URL")
    def get(self, public_id: str) -> Any:
        """QR code (PNG) of the commitment's verification page, to print on paper"""
        return _png(public.qr_png(session=get_session(), settings=settings(), public_id=public_id.upper(),
                                  kind="commitment"))


@blp.route("/public/reports/<public_id>")
class PublicReport(MethodView):
    @blp.response(200, PublicReportSchema)
    def get(self, public_id: str) -> Any:
        """Verify a credit report by its public id (no login)"""
        return public.report_view(session=get_session(), settings=settings(), public_id=public_id.upper())


@blp.route("/public/reports/<public_id>/qr.png")
class PublicReportQr(MethodView):
    @blp.response(200, content_type="image/png", description="QR code of the verification URL")
    def get(self, public_id: str) -> Any:
        """QR code (PNG) of the report's verification page"""
        return _png(public.qr_png(session=get_session(), settings=settings(), public_id=public_id.upper(),
                                  kind="credit_report"))


@root_blp.route("/.well-known/jwks.json")
class Jwks(MethodView):
    @root_blp.response(200, JwksSchema)
    def get(self) -> Any:
        """Ed25519 public keys of the platform seals (JWK set; old keys stay for old seals)"""
        return keys.jwks(session=get_session()), 200, {"Cache-Control": "public, max-age=300"}


@root_blp.route("/v/<public_id>")
class VerifyPage(MethodView):
    @root_blp.response(200, content_type="text/html", description="HTML verification page")
    def get(self, public_id: str) -> Any:
        """Verification page a phone opens from the printed QR code: genuine or not"""
        view = public.page_view(session=get_session(), settings=settings(), public_id=public_id.upper())
        if view is None and request.accept_mimetypes.best_match(["application/json", "text/html"]) != "text/html":
            raise NotFound("seal_not_found")  # API clients get problem+json; browsers the red page below
        html = render_template("commitments/verify.html", view=view, public_id=public_id.upper())
        response = Response(html, status=200 if view is not None else 404, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'"
        return response
