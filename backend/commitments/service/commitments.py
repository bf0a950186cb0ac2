"""Commitments: draft, sign (seal), read, lifecycle (fulfil / breach / expiry), paper records, stats."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.commitments import sealing
from backend.commitments.models import TYPE_NAMES, Commitment, CommitmentTemplate
from backend.commitments.service import keys
from backend.commitments.service.common import (
    SHANGHAI,
    iso,
    require_enterprise_role,
    subject_of,
)
from backend.commitments.service.templates import check_readable, check_values, get_template, render
from backend.config import Settings
from backend.db import new_id, rowcount, utcnow
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.identity import ids, pii
from backend.identity import service as identity_service
from backend.identity.models import Membership, Organisation
from backend.pagination import Page, paginate

SIGNED_STATES = ("signed", "expired")


def effective_status(commitment: Commitment, now: dt.datetime | None = None) -> str:
    """``expired`` once a signed commitment is past its validity, even before the expiry job ran."""
    if commitment.status == "signed" and commitment.valid_until is not None \
            and commitment.valid_until <= (now or utcnow()):
        return "expired"
    return commitment.status


# --------------------------------------------------------------------------- drafting and signing


def draft(*, session: Session, actor: Actor, template_id: str, fields: dict[str, Any],
          on_behalf_of: str | None = None) -> Commitment:
    """A draft from the current version of a template, with the exact rendered text (the preview)."""
    template = get_template(session=session, template_id=template_id)
    if not template.is_current:
        from backend.commitments.service.templates import current_version

        current = current_version(session=session, family_id=template.family_id)
        raise Conflict("template_superseded", current_id=current.id if current else None)
    person_id, org_id = _subject(session, actor, on_behalf_of)
    values = check_values(template.fields, fields)
    commitment = Commitment(
        id=new_id("cmt"), channel="online", status="draft", template_id=template.id,
        department_id=template.department_id, type=template.type, title=template.title,
        text=render(template.text, values), fields=values, subject_kind="enterprise" if org_id else "person",
        subject_person_id=person_id, subject_org_id=org_id, drafter_account_id=actor.account_id,
        created_at=utcnow(),
    )
    session.add(commitment)
    session.commit()
    return commitment


def _subject(session: Session, actor: Actor, on_behalf_of: str | None) -> tuple[str | None, str | None]:
    if on_behalf_of:
        org = require_enterprise_role(session, actor, on_behalf_of, "admin", "signer")
        return None, org.id
    if actor.person_id is None:
        raise Forbidden("verification_required")
    return actor.person_id, None


def update_draft(*, session: Session, actor: Actor, commitment_id: str, fields: dict[str, Any]) -> Commitment:
    commitment = get_own(session=session, actor=actor, commitment_id=commitment_id)
    if commitment.drafter_account_id != actor.account_id:  # an enterprise admin reads a signer's draft only
        raise NotFound("commitment_not_found")
    if commitment.status != "draft":
        raise Conflict("commitment_not_draft")
    template = session.get(CommitmentTemplate, commitment.template_id)
    assert template is not None
    values = check_values(template.fields, fields)
    if not rowcount(session, update(Commitment).where(Commitment.id == commitment.id, Commitment.status == "draft")
                    .values(fields=values, text=render(template.text, values))):
        raise Conflict("commitment_not_draft")
    session.commit()
    session.refresh(commitment)
    return commitment


def get_own(*, session: Session, actor: Actor, commitment_id: str) -> Commitment:
    """A commitment the caller may read; 404 otherwise.

    A person's: its drafter or the person it binds. An enterprise's: its admins, and the signer who
    drafted it while still a signer there (a member who left loses sight of the drafts too).
    """
    commitment = session.get(Commitment, commitment_id)
    if commitment is None or not _may_read(session, actor, commitment):
        raise NotFound("commitment_not_found")
    return commitment


def _may_read(session: Session, actor: Actor, commitment: Commitment) -> bool:
    if commitment.subject_org_id is not None:
        roles = identity_service.load_roles(session=session, actor=actor, org_id=commitment.subject_org_id)
        return "admin" in roles or ("signer" in roles and commitment.drafter_account_id == actor.account_id)
    return commitment.drafter_account_id == actor.account_id or (
        actor.person_id is not None and commitment.subject_person_id == actor.person_id)


def sign(*, session: Session, settings: Settings, actor: Actor, commitment_id: str, password: str) -> Commitment:
    """Re-authenticate, then seal the draft once: draft -> signed is one conditional UPDATE."""
    from backend.auth import service as auth_service

    commitment = get_own(session=session, actor=actor, commitment_id=commitment_id)
    if commitment.drafter_account_id != actor.account_id:
        raise NotFound("commitment_not_found")
    if commitment.status != "draft":
        raise Conflict("commitment_not_draft")
    auth_service.reauthenticate(session=session, settings=settings, actor=actor, password=password)
    role = "self"
    if commitment.subject_org_id is not None:  # still allowed to act for the enterprise?
        require_enterprise_role(session, actor, commitment.subject_org_id, "admin", "signer")
        roles = identity_service.load_roles(session=session, actor=actor, org_id=commitment.subject_org_id)
        role = "admin" if "admin" in roles else "signer"
    template = session.get(CommitmentTemplate, commitment.template_id)
    department = session.get(Organisation, commitment.department_id)
    assert template is not None and department is not None
    now = utcnow().replace(microsecond=0)
    valid_until = now + dt.timedelta(days=template.validity_days)
    # The draft as it is when it turns signed: an edit committed while the password was checked
    # is what gets sealed (RETURNING), never the text read before; one committed after finds it
    # signed (update_draft is conditional on draft too).
    sealed = session.execute(
        update(Commitment).where(Commitment.id == commitment.id, Commitment.status == "draft")
        .values(status="signed", signed_at=now, valid_until=valid_until, signer_ip=actor.ip,
                signer_user_agent=(actor.user_agent or "")[:400] or None)
        .returning(Commitment.title, Commitment.text, Commitment.fields)
        .execution_options(synchronize_session=False)).one_or_none()
    if sealed is None:
        raise Conflict("commitment_not_draft")  # a concurrent request (double click) sealed it first
    public_id = sealing.new_public_id()
    document = {
        "v": 1,
        "kind": "commitment",
        "public_id": public_id,
        "type": commitment.type,
        "type_name": TYPE_NAMES[commitment.type][0],
        "title": sealed.title,
        "text": sealed.text,
        "fields": sealed.fields,
        "template": {"id": template.id, "family_id": template.family_id, "version": template.version},
        "department": {"id": department.id, "name": department.name},
        "subject": subject_of(session, person_id=commitment.subject_person_id, org_id=commitment.subject_org_id),
        "signer": {"ref": signer_ref(settings, actor.account_id, public_id), "role": role,
                   "evidence": signing_evidence(settings, actor.ip, actor.user_agent, public_id)},
        "signed_at": iso(now),
        "valid_until": iso(valid_until),
    }
    keys.seal_document(session=session, settings=settings, kind="commitment", public_id=public_id,
                       document=document)
    session.flush()
    session.execute(update(Commitment).where(Commitment.id == commitment.id).values(public_id=public_id))
    session.commit()
    session.refresh(commitment)
    return commitment


def signer_ref(settings: Settings, account_id: str, public_id: str) -> str:
    """Who signed, as the platform can check it and the public cannot link: a keyed hash of the
    signer's account with the document's public id (an account id in the sealed text would tie
    together every document one person ever signed)."""
    return pii.blind_index(settings.pii_key_bytes, f"{account_id}\n{public_id}", "seal_signer")


def signing_evidence(settings: Settings, ip: str | None, user_agent: str | None, public_id: str) -> str:
    """A keyed hash (HMAC under the PII key) of the signer's IP and user agent with the document's
    public id: the seal binds the evidence kept on the commitment row without publishing it (a
    plain hash of an IP is guessable), and, as for ``signer_ref``, the public id in the hash keeps
    two documents signed from one phone on one network from sharing a value that links them."""
    return pii.blind_index(settings.pii_key_bytes, f"{ip or ''}\n{(user_agent or '')[:400]}\n{public_id}",
                           "seal_evidence")


def list_mine(*, session: Session, actor: Actor, status: str | None, limit: int, cursor: str | None) -> Page:
    """What ``get_own`` lets the caller read: own drafts and commitments binding the caller, and those
    of the enterprises the caller administers (a signer's, while still a signer there)."""
    roles_at = select(Membership.org_id).where(Membership.account_id == actor.account_id)
    condition = or_(
        and_(Commitment.subject_org_id.is_(None), Commitment.drafter_account_id == actor.account_id),
        Commitment.subject_org_id.in_(roles_at.where(Membership.role == "admin")),
        and_(Commitment.drafter_account_id == actor.account_id,
             Commitment.subject_org_id.in_(roles_at.where(Membership.role == "signer"))),
    )
    if actor.person_id is not None:
        condition = or_(condition, Commitment.subject_person_id == actor.person_id)
    stmt = select(Commitment).where(condition)
    if status:
        stmt = stmt.where(Commitment.status == status)
    return paginate(session, stmt, Commitment.id, limit=limit, cursor=cursor)


# --------------------------------------------------------------------------- lifecycle (department)


def list_department(*, session: Session, department_id: str, status: str | None, channel: str | None,
                    limit: int, cursor: str | None) -> Page:
    stmt = select(Commitment).where(Commitment.department_id == department_id, Commitment.status != "draft")
    if status:
        stmt = stmt.where(Commitment.status == status)
    if channel:
        stmt = stmt.where(Commitment.channel == channel)
    return paginate(session, stmt, Commitment.id, limit=limit, cursor=cursor)


def get_department_commitment(*, session: Session, department_id: str, commitment_id: str) -> Commitment:
    commitment = session.get(Commitment, commitment_id)
    if commitment is None or commitment.department_id != department_id or commitment.status == "draft":
        raise NotFound("commitment_not_found")
    return commitment


def decide(*, session: Session, settings: Settings, actor: Actor, department_id: str, commitment_id: str,
           outcome: str, reason: str | None) -> Commitment:
    """Mark fulfilled or breached, once (conditional UPDATE). A breach writes one negative
    ``commitment_breach`` credit record in the same transaction. A commitment marked fulfilled may
    still be found false later and breached (DOMAIN: "a breach, or a false commitment"); the
    fulfilment (who, when, why) stays beside the breach. A breach is final."""
    commitment = get_department_commitment(session=session, department_id=department_id,
                                           commitment_id=commitment_id)
    # four eyes: not the signer, nor the person it binds, nor a member of the enterprise it binds
    identity_service.check_not_a_party(session=session, actor=actor,
                                       subject_id=commitment.subject_person_id or commitment.subject_org_id or "",
                                       applicant_account_id=commitment.drafter_account_id or "")
    decidable = (*SIGNED_STATES, "fulfilled") if outcome == "breached" else SIGNED_STATES
    if commitment.status not in decidable:
        raise Conflict("commitment_already_decided", state=commitment.status)
    now = utcnow()
    values: dict[str, Any] = {"status": outcome, "decided_at": now, "decided_by": actor.account_id,
                              "decision_reason": reason}
    if outcome == "fulfilled":
        values |= {"fulfilled_at": now, "fulfilled_by": actor.account_id, "fulfilment_reason": reason}
    if not rowcount(session, update(Commitment)
                    .where(Commitment.id == commitment.id, Commitment.status.in_(decidable)).values(values)):
        raise Conflict("commitment_already_decided", state=outcome)
    if outcome == "breached":
        from backend.credit import service as credit_service

        record, _created = credit_service.record_event(
            session=session, settings=settings, source_org_id=department_id, category="commitment_breach",
            source_ref=f"commitment:{commitment.id}", occurred_at=now,
            decision=f"违反信用承诺《{commitment.title}》：{reason or ''}".rstrip("："),
            severity=settings.commitment_breach_severity, polarity="negative",
            subject_person_id=commitment.subject_person_id, subject_org_id=commitment.subject_org_id,
        )
        session.execute(update(Commitment).where(Commitment.id == commitment.id)
                        .values(credit_record_id=getattr(record, "id", None)))
    session.commit()
    session.refresh(commitment)
    return commitment


def expire(*, session: Session, as_of: dt.datetime | None = None) -> int:
    """Mark signed commitments past their validity ``expired``; returns how many. Commits."""
    count = rowcount(session, update(Commitment)
                     .where(Commitment.status == "signed", Commitment.valid_until <= (as_of or utcnow()))
                     .values(status="expired"))
    session.commit()
    return count


# --------------------------------------------------------------------------- paper commitments and stats


def record_offline(*, session: Session, settings: Settings, actor: Actor, department_id: str,
                   type: str, title: str, signed_on: dt.date, paper_ref: str,  # noqa: A002
                   id_number: str | None = None, credit_code: str | None = None, text: str | None = None,
                   template_id: str | None = None, fields: dict[str, Any] | None = None,
                   validity_days: int | None = None) -> Commitment:
    """Record a commitment signed on paper at the counter (counts as offline in the stats).

    The stored text is the officer's ``text`` (what the paper says), else the template rendered
    with ``fields`` (checked as for an online draft: a required slot left empty is refused, so no
    ``{slot}`` is ever stored); ``fields`` need a template and go unused beside a ``text``.
    """
    today = utcnow().astimezone(SHANGHAI).date()
    if not dt.date(2000, 1, 1) <= signed_on <= today:  # paper signed already, in the platform's calendar
        raise Invalid("invalid_signed_on")
    check_readable(title=title, text=text)
    if not text and not template_id:
        raise Invalid("paper_text_required")  # what the paper says, or the template it was printed from
    person_id, org_id = _offline_subject(session, settings, id_number, credit_code)
    # four eyes: an officer does not record a commitment of their own or of their enterprise
    identity_service.check_not_a_party(session=session, actor=actor, subject_id=person_id or org_id or "",
                                       applicant_account_id="")
    template = get_template(session=session, template_id=template_id, department_id=department_id) \
        if template_id else None
    if template is not None and template.type != type:
        raise Invalid("invalid_field_value", field="type", expected=template.type)
    if fields and (template is None or text):
        raise Invalid("fields_need_template")
    values = check_values(template.fields, fields or {}) if template is not None and not text else {}
    days = validity_days or (template.validity_days if template else settings.commitment_default_validity_days)
    signed_at = dt.datetime.combine(signed_on, dt.time(), SHANGHAI).astimezone(dt.UTC)
    commitment = Commitment(
        id=new_id("cmt"), channel="offline", status="signed", template_id=template.id if template else None,
        department_id=department_id, type=type, title=title,
        text=text or (render(template.text, values) if template else ""), fields=values, subject_kind="enterprise" if org_id else "person", subject_person_id=person_id,
        subject_org_id=org_id, drafter_account_id=None, signed_at=signed_at,
        valid_until=signed_at + dt.timedelta(days=days), paper_ref=paper_ref, recorded_by=actor.account_id,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(commitment)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("paper_commitment_exists", paper_ref=paper_ref) from exc
    session.commit()
    return commitment


def _offline_subject(session: Session, settings: Settings, id_number: str | None,
                     credit_code: str | None) -> tuple[str | None, str | None]:
    if bool(id_number) == bool(credit_code):
        raise Invalid("paper_subject_required")
    if id_number:
        number = ids.normalize_id_number(id_number)
        if number is None:
            raise Invalid("invalid_id_number")
        person = identity_service.get_or_create_person(session=session, settings=settings, id_number=number)
        return person.id, None
    code = ids.normalize_credit_code(credit_code or "")
    if code is None:
        raise Invalid("invalid_credit_code")
    org = session.scalars(select(Organisation).where(Organisation.credit_code == code,
                                                     Organisation.kind == "enterprise")).one_or_none()
    if org is None:
        raise Invalid("unknown_enterprise")
    return None, org.id


def _month(value: str) -> tuple[int, int]:
    try:
        year, month = (int(part) for part in value.split("-"))
        dt.date(year, month, 1)
    except ValueError as exc:
        raise Invalid("invalid_month") from exc
    if not 2000 <= year <= 2100:  # the platform's calendar, as for every other date range
        raise Invalid("invalid_month")
    return year, month


def stats(*, session: Session, settings: Settings, department_id: str, from_month: str | None,
          to_month: str | None) -> dict[str, Any]:
    """Online and offline (paper) commitments signed per month (Asia/Shanghai) and the paperless share."""
    today = utcnow().astimezone(SHANGHAI).date()
    end = _month(to_month) if to_month else (today.year, today.month)
    start = _month(from_month) if from_month else max(  # the last 12 months, within the platform's calendar
        (end[0] - 1, end[1] + 1) if end[1] < 12 else (end[0], 1), (2000, 1))
    if start > end or (end[0] - start[0]) * 12 + end[1] - start[1] >= 120:  # ten years at most
        raise Invalid("invalid_month")
    lower = dt.datetime(start[0], start[1], 1, tzinfo=SHANGHAI)
    upper = dt.datetime(end[0] + (end[1] == 12), end[1] % 12 + 1, 1, tzinfo=SHANGHAI)
    rows = session.execute(
        select(Commitment.signed_at, Commitment.channel).where(
            Commitment.department_id == department_id, Commitment.status != "draft",
            Commitment.signed_at >= lower.astimezone(dt.UTC), Commitment.signed_at < upper.astimezone(dt.UTC))
    ).all()
    counts: Counter[tuple[str, str]] = Counter()
    for signed_at, channel in rows:
        if signed_at is None:
            continue
        counts[(signed_at.astimezone(SHANGHAI).strftime("%Y-%m"), channel)] += 1
    items = []
    year, month = start
    while (year, month) <= end:
        key = f"{year:04d}-{month:02d}"
        items.append(_share(key, counts[(key, "online")], counts[(key, "offline")]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    total = _share("total", sum(i["online"] for i in items), sum(i["offline"] for i in items))
    target = settings.commitment_paperless_target_pct / 100
    return {"items": items, "online": total["online"], "offline": total["offline"], "total": total["total"],
            "paperless_share": total["paperless_share"], "target_share": target,
            "target_met": total["paperless_share"] is not None and total["paperless_share"] >= target}


def _share(month: str, online: int, offline: int) -> dict[str, Any]:
    total = online + offline
    return {"month": month, "online": online, "offline": offline, "total": total,
            "paperless_share": round(online / total, 4) if total else None}


# --------------------------------------------------------------------------- contract used by credit


def require_signed_repair_commitment(*, session: Session, commitment_id: str, subject_id: str) -> None:
    """Raise an AppError unless ``commitment_id`` is a signed ``credit_repair`` commitment binding this
    subject (a person, or an enterprise).

    Credit calls this (function-level import) when a repair application attaches a commitment.
    """
    # Locked: the caller then checks no other repair names it, and two repairs naming it at once
    # must not both see none.
    commitment = session.get(Commitment, commitment_id, with_for_update=True)
    if commitment is None or subject_id not in (commitment.subject_person_id, commitment.subject_org_id):
        raise NotFound("commitment_not_found")
    if commitment.type != "credit_repair":
        raise Invalid("not_repair_commitment")
    if commitment.status not in ("signed", "fulfilled"):
        raise Invalid("commitment_not_signed", state=commitment.status)
