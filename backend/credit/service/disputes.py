"""Objections (异议) and repairs (信用修复): filed by the subject, decided by the source department."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from backend.credit import scoring
from backend.credit.models import CreditObjection, CreditRecord, CreditRepair
from backend.credit.service import core
from backend.db import rowcount, utcnow
from backend.errors import Conflict, Invalid, NotFound, register_messages
from backend.identity import service as identity_service
from backend.pagination import Page, paginate
from backend.text import has_visible

register_messages(
    {
        "objection_open": ("该记录已有待处理的异议", "Objection already open", "同一条记录只能有一个待处理的异议。", "A record can have only one open objection."),
        "objection_not_found": ("异议不存在", "Objection not found", "找不到该异议。", "No such objection."),
        "objection_decided": ("异议已处理", "Objection already decided", "该异议已经处理过。", "This objection has already been decided."),
        "record_closed": ("记录已不在公示中", "Record closed", "该记录状态为 {record_status}，不能再提出异议或修复。", "The record is {record_status}; it cannot be contested or repaired."),
        "corrections_not_allowed": ("只有更正结论可以附带更正内容", "Corrections not allowed", "维持或撤销的结论不修改记录，不能附带 corrections。", "Only a corrected outcome amends the record; upheld and revoked take no corrections."),
        "corrections_required": ("缺少更正内容", "Corrections required", "更正结论需要提供 corrections。", "A corrected outcome needs corrections."),
        "repair_too_early": ("尚未满足最短公示期", "Too early to repair", "最短公示期满后（{earliest} 起）才能申请信用修复。", "Repair is possible from {earliest}, after the minimum publicity period."),
        "not_repairable": ("该记录不可修复", "Not repairable", "只有一般或严重失信记录可以修复；法院失信被执行人和严重失信主体名单记录不能在此修复。", "Only general or serious negative records can be repaired here; court defaulter and black-list records cannot."),
        "repair_pending": ("已有待审核的修复申请", "Repair pending", "该记录已有待审核的信用修复申请。", "A repair application for this record is already pending."),
        "repair_not_found": ("修复申请不存在", "Repair not found", "找不到该修复申请。", "No such repair application."),
        "repair_decided": ("修复申请已处理", "Repair already decided", "该修复申请已经处理过。", "This repair application has already been decided."),
        "commitment_in_use": ("承诺书已用于其他修复申请", "Commitment in use", "这份信用修复承诺书已附在另一份待审或已批准的修复申请上，请为这条记录另签一份。", "This credit-repair commitment already backs another pending or approved repair; sign one for this record."),
        "note_required": ("缺少理由", "Reason required", "驳回时必须说明理由。", "A rejection needs a reason."),
    }
)


def _subject_record(session: Session, subject_id: str | None, record_id: str) -> CreditRecord:
    """One of the subject's records (a person's, or an enterprise's for its admin); 404 otherwise."""
    record = session.get(CreditRecord, record_id, with_for_update=True)
    if record is None or subject_id is None or record.subject_id != subject_id:
        raise NotFound("record_not_found")
    return record


# --------------------------------------------------------------------------- objections


def file_objection(*, session: Session, settings: Settings, actor: Actor, subject_id: str | None, record_id: str,
                   reason: str, evidence: list[str]) -> CreditObjection:
    """Contest one of the subject's records (the caller's own, or their enterprise's): it is marked
    disputed at once (still counts) and gets a due date."""
    record = _subject_record(session, subject_id, record_id)
    status = core.current_status(record)
    if status not in ("active", "disputed"):
        raise Conflict("record_closed", record_status=status)
    now = utcnow()
    objection = CreditObjection(record_id=record.id, open_record_id=record.id, subject_id=record.subject_id,
                                source_org_id=record.source_org_id, filed_by=actor.account_id,
                                reason=reason.strip(), evidence=evidence, status="open",
                                due_at=scoring.due_at(now, settings.credit_objection_working_days), created_at=now)
    try:
        with session.begin_nested():
            session.add(objection)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("objection_open") from exc
    record.status = "disputed"
    record.updated_at = now
    session.commit()
    return objection


def list_subject_objections(*, session: Session, subject_id: str | None, limit: int, cursor: str | None) -> Page:
    stmt = select(CreditObjection).where(CreditObjection.subject_id == (subject_id or ""))
    return paginate(session, stmt, CreditObjection.id, limit=limit, cursor=cursor)


