"""Awards and deductions: a clerk submits, another person approves (posting once) or rejects; reversal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.db import rowcount, utcnow
from backend.errors import AppError, Conflict, Invalid, NotFound
from backend.identity.ids import mask_name
from backend.identity.models import Person
from backend.pagination import Page, paginate
from points import ledger
from points.models import PointsAccount, PointsAward, PointsRule
from points.service.common import post, rating_changed, resident_account, system_account, village


def _rule(session: Session, org_id: str, code: str) -> PointsRule:
    rule = session.scalars(select(PointsRule).where(PointsRule.org_id == org_id, PointsRule.code == code)).one_or_none()
    if rule is None:
        raise NotFound("rule_not_found")
    if not rule.active:
        raise Conflict("rule_inactive")
    return rule


def _used(session: Session, rule: PointsRule, account_id: str) -> int:
    """Approved (not reversed) awards of this rule for this resident in the current period."""
    assert rule.period is not None
    start, end = ledger.period_bounds(rule.period, utcnow())
    return session.scalar(select(func.count()).select_from(PointsAward).where(
        PointsAward.account_id == account_id, PointsAward.rule_id == rule.id, PointsAward.status == "approved",
        PointsAward.approved_at >= start, PointsAward.approved_at < end)) or 0


def _check_limit(session: Session, rule: PointsRule, account_id: str) -> None:
    if rule.limit_per_period is not None and not ledger.within_limit(_used(session, rule, account_id),
                                                                    rule.limit_per_period):
        raise Conflict("rule_limit_reached")


def _submit_one(session: Session, actor: Actor, org_id: str, item: dict[str, Any]) -> PointsAward:
    account = resident_account(session, org_id, item["resident_id"])
    rule = _rule(session, org_id, item["rule_code"])
    evidence = list(item.get("evidence") or [])
    if rule.evidence_required and not evidence:
        raise Invalid("evidence_required")
    _check_limit(session, rule, account.id)
    assert account.person_id is not None
    award = PointsAward(org_id=org_id, account_id=account.id, person_id=account.person_id, rule_id=rule.id,
                        rule_code=rule.code, points=rule.points, note=item.get("note"), evidence=evidence,
                        status="pending", submitted_by=actor.account_id)
    session.add(award)
    session.flush()
    return award


def submit_awards(*, session: Session, actor: Actor, org_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Submit a batch; one bad item never rejects the others (per-item ``{error: {code}}``)."""
    village(session, org_id)
    results: list[dict[str, Any]] = []
    for item in items:
        try:
            with session.begin_nested():
                award = _submit_one(session, actor, org_id, item)
            results.append({"id": award.id, "resident_id": award.account_id, "rule_code": award.rule_code,
                            "points": award.points, "status": award.status})
        except AppError as exc:
            results.append({"error": {"code": exc.code, "status": exc.status},
                            "resident_id": item.get("resident_id"), "rule_code": item.get("rule_code")})
    session.commit()
    return {"items": results}


def _award(session: Session, org_id: str, award_id: str) -> PointsAward:
    award = session.get(PointsAward, award_id)
    if award is None or award.org_id != org_id:
        raise NotFound("award_not_found")
    return award


def _independent(award: PointsAward, actor: Actor) -> None:
    """Four eyes: whoever decides an award (approve, reject, reverse) neither submitted it nor receives it."""
    if award.submitted_by == actor.account_id or (actor.person_id is not None and award.person_id == actor.person_id):
        raise Conflict("same_person")


def approve(*, session: Session, actor: Actor, org_id: str, award_id: str) -> AwardView:
    """Approve and post exactly once, however often (or from however many devices) it is clicked.

    The resident's account row is locked first (``FOR UPDATE``; SQLite's
    BEGIN IMMEDIATE serialises anyway), so two approvals of different awards
    for the same resident and rule see each other and the period limit holds.
    The pending -> approved UPDATE is conditional: only its winner posts. It posts the points the
    award was submitted with (a rule repriced meanwhile changes later awards); a rule retired
    meanwhile posts nothing (409 ``rule_inactive``: the approver rejects the award).
    """
    award = _award(session, org_id, award_id)
    _independent(award, actor)
    if award.status == "approved":
        return _view(session, award)
    if award.status != "pending":
        raise Conflict("award_not_pending")
    resident = resident_account(session, org_id, award.account_id, lock=True)
    rule = session.get(PointsRule, award.rule_id)
    assert rule is not None
    if not rule.active:  # the committee withdrew the rule after the award was submitted: reject it instead
        raise Conflict("rule_inactive")
    now = utcnow()
    won = rowcount(session, update(PointsAward).where(PointsAward.id == award.id, PointsAward.status == "pending")
                   .values(status="approved", decided_by=actor.account_id, decided_at=now, approved_at=now))
    if not won:
        session.refresh(award)
        if award.status == "approved":
            return _view(session, award)
        raise Conflict("award_not_pending")
    # the winner's own row now counts among the approved ones: the limit allows `limit` of them
    if rule.limit_per_period is not None and _used(session, rule, resident.id) > rule.limit_per_period:
        raise Conflict("rule_limit_reached")
    issuance = system_account(session, org_id, "issuance")
    legs = ledger.award_legs(issuance=issuance.id, resident=resident.id, points=award.points)
    tx = post(session, org_id=org_id, kind=ledger.AWARD, memo=f"{rule.name}（{rule.code}）", legs=legs,
              created_by=actor.account_id, rating_delta={resident.id: award.points})
    rowcount(session, update(PointsAward).where(PointsAward.id == award.id).values(transaction_id=tx.id))
    rating_changed(session, award.person_id)
    session.flush()
    session.refresh(award)
    view = _view(session, award)
    session.commit()
    return view


