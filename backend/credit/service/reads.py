"""What residents, departments and enterprises read: my credit (from the stored standing,
never recomputed), records, history, the query log, enterprise grades; categories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from backend.credit import scoring
from backend.credit.models import (
    CreditCategory,
    CreditQuery,
    CreditRecord,
    CreditStanding,
    ScoreSnapshot,
)
from backend.credit.service import core
from backend.db import utcnow
from backend.errors import Forbidden, Invalid, NotFound, Unauthorized
from backend.identity.models import Account, Membership, Organisation, Person
from backend.pagination import Page, decode_cursor, encode_cursor, paginate


def list_categories(*, session: Session) -> list[CreditCategory]:
    return list(core.categories(session=session).values())


def _localise(standing: Any, lang: str) -> dict[str, Any]:
    en = lang == "en"
    level_name = scoring.LEVEL_NAMES.get(standing.level, ("", ""))
    return {
        "score": standing.score,
        "level": standing.level,
        "level_name": level_name[1] if en else level_name[0],
        "model_version": standing.model_version,
        "dimensions": [
            {**d, "name": scoring.DIMENSION_NAMES.get(d["code"], (d["code"], d["code"]))[1 if en else 0]}
            for d in standing.dimensions
        ],
        "reasons": [r.get("text_en" if en else "text_zh", "") for r in standing.reasons][:4],
        "as_of": standing.as_of,
    }


# What a counter (merchant, hospital) reads of a person, part of credit's contract: the name to mask
# and the three standing columns the eligibility rules use, plain columns in one statement
# (:person_id), rather than the whole stored snapshot (dimensions and reasons as JSON) that
# get_standing loads. Callers extend it with their own joins; without a stored standing the level
# is NULL and they call get_standing, which computes and stores the first one.
PERSON_STANDING = (
    select(Person.name.label("person_name"), CreditStanding.level, CreditStanding.serious_dishonesty,
           CreditStanding.red_list)
    .select_from(Person)
    .outerjoin(CreditStanding, CreditStanding.subject_id == Person.id)
    .where(Person.id == bindparam("person_id"))
)


# GET /me/credit, the most read credit endpoint: the account (the request's authentication read,
# see ``token_required``) and its stored standing in one statement, plain columns.
_MY_CREDIT = (
    select(Account.person_id, Account.disabled_at, CreditStanding.score, CreditStanding.level,
           CreditStanding.model_version, CreditStanding.dimensions, CreditStanding.reasons,
           CreditStanding.serious_dishonesty, CreditStanding.red_list, CreditStanding.as_of)
    .select_from(Account)
    .outerjoin(CreditStanding, CreditStanding.subject_id == Account.person_id)
    .where(Account.id == bindparam("account_id"))
)


def my_credit(*, session: Session, account_id: str, lang: str) -> dict[str, Any]:
    """The latest stored score: one read, which also authenticates the caller (401 for a missing or
    disabled account, 403 before real-name verification). Computed (and committed) only for a
    resident verified before credit existed, who has no standing yet."""
    row = session.connection().execute(_MY_CREDIT, {"account_id": account_id}).one_or_none()
    if row is None or row.disabled_at is not None:
        raise Unauthorized("unauthorized")
    if row.person_id is None:
        raise Forbidden("verification_required")
    standing: Any = row
    if not row.level:
        standing = core.recompute(session=session, subject_ids=[row.person_id], cause="first_read")[row.person_id]
        session.commit()
    out = _localise(standing, lang)
    out.update(serious_dishonesty=standing.serious_dishonesty, red_list=standing.red_list)
    return out


def _record_items(session: Session, records: list[CreditRecord], lang: str) -> list[dict[str, Any]]:
    cats = core.categories(session=session)
    orgs = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_({r.source_org_id for r in records}))).tuples().all()) if records else {}
    en = lang == "en"
    now = utcnow()
    return [{
        "id": r.id, "category": r.category,
        "category_name": (cats[r.category].name_en if en else cats[r.category].name_zh) if r.category in cats else r.category,
        "polarity": r.polarity, "severity": r.severity, "status": core.current_status(r, now),
        "source_org_id": r.source_org_id,
        "source_org_name": orgs.get(r.source_org_id), "source_ref": r.source_ref, "occurred_at": r.occurred_at,
        "decision": r.decision, "publicity_end": r.publicity_end, "person_id": r.person_id, "org_id": r.org_id,
        "created_at": r.created_at, "updated_at": r.updated_at,
    } for r in records]


def subject_records(*, session: Session, subject_id: str | None, status: str | None, limit: int,
                    cursor: str | None, lang: str) -> Page:
    """The subject's own records, every status (a person's for themself, an enterprise's for its admin)."""
    column = CreditRecord.org_id if (subject_id or "").startswith("org_") else CreditRecord.person_id
    stmt = select(CreditRecord).where(column == (subject_id or ""))
    if status:
        stmt = stmt.where(core.status_is(status))
    page = paginate(session, stmt, CreditRecord.id, limit=limit, cursor=cursor)
    page.items = _record_items(session, page.items, lang)
    return page