def list_department_objections(*, session: Session, org_id: str, overdue: bool, status: str | None,
                               limit: int, cursor: str | None) -> Page:
    stmt = select(CreditObjection).where(CreditObjection.source_org_id == org_id)
    if overdue:
        stmt = stmt.where(CreditObjection.status == "open", CreditObjection.due_at < utcnow())
    elif status:
        stmt = stmt.where(CreditObjection.status == status)
    return paginate(session, stmt, CreditObjection.id, limit=limit, cursor=cursor, newest_first=not overdue)


_CORRECTABLE = frozenset({"category", "polarity", "severity", "occurred_at", "decision"})


def decide_objection(*, session: Session, actor: Actor, org_id: str, objection_id: str, outcome: str,
                     note: str | None, corrections: dict[str, Any] | None) -> CreditObjection:
    """The source department decides: upheld (stands), corrected (amended), revoked (removed)."""
    objection = session.get(CreditObjection, objection_id)
    if objection is None or objection.source_org_id != org_id:
        raise NotFound("objection_not_found")
    identity_service.check_not_a_party(session=session, actor=actor, subject_id=objection.subject_id,
                                       applicant_account_id=objection.filed_by)
    if outcome == "corrected" and not corrections:
        raise Invalid("corrections_required")
    if outcome != "corrected" and corrections:  # upheld stands as it is, revoked is removed: nothing amended
        raise Invalid("corrections_not_allowed")
    now = utcnow()
    won = rowcount(session, update(CreditObjection)
                   .where(CreditObjection.id == objection.id, CreditObjection.status == "open")
                   .values(status="decided", open_record_id=None, outcome=outcome, note=note,
                           corrections=_as_json(corrections), decided_by=actor.account_id, decided_at=now))
    if not won:
        raise Conflict("objection_decided")
    session.refresh(objection)
    record = session.get(CreditRecord, objection.record_id, with_for_update=True)
    assert record is not None
    change: dict[str, Any] = {"record_id": record.id, "change": f"objection_{outcome}", "category": record.category}
    if outcome == "revoked":
        record.status = "revoked"
    else:
        if outcome == "corrected":
            assert corrections is not None
            _apply_corrections(session, record, corrections)
            change["fields"] = sorted(corrections)
        if record.status == "disputed" or (record.status == "repaired" and record.polarity == "positive"):
            # A record repaired meanwhile stays repaired, unless the department found it positive:
            # then it counts again, as the reward it is.
            record.status = "active"
    record.updated_at = now
    session.flush()
    core.recompute(session=session, subject_ids=[record.subject_id], cause=f"objection_{outcome}",
                   changes={record.subject_id: [change]})
    session.commit()
    return objection


def _as_json(corrections: dict[str, Any] | None) -> dict[str, Any] | None:
    """The corrections as the objection keeps them (a JSON column): dates as ISO 8601 text."""
    if corrections is None:
        return None
    return {k: v.isoformat() if isinstance(v, dt.datetime | dt.date) else v for k, v in corrections.items()}


def _apply_corrections(session: Session, record: CreditRecord, corrections: dict[str, Any]) -> None:
    unknown = sorted(set(corrections) - _CORRECTABLE)
    if unknown:
        raise Invalid("invalid_record", field=unknown[0])
    cats = core.categories(session=session)
    category = corrections.get("category", record.category)
    polarity = corrections.get("polarity", record.polarity if "category" not in corrections else None)
    severity = corrections.get("severity", record.severity)
    cat, pol, sev = core.check_fields(cats, category=category, polarity=polarity,
                                      severity=severity if polarity != "positive" else None)
    occurred = record.occurred_at
    if "occurred_at" in corrections:
        value = corrections["occurred_at"]
        occurred = core._parse_time(value)  # noqa: SLF001  # the batch's rules: aware, not before 2000
        if occurred > utcnow():
            raise Invalid("occurred_in_future")
    if "decision" in corrections:
        text = corrections["decision"]
        if not isinstance(text, str) or not text.strip():
            raise Invalid("invalid_record", field="decision")
        record.decision = text.strip()
    record.category, record.polarity, record.severity, record.occurred_at = cat.code, pol, sev, occurred
    record.publicity_end = core.publicity_end(cat, pol, sev, occurred)


# --------------------------------------------------------------------------- repairs


def _repairable(session: Session, record: CreditRecord) -> bool:
    """A negative general or serious record of a category that allows repair (DOMAIN.md)."""
    return (record.polarity == "negative" and record.severity in ("general", "serious")
            and core.categories(session=session)[record.category].repairable)