def reject(*, session: Session, actor: Actor, org_id: str, award_id: str, note: str | None = None) -> AwardView:
    award = _award(session, org_id, award_id)
    _independent(award, actor)
    won = rowcount(session, update(PointsAward).where(PointsAward.id == award.id, PointsAward.status == "pending")
                   .values(status="rejected", decided_by=actor.account_id, decided_at=utcnow(), decision_note=note))
    if not won:
        session.refresh(award)
        if award.status == "rejected":
            return _view(session, award)
        raise Conflict("award_not_pending")
    session.flush()
    session.refresh(award)
    view = _view(session, award)
    session.commit()
    return view


def reverse(*, session: Session, actor: Actor, org_id: str, award_id: str, reason: str) -> AwardView:
    """Undo an approved award with a compensating transaction (entries are never changed)."""
    award = _award(session, org_id, award_id)
    _independent(award, actor)
    if award.status == "reversed":
        return _view(session, award)
    if award.status != "approved":
        raise Conflict("award_not_approved")
    resident = resident_account(session, org_id, award.account_id, lock=True)
    won = rowcount(session, update(PointsAward).where(PointsAward.id == award.id, PointsAward.status == "approved")
                   .values(status="reversed", reversed_by=actor.account_id, reversed_at=utcnow(),
                           reversal_reason=reason))
    if not won:
        session.refresh(award)
        if award.status == "reversed":
            return _view(session, award)
        raise Conflict("award_not_approved")
    issuance = system_account(session, org_id, "issuance")
    legs = ledger.reversal_legs(issuance=issuance.id, resident=resident.id, points=award.points)
    tx = post(session, org_id=org_id, kind=ledger.REVERSAL, memo=f"撤销：{reason}", legs=legs,
              created_by=actor.account_id, rating_delta={resident.id: -award.points})
    rowcount(session, update(PointsAward).where(PointsAward.id == award.id).values(reversal_transaction_id=tx.id))
    rating_changed(session, award.person_id)
    session.flush()
    session.refresh(award)
    view = _view(session, award)
    session.commit()
    return view


@dataclass
class AwardView:
    id: str
    resident_id: str
    resident_name_masked: str
    rule_code: str
    points: int
    note: str | None
    evidence: list[Any]
    status: str
    submitted_by: str | None
    decided_by: str | None
    created_at: object
    decided_at: object | None
    reversal_reason: str | None
    decision_note: str | None


def _views(session: Session, awards: list[PointsAward], *, public: bool) -> list[AwardView]:
    names = dict(session.execute(select(Person.id, Person.name).where(
        Person.id.in_([a.person_id for a in awards]))).tuples().all())
    return [
        AwardView(id=a.id, resident_id=a.account_id, resident_name_masked=mask_name(names.get(a.person_id)),
                  rule_code=a.rule_code, points=a.points, note=None if public else a.note,  # free text: staff only
                  evidence=[] if public else a.evidence,
                  status=a.status, submitted_by=None if public else a.submitted_by,
                  decided_by=None if public else a.decided_by, created_at=a.created_at, decided_at=a.decided_at,
                  reversal_reason=a.reversal_reason, decision_note=None if public else a.decision_note)
        for a in awards
    ]


def list_awards(*, session: Session, org_id: str, status: str | None, resident_id: str | None, staff: bool,
                limit: int, cursor: str | None) -> Page:
    """Staff see every award; residents only the approved ones (公示), without evidence or staff ids."""
    if not staff:
        if status not in (None, "approved"):
            from backend.errors import Forbidden

            raise Forbidden("forbidden_role", required=["admin", "clerk", "approver", "cashier"])
        status = "approved"
    stmt = select(PointsAward).where(PointsAward.org_id == org_id)
    if status:
        stmt = stmt.where(PointsAward.status == status)
    if resident_id:
        stmt = stmt.where(PointsAward.account_id == resident_id)
    page = paginate(session, stmt, PointsAward.id, limit=limit, cursor=cursor)
    page.items = _views(session, page.items, public=not staff)
    return page


def _view(session: Session, award: PointsAward) -> AwardView:
    return _views(session, [award], public=False)[0]


def get_award(*, session: Session, org_id: str, award_id: str) -> AwardView:
    return _views(session, [_award(session, org_id, award_id)], public=False)[0]


def resident_accounts_of(session: Session, person_id: str) -> list[PointsAccount]:
    return list(session.scalars(select(PointsAccount).where(PointsAccount.person_id == person_id)))
