"""HTTP endpoints of credit: categories, department batches, my credit, objections, repairs,
enterprise grades and score model versions."""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from flask.views import MethodView

from backend.credit import service
from backend.credit.schemas import (
    BatchResultSchema,
    BatchSchema,
    CategoryListSchema,
    CreditSchema,
    DepartmentRecordQuerySchema,
    EnterpriseCreditSchema,
    EnterpriseGradeSchema,
    EnterpriseQuerySchema,
    InspectionDrawCreateSchema,
    InspectionDrawDetailSchema,
    InspectionDrawSchema,
    MyRecordQuerySchema,
    ObjectionCreateSchema,
    ObjectionDecisionSchema,
    ObjectionQuerySchema,
    ObjectionSchema,
    QuerySchema,
    RecordSchema,
    RepairCreateSchema,
    RepairDecisionSchema,
    RepairQuerySchema,
    RepairSchema,
    ScoreModelCreateSchema,
    ScoreModelListSchema,
    ScoreModelSchema,
    SnapshotSchema,
)
from backend.credit.service import inspections
from backend.error_handlers import request_language
from backend.http import (
    PageQuerySchema,
    admin_required,
    current_actor,
    get_session,
    idempotent,
    login_required,
    make_blueprint,
    org_role,
    page_schema,
    settings,
    token_required,
    token_subject,
    verified_required,
)

blp = make_blueprint("credit", __name__, "Personal and enterprise credit: records, scores, objections, repairs")


@blp.route("/credit/categories")
class Categories(MethodView):
    @blp.response(200, CategoryListSchema)
    def get(self) -> Any:
        """Credit record categories with polarity, severities and publicity periods"""
        return {"items": service.list_categories(session=get_session())}