def apply_repair(*, session: Session, actor: Actor, subject_id: str | None, record_id: str, statement: str,
                 commitment_id: str | None = None) -> CreditRepair:
    """Apply to repair a negative general/serious record of the subject after its minimum publicity period."""
    record = _subject_record(session, subject_id, record_id)
    if not _repairable(session, record):
        raise Invalid("not_repairable")
    category = core.categories(session=session)[record.category]
    # past its publicity period (disputed or not) the record no longer counts: nothing left to repair
    status = "expired" if record.status in ("active", "disputed") and record.publicity_end <= utcnow() \
        else record.status
    if status not in ("active", "disputed"):
        raise Conflict("record_closed", record_status=status)
    # from the day (in Beijing) the minimum publicity period ends, as the refusal's `earliest` says
    earliest = core.publicity_min_end(category, record).astimezone(scoring.SHANGHAI).date()
    if utcnow().astimezone(scoring.SHANGHAI).date() < earliest:
        raise Invalid("repair_too_early", earliest=earliest.isoformat())
    if commitment_id:
        from backend.commitments import service as commitments_service

        commitments_service.require_signed_repair_commitment(session=session, commitment_id=commitment_id,
                                                             subject_id=record.subject_id)
        if session.scalar(select(CreditRepair.id).where(CreditRepair.commitment_id == commitment_id,
                                                        CreditRepair.status.in_(("pending", "approved")))):
            raise Conflict("commitment_in_use")  # one commitment answers for one record's repair
    repair = CreditRepair(record_id=record.id, pending_record_id=record.id, subject_id=record.subject_id,
                          source_org_id=record.source_org_id, filed_by=actor.account_id,
                          statement=statement.strip(), commitment_id=commitment_id, status="pending",
                          created_at=utcnow())
    try:
        with session.begin_nested():
            session.add(repair)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("repair_pending") from exc
    session.commit()
    return repair


def list_subject_repairs(*, session: Session, subject_id: str | None, limit: int, cursor: str | None) -> Page:
    stmt = select(CreditRepair).where(CreditRepair.subject_id == (subject_id or ""))
    return paginate(session, stmt, CreditRepair.id, limit=limit, cursor=cursor)


def list_department_repairs(*, session: Session, org_id: str, status: str | None, limit: int,
                            cursor: str | None) -> Page:
    stmt = select(CreditRepair).where(CreditRepair.source_org_id == org_id)
    if status:
        stmt = stmt.where(CreditRepair.status == status)
    return paginate(session, stmt, CreditRepair.id, limit=limit, cursor=cursor)


def decide_repair(*, session: Session, actor: Actor, org_id: str, repair_id: str, outcome: str,
                  note: str | None) -> CreditRepair:
    """Approve (record repaired: no longer counted nor shown to others, kept for audit) or reject."""
    repair = session.get(CreditRepair, repair_id)
    if repair is None or repair.source_org_id != org_id:
        raise NotFound("repair_not_found")
    identity_service.check_not_a_party(session=session, actor=actor, subject_id=repair.subject_id,
                                       applicant_account_id=repair.filed_by)
    if outcome == "rejected" and not has_visible(note or ""):
        raise Invalid("note_required")
    now = utcnow()
    won = rowcount(session, update(CreditRepair)
                   .where(CreditRepair.id == repair.id, CreditRepair.status == "pending")
                   .values(status=outcome, pending_record_id=None, note=note, decided_by=actor.account_id,
                           decided_at=now))
    if not won:
        raise Conflict("repair_decided")
    session.refresh(repair)
    if outcome == "approved":
        record = session.get(CreditRecord, repair.record_id, with_for_update=True)
        assert record is not None
        if core.current_status(record, now) == "expired":
            # its publicity ended while the application waited: it no longer counts nor shows, so the
            # repair is granted and the record stays as the expiry left it
            session.commit()
            return repair
        if record.status not in ("active", "disputed"):
            raise Conflict("record_closed", record_status=record.status)
        if not _repairable(session, record):  # an objection corrected it meanwhile (to positive, minor...)
            raise Conflict("not_repairable")
        earliest = core.publicity_min_end(core.categories(session=session)[record.category], record)
        earliest_day = earliest.astimezone(scoring.SHANGHAI).date()
        if now.astimezone(scoring.SHANGHAI).date() < earliest_day:  # ...or moved its date or severity so
            raise Conflict("repair_too_early", earliest=earliest_day.isoformat())  # that its minimum has not passed
        record.status = "repaired"
        record.updated_at = now
        session.flush()
        core.recompute(session=session, subject_ids=[record.subject_id], cause="repair_approved",
                       changes={record.subject_id: [{"record_id": record.id, "change": "repaired",
                                                     "category": record.category}]})
    session.commit()
    return repair