def department_records(*, session: Session, settings: Settings, actor: Actor, org_id: str, subject: str | None,
                       category: str | None, status: str | None, limit: int, cursor: str | None,
                       lang: str) -> Page:
    """Records this department supplied (every status: the department keeps them for audit).

    ``subject`` names one subject: a person or organisation id, an ID number or a credit code (what
    the officer ingested by). Every person whose records a page shows has had their credit looked
    at: one query-log row each (purpose ``records``), also for one person looked up and found
    without records.
    """
    stmt = select(CreditRecord).where(CreditRecord.source_org_id == org_id)
    looked_up = None
    if subject:
        looked_up, subject_org_id = _named_subject(session, settings, subject)
        stmt = stmt.where(CreditRecord.person_id == looked_up) if looked_up is not None \
            else stmt.where(CreditRecord.org_id == subject_org_id)
    if category:
        stmt = stmt.where(CreditRecord.category == category)
    if status:
        stmt = stmt.where(core.status_is(status))
    page = paginate(session, stmt, CreditRecord.id, limit=limit, cursor=cursor)
    persons = {r.person_id for r in page.items if r.person_id} | ({looked_up} if looked_up else set())
    for person_id in sorted(persons):
        core.log_query(session=session, actor=actor, org_id=org_id, person_id=person_id, purpose="records")
    session.commit()
    page.items = _record_items(session, page.items, lang)
    return page


def _named_subject(session: Session, settings: Settings, subject: str) -> tuple[str | None, str | None]:
    """(person id, organisation id) of a subject named by id, ID number or credit code; an unknown
    one names nobody (an empty list, as for an id without records). A value that is none of these
    (a mistyped ID number fails its checksum) is 422 ``invalid_subject``: an officer's typo must
    not read as "no records"."""
    from backend.identity import ids
    from backend.identity import service as identity_service

    if subject.startswith("per_"):
        known = session.get(Person, subject)
        return (known.id if known else "", None)
    if subject.startswith("org_"):
        return None, subject
    number = ids.normalize_id_number(subject)
    if number is not None:
        blind = identity_service.blind_index(settings=settings, id_number=number)
        return session.scalar(select(Person.id).where(Person.id_blind == blind)) or "", None
    code = ids.normalize_credit_code(subject)
    if code is None:
        raise Invalid("invalid_subject")
    return None, session.scalar(select(Organisation.id).where(Organisation.credit_code == code)) or ""


def my_history(*, session: Session, actor: Actor, limit: int, cursor: str | None, lang: str) -> Page:
    stmt = select(ScoreSnapshot).where(ScoreSnapshot.subject_id == (actor.person_id or ""))
    page = paginate(session, stmt, ScoreSnapshot.id, limit=limit, cursor=cursor)
    page.items = [{
        "id": s.id, **_localise(s, lang), "previous_score": s.previous_score,
        "delta": None if s.previous_score is None else s.score - s.previous_score,
        "cause": s.cause, "changes": s.changes,
    } for s in page.items]
    return page