@blp.route("/credit/models")
class ScoreModels(MethodView):
    @admin_required
    @blp.response(200, ScoreModelListSchema)
    def get(self) -> Any:
        """Score model versions (platform admin)"""
        return {"items": service.list_models(session=get_session())}

    @admin_required
    @blp.arguments(ScoreModelCreateSchema)
    @blp.response(201, ScoreModelSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a score model version (inactive until activated)"""
        return service.create_model(session=get_session(), **data)


@blp.route("/credit/models/<version>/activate")
class ActivateModel(MethodView):
    @admin_required
    @blp.response(200, ScoreModelSchema)
    def post(self, version: str) -> Any:
        """Activate a score model version; every subject of its kind is rescored with it"""
        return service.activate_model(session=get_session(), version=version)


@blp.route("/departments/<org_id>/records:batch")
class RecordBatch(MethodView):
    @org_role("department", "officer")
    @idempotent
    @blp.arguments(BatchSchema)
    @blp.response(200, BatchResultSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Ingest up to 1,000 records; per item created / duplicate / error"""
        results = service.ingest_batch(session=get_session(), settings=settings(), actor=current_actor(),
                                       org_id=org_id,
                                       records=data["records"])
        items = [{"source_ref": r.source_ref, "result": r.result, "id": r.id, "error": r.error} for r in results]
        body = {"items": items, **{k: sum(1 for r in results if r.result == k) for k in ("created", "duplicate", "error")}}
        # 1,000 items: JSON written directly in BatchResultSchema's shape (checked by the tests) instead
        # of a marshmallow dump per item.
        return Response(json.dumps(body, ensure_ascii=False), status=200, mimetype="application/json")


@blp.route("/departments/<org_id>/records")
class DepartmentRecords(MethodView):
    @org_role("department", "officer", "admin")
    @blp.arguments(DepartmentRecordQuerySchema, location="query")
    @blp.response(200, page_schema(RecordSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """Records this department supplied (filters: subject, category, status)"""
        return service.department_records(session=get_session(), settings=settings(), actor=current_actor(),
                                          org_id=org_id, lang=request_language(), **query)


@blp.route("/me/credit")
class MyCredit(MethodView):
    @token_required  # my_credit's one statement is the account read: 401/403 as verified_required
    @blp.response(200, CreditSchema)
    def get(self) -> Any:
        """My score, level, dimensions and up to four reasons (the stored snapshot)"""
        body = service.my_credit(session=get_session(), account_id=token_subject(), lang=request_language())
        # Hot path: one read, then JSON written directly (the body is CreditSchema's shape,
        # checked by the tests) instead of a marshmallow dump per request.
        body["as_of"] = body["as_of"].isoformat()
        return Response(json.dumps(body, ensure_ascii=False), status=200, mimetype="application/json")


@blp.route("/me/credit/records")
class MyRecords(MethodView):
    @verified_required
    @blp.arguments(MyRecordQuerySchema, location="query")
    @blp.response(200, page_schema(RecordSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """My credit records with status and publicity end"""
        return service.subject_records(session=get_session(), subject_id=current_actor().person_id,
                                       lang=request_language(), **query)


@blp.route("/me/credit/history")
class MyHistory(MethodView):
    @verified_required
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(SnapshotSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """My score snapshots with what changed"""
        return service.my_history(session=get_session(), actor=current_actor(), lang=request_language(), **query)


@blp.route("/me/credit/queries")
class MyQueries(MethodView):
    @verified_required
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(QuerySchema))
    def get(self, query: dict[str, Any]) -> Any:
        """Which organisation looked at my credit, when and why"""
        return service.my_queries(session=get_session(), actor=current_actor(), **query)


@blp.route("/me/credit/objections")
class MyObjections(MethodView):
    @verified_required
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(ObjectionSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """My objections and their outcomes"""
        return service.list_subject_objections(session=get_session(), subject_id=current_actor().person_id, **query)

    @verified_required
    @blp.arguments(ObjectionCreateSchema)
    @blp.response(201, ObjectionSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Object to one of my records (marked disputed at once; due in 5 working days)"""
        actor = current_actor()
        return service.file_objection(session=get_session(), settings=settings(), actor=actor,
                                      subject_id=actor.person_id, **data)


@blp.route("/departments/<org_id>/objections")
class DepartmentObjections(MethodView):
    @org_role("department", "officer")
    @blp.arguments(ObjectionQuerySchema, location="query")
    @blp.response(200, page_schema(ObjectionSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """Objections to this department's records (?overdue=true: open and past due, oldest first)"""
        return service.list_department_objections(session=get_session(), org_id=org_id, **query)


@blp.route("/departments/<org_id>/objections/<objection_id>/decision")
class ObjectionDecision(MethodView):
    @org_role("department", "officer")
    @blp.arguments(ObjectionDecisionSchema)
    @blp.response(200, ObjectionSchema)
    def post(self, data: dict[str, Any], org_id: str, objection_id: str) -> Any:
        """Decide an objection: upheld, corrected (with corrections) or revoked"""
        return service.decide_objection(session=get_session(), actor=current_actor(), org_id=org_id,
                                        objection_id=objection_id, **data)


@blp.route("/me/credit/repairs")
class MyRepairs(MethodView):
    @verified_required
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(RepairSchema))
    def get(self, query: dict[str, Any]) -> Any:
        """My repair applications"""
        return service.list_subject_repairs(session=get_session(), subject_id=current_actor().person_id, **query)

    @verified_required
    @blp.arguments(RepairCreateSchema)
    @blp.response(201, RepairSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Apply to repair a general or serious negative record after its minimum publicity period"""
        actor = current_actor()
        return service.apply_repair(session=get_session(), actor=actor, subject_id=actor.person_id, **data)


@blp.route("/departments/<org_id>/repairs")
class DepartmentRepairs(MethodView):
    @org_role("department", "officer")
    @blp.arguments(RepairQuerySchema, location="query")
    @blp.response(200, page_schema(RepairSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """Repair applications for this department's records"""
        return service.list_department_repairs(session=get_session(), org_id=org_id, **query)


@blp.route("/departments/<org_id>/repairs/<repair_id>/decision")
class RepairDecision(MethodView):
    @org_role("department", "officer")
    @blp.arguments(RepairDecisionSchema)
    @blp.response(200, RepairSchema)
    def post(self, data: dict[str, Any], org_id: str, repair_id: str) -> Any:
        """Approve (record repaired) or reject (with a reason) a repair application"""
        return service.decide_repair(session=get_session(), actor=current_actor(), org_id=org_id,
                                     repair_id=repair_id, **data)


@blp.route("/enterprises/<org_id>/credit")
class EnterpriseCredit(MethodView):
    @login_required
    @blp.response(200, EnterpriseCreditSchema)
    def get(self, org_id: str) -> Any:
        """An enterprise's grade A-D (its admin, or a department officer)"""
        return service.enterprise_credit(session=get_session(), actor=current_actor(), org_id=org_id,
                                         lang=request_language())


# An enterprise is a credit subject as a person is (DOMAIN.md): its admin (legal representative) lists
# its records, objects to them and applies to repair them, as a resident does under /me/credit.


@blp.route("/enterprises/<org_id>/credit/records")
class EnterpriseRecords(MethodView):
    @org_role("enterprise", "admin")
    @blp.arguments(MyRecordQuerySchema, location="query")
    @blp.response(200, page_schema(RecordSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """The enterprise's credit records with status and publicity end (its admin)"""
        return service.subject_records(session=get_session(), subject_id=org_id, lang=request_language(), **query)


@blp.route("/enterprises/<org_id>/credit/objections")
class EnterpriseObjections(MethodView):
    @org_role("enterprise", "admin")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(ObjectionSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """The enterprise's objections and their outcomes"""
        return service.list_subject_objections(session=get_session(), subject_id=org_id, **query)

    @org_role("enterprise", "admin")
    @blp.arguments(ObjectionCreateSchema)
    @blp.response(201, ObjectionSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Object to one of the enterprise's records (marked disputed at once; due in 5 working days)"""
        return service.file_objection(session=get_session(), settings=settings(), actor=current_actor(),
                                      subject_id=org_id, **data)


@blp.route("/enterprises/<org_id>/credit/repairs")
class EnterpriseRepairs(MethodView):
    @org_role("enterprise", "admin")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(RepairSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """The enterprise's repair applications"""
        return service.list_subject_repairs(session=get_session(), subject_id=org_id, **query)

    @org_role("enterprise", "admin")
    @blp.arguments(RepairCreateSchema)
    @blp.response(201, RepairSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """Apply to repair one of the enterprise's general or serious negative records"""
        return service.apply_repair(session=get_session(), actor=current_actor(), subject_id=org_id, **data)


@blp.route("/departments/<org_id>/enterprises")
class DepartmentEnterprises(MethodView):
    @org_role("department", "officer")
    @blp.arguments(EnterpriseQuerySchema, location="query")
    @blp.response(200, page_schema(EnterpriseGradeSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """Enterprises by grade for graded supervision (?grade=D)"""
        return service.department_enterprises(session=get_session(), **query)


@blp.route("/departments/<org_id>/inspection-draws")
class InspectionDraws(MethodView):
    @org_role("department", "officer")
    @idempotent
    @blp.arguments(InspectionDrawCreateSchema)
    @blp.response(201, InspectionDrawSchema)
    def post(self, data: dict[str, Any], org_id: str) -> Any:
        """双随机: draw enterprises to inspect, weighted by grade (D most often), and officers for each; recorded with its seed"""
        return inspections.draw_inspections(session=get_session(), settings=settings(), actor=current_actor(),
                                            department_id=org_id, **data)

    @org_role("department", "officer", "admin")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(InspectionDrawSchema))
    def get(self, query: dict[str, Any], org_id: str) -> Any:
        """The department's draws, newest first"""
        return inspections.list_draws(session=get_session(), department_id=org_id, **query)


@blp.route("/departments/<org_id>/inspection-draws/<draw_id>")
class InspectionDrawResource(MethodView):
    @org_role("department", "officer", "admin")
    @blp.response(200, InspectionDrawDetailSchema)
    def get(self, org_id: str, draw_id: str) -> Any:
        """One draw, with its seed and the candidates' digest for checking it"""
        return inspections.get_draw(session=get_session(), department_id=org_id, draw_id=draw_id)
