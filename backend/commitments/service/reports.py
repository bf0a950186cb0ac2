"""Sealed credit reports (专用信用报告): a subject's own records and level as of now."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.commitments import sealing
from backend.commitments.models import CreditReport
from backend.commitments.service import keys
from backend.commitments.service.common import iso, require_enterprise_role, subject_of
from backend.commitments.service.templates import check_readable
from backend.config import Settings
from backend.db import new_id, utcnow
from backend.errors import Forbidden, NotFound
from backend.identity.models import Organisation
from backend.pagination import Page, paginate

LEVEL_NAMES = {"AAA": "优秀", "AA": "良好", "A": "中等", "B": "较差", "C": "差"}
_RECORD_FIELDS = ("category", "polarity", "severity", "status", "occurred_at", "decision")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record_view(session: Session, record: Any, org_names: dict[str, str]) -> dict[str, Any]:
    """What a report shows of one record (the subject's own view; no internal ids)."""
    item = {name: _plain(getattr(record, name, None)) for name in _RECORD_FIELDS}
    publicity = next((getattr(record, n) for n in ("publicity_end", "publicity_until", "publicity_ends_at")
                      if getattr(record, n, None) is not None), None)
    item["publicity_end"] = _plain(publicity)
    source = getattr(record, "source_org_id", None)
    if source is not None and source not in org_names:
        org = session.get(Organisation, source)
        org_names[source] = org.name if org is not None else ""
    item["source"] = org_names.get(source, "") if source else ""
    return item


def issue(*, session: Session, settings: Settings, actor: Actor, on_behalf_of: str | None = None,
          purpose: str | None = None) -> CreditReport:
    """Seal a report of the caller (a verified resident) or of an enterprise it is admin of."""
    from backend.credit import service as credit_service

    check_readable(purpose=purpose)  # sealed with the report: it must read as stored

    person_id: str | None = None
    org_id: str | None = None
    if on_behalf_of:
        org_id = require_enterprise_role(session, actor, on_behalf_of, "admin").id
    elif actor.person_id is None:
        raise Forbidden("verification_required")
    else:
        person_id = actor.person_id
    now = utcnow().replace(microsecond=0)
    standing: dict[str, Any] | None = None
    if person_id is not None:
        current = credit_service.get_standing(session=session, person_id=person_id)
        standing = {"score": current.score, "level": current.level,
                    "level_name": LEVEL_NAMES.get(current.level, ""), "model_version": current.model_version,
                    "serious_dishonesty": current.serious_dishonesty, "red_list": current.red_list}
    else:  # the enterprise grade (公共信用综合评价) as its admin sees it; credit has no contract call for it
        from backend.credit.service.reads import enterprise_credit

        grade = enterprise_credit(session=session, actor=actor, org_id=org_id or "", lang="zh")
        standing = {"score": grade.get("score"), "level": grade.get("grade"),
                    "level_name": grade.get("level_name"), "model_version": grade.get("model_version"),
                    "serious_dishonesty": grade.get("serious_dishonesty")}
    records = credit_service.list_subject_records(session=session, person_id=person_id, org_id=org_id)
    names: dict[str, str] = {}
    public_id = sealing.new_public_id()
    document = {
        "v": 1,
        "kind": "credit_report",
        "title": "专用信用报告",
        "public_id": public_id,
        "subject": subject_of(session, person_id=person_id, org_id=org_id),
        "purpose": purpose or "",
        "issued_at": iso(now),
        "standing": standing,
        "records": [record_view(session, r, names) for r in records],
    }
    keys.seal_document(session=session, settings=settings, kind="credit_report", public_id=public_id,
                       document=document)
    session.flush()
    report = CreditReport(id=new_id("crp"), public_id=public_id, subject_kind="enterprise" if org_id else "person",
                          subject_person_id=person_id, subject_org_id=org_id, requested_by=actor.account_id,
                          purpose=purpose or "", issued_at=now, created_at=utcnow())  # as sealed
    session.add(report)
    session.commit()
    return report


def list_mine(*, session: Session, actor: Actor, limit: int, cursor: str | None) -> Page:
    condition = CreditReport.requested_by == actor.account_id
    if actor.person_id is not None:
        condition = or_(condition, CreditReport.subject_person_id == actor.person_id)
    return paginate(session, select(CreditReport).where(condition), CreditReport.id, limit=limit, cursor=cursor)


def get_own(*, session: Session, actor: Actor, report_id: str) -> CreditReport:
    report = session.get(CreditReport, report_id)
    if report is None or not (report.requested_by == actor.account_id
                              or (actor.person_id and report.subject_person_id == actor.person_id)):
        raise NotFound("report_not_found")
    return report