def my_queries(*, session: Session, actor: Actor, limit: int, cursor: str | None) -> Page:
    stmt = select(CreditQuery).where(CreditQuery.person_id == (actor.person_id or ""))
    page = paginate(session, stmt, CreditQuery.id, limit=limit, cursor=cursor)
    names = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_({q.org_id for q in page.items}))).tuples().all()) if page.items else {}
    page.items = [{"id": q.id, "org_id": q.org_id, "org_name": names.get(q.org_id), "purpose": q.purpose,
                   "at": q.at} for q in page.items]
    return page


# --------------------------------------------------------------------------- enterprises


def _may_see_enterprise(session: Session, actor: Actor, org_id: str) -> bool:
    if actor.is_admin:
        return True
    rows = session.execute(
        select(Membership.org_id, Membership.role, Organisation.kind)
        .join(Organisation, Organisation.id == Membership.org_id)
        .where(Membership.account_id == actor.account_id)
    ).tuples()
    return any((oid == org_id and role == "admin") or (kind == "department" and role == "officer")
               for oid, role, kind in rows)


def enterprise_credit(*, session: Session, actor: Actor, org_id: str, lang: str) -> dict[str, Any]:
    """An enterprise's grade for its admin (legal representative) or any department officer; 403 for its
    other members (signers), 404 otherwise."""
    org = session.get(Organisation, org_id)
    if org is None or org.kind != "enterprise":
        raise NotFound("org_not_found")
    if not _may_see_enterprise(session, actor, org_id):
        member_roles = session.scalars(select(Membership.role).where(
            Membership.org_id == org_id, Membership.account_id == actor.account_id)).all()
        if member_roles:  # a member of this enterprise without the admin role (a signer): 403, as everywhere
            raise Forbidden("forbidden_role", required=["admin"])
        raise NotFound("org_not_found")
    standing: Any = core.latest_standing(session=session, subject_id=org_id)
    if standing is None:
        standing = core.recompute(session=session, subject_ids=[org_id], cause="first_read")[org_id]
        session.commit()
    out = _localise(standing, lang)
    grade_name = scoring.GRADE_NAMES.get(standing.level, ("", ""))
    out["level_name"] = grade_name[1] if lang == "en" else grade_name[0]
    out.update(org_id=org.id, name=org.name, credit_code=org.credit_code, grade=standing.level,
               serious_dishonesty=standing.serious_dishonesty)
    return out


def department_enterprises(*, session: Session, grade: str | None, limit: int, cursor: str | None) -> Page:
    """Graded supervision (分级分类监管): enterprises with their grade, D first (then C, B, A; within a
    grade by id), for targeted inspection; filter grade=D for the D list only."""
    stmt = (select(CreditStanding, Organisation)
            .join(Organisation, Organisation.id == CreditStanding.subject_id)
            .where(CreditStanding.subject_kind == core.ENTERPRISE, CreditStanding.level != "",
                   Organisation.kind == "enterprise"))
    if grade:
        stmt = stmt.where(CreditStanding.level == grade)
    if cursor:  # keyset on (grade descending: 'D' > 'C' > 'B' > 'A', id ascending)
        last_grade, _, last_id = decode_cursor(cursor).partition("|")
        if not last_id:
            raise Invalid("invalid_cursor")
        stmt = stmt.where(or_(CreditStanding.level < last_grade,
                              and_(CreditStanding.level == last_grade, CreditStanding.subject_id > last_id)))
    rows = list(session.execute(stmt.order_by(CreditStanding.level.desc(), CreditStanding.subject_id)
                                .limit(limit + 1)).tuples().all())
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{"org_id": o.id, "name": o.name, "credit_code": o.credit_code, "grade": s.level, "score": s.score,
              "serious_dishonesty": s.serious_dishonesty, "as_of": s.as_of} for s, o in rows]
    last = rows[-1][0] if rows else None
    return Page(items=items, next_cursor=encode_cursor(f"{last.level}|{last.subject_id}") if more and last else None)
