"""双随机 inspection draws: a department draws the enterprises it inspects, weighted by grade
(分级分类监管: D most often), and the officers who inspect each (see ``backend.credit.inspection``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from backend.credit import inspection
from backend.credit.models import CreditStanding, InspectionDraw
from backend.credit.service import core
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound, register_messages
from backend.identity.models import Membership, Organisation
from backend.pagination import Page, paginate

register_messages(
    {
        "invalid_weights": ("抽查权重无效", "Invalid weights", "weights 须为 A、B、C、D 四个等级各一个 0 至 100 的整数，且不能全为 0。", "Give weights for exactly A, B, C and D, each an integer from 0 to 100, not all 0."),
        "not_enough_inspectors": ("执法人员不足", "Not enough inspectors", "可派往 {org_id} 的执法人员只有 {available} 名，少于每户 {needed} 名。", "Only {available} officers may inspect {org_id}; each target needs {needed}."),
        "inspection_draw_not_found": ("抽查记录不存在", "Draw not found", "本部门没有这次抽查记录。", "This department has no such draw."),
    }
)


@dataclass
class DrawView:
    id: str
    department_id: str
    drawn_by: str
    created_at: Any
    seed: str
    weights: dict[str, int]
    region_code: str | None
    requested: int
    inspectors_per_target: int
    candidates: int
    candidates_digest: str
    targets: list[dict[str, Any]]
    inputs: dict[str, Any] | None = None  # one draw read alone: what it chose from


def _view(session: Session, draw: InspectionDraw, *, with_inputs: bool = False) -> DrawView:
    orgs = {org_id: (name, code) for org_id, name, code in session.execute(
        select(Organisation.id, Organisation.name, Organisation.credit_code).where(
            Organisation.id.in_([t["org_id"] for t in draw.targets]))).tuples()} if draw.targets else {}
    targets = [{**t, "name": orgs.get(t["org_id"], ("", None))[0], "credit_code": orgs.get(t["org_id"], ("", None))[1]}
               for t in draw.targets]
    return DrawView(id=draw.id, department_id=draw.department_id, drawn_by=draw.drawn_by, created_at=draw.created_at,
                    seed=draw.seed, weights=draw.weights, region_code=draw.region_code, requested=draw.requested,
                    inspectors_per_target=draw.inspectors_per_target, candidates=draw.candidates,
                    candidates_digest=draw.candidates_digest, targets=targets,
                    inputs=draw.inputs if with_inputs else None)


def draw_inspections(*, session: Session, settings: Settings, actor: Actor, department_id: str, count: int,
                     weights: dict[str, int] | None = None, region_code: str | None = None,
                     inspectors_per_target: int | None = None) -> DrawView:
    """Draw ``count`` graded enterprises (of a region, by division-code prefix, if given) and
    inspectors for each from the department's officers, and record the draw with its seed.

    Weights default to ``INSPECTION_WEIGHTS``; a grade weighing 0 is never drawn; fewer
    candidates than ``count`` are all drawn. An officer who is a member of an enterprise does
    not inspect it; a target left with too few officers is 409 ``not_enough_inspectors``.
    """
    weights = dict(weights) if weights is not None else inspection.parse_weights(settings.inspection_weights)
    if set(weights) != set(inspection.GRADES) or any(w < 0 for w in weights.values()) or not any(weights.values()):
        raise Invalid("invalid_weights")
    per_target = settings.inspection_inspectors_per_target if inspectors_per_target is None else inspectors_per_target
    enterprises = select(Organisation.id).where(Organisation.kind == "enterprise")
    if region_code:
        enterprises = enterprises.where(Organisation.region_code.startswith(region_code, autoescape=True))
    unscored = list(session.scalars(enterprises.where(~Organisation.id.in_(
        select(CreditStanding.subject_id).where(CreditStanding.subject_kind == core.ENTERPRISE)))))
    if unscored:  # an enterprise no record or read has graded yet is graded now: it is a candidate too
        core.recompute(session=session, subject_ids=unscored, cause="first_read")
    stmt = (select(CreditStanding.subject_id, CreditStanding.level)
            .join(Organisation, Organisation.id == CreditStanding.subject_id)
            .where(CreditStanding.subject_kind == core.ENTERPRISE, CreditStanding.level.in_(inspection.GRADES),
                   Organisation.kind == "enterprise"))
    if region_code:
        stmt = stmt.where(Organisation.region_code.startswith(region_code, autoescape=True))
    candidates = [(org_id, grade) for org_id, grade in session.execute(stmt).tuples()]
    officers = list(session.scalars(select(Membership.account_id).where(
        Membership.org_id == department_id, Membership.role == "officer")))
    conflicts: dict[str, set[str]] = {}
    if officers and candidates:
        for account_id, org_id in session.execute(
                select(Membership.account_id, Membership.org_id).distinct()
                .join(Organisation, Organisation.id == Membership.org_id)
                .where(Membership.account_id.in_(officers), Organisation.kind == "enterprise")).tuples():
            conflicts.setdefault(org_id, set()).add(account_id)
    candidate_ids = {org_id for org_id, _grade in candidates}
    seed = secrets.randbits(64)
    try:
        targets = inspection.draw(candidates=candidates, weights=weights, count=count, officers=officers,
                                  conflicts={k: frozenset(v) for k, v in conflicts.items()},
                                  inspectors_per_target=per_target, seed=seed)
    except inspection.NotEnoughInspectors as exc:
        raise Conflict("not_enough_inspectors", org_id=exc.org_id, available=exc.available,
                       needed=per_target) from exc
    draw = InspectionDraw(department_id=department_id, drawn_by=actor.account_id, seed=str(seed), weights=weights,
                          region_code=region_code or None, requested=count, inspectors_per_target=per_target,
                          candidates=len(candidates), candidates_digest=inspection.candidates_digest(candidates),
                          targets=[{"org_id": t.org_id, "grade": t.grade, "inspectors": list(t.inspectors)}
                                   for t in targets],
                          inputs={"candidates": sorted([org_id, grade] for org_id, grade in candidates),
                                  "officers": sorted(officers),
                                  "conflicts": {org_id: sorted(accounts) for org_id, accounts in sorted(conflicts.items())
                                                if org_id in candidate_ids}},
                          created_at=utcnow())
    session.add(draw)
    session.flush()
    view = _view(session, draw)
    session.commit()
    return view


def list_draws(*, session: Session, department_id: str, limit: int = 20, cursor: str | None = None) -> Page:
    """The department's draws, newest first."""
    page = paginate(session, select(InspectionDraw).where(InspectionDraw.department_id == department_id),
                    InspectionDraw.id, limit=limit, cursor=cursor)
    return Page(items=[_view(session, d) for d in page.items], next_cursor=page.next_cursor)


def get_draw(*, session: Session, department_id: str, draw_id: str) -> DrawView:
    draw = session.get(InspectionDraw, draw_id)
    if draw is None or draw.department_id != department_id:
        raise NotFound("inspection_draw_not_found")
    return _view(session, draw, with_inputs=True)
