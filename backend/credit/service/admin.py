"""Department batch ingestion, score model versions, recomputation and expiry (CLI)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from backend.credit import scoring
from backend.credit.models import CreditRecord, CreditStanding, ScoreModel
from backend.credit.service import core
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.identity.models import Membership, Organisation, Person


def ingest_batch(*, session: Session, settings: Settings, actor: Actor, org_id: str,
                 records: list[Any]) -> list[core.ItemResult]:
    """A department's batch: per item created / duplicate / error; one bad item never rejects the others.

    An item about the submitting officer, or an enterprise they belong to, is that item's error
    ``conflict_of_interest`` (four eyes: a colleague files it)."""
    if len(records) > settings.credit_batch_max:
        raise Invalid("too_many_records", max=settings.credit_batch_max)
    own = set(session.scalars(select(Membership.org_id).where(Membership.account_id == actor.account_id)))
    if actor.person_id:
        own.add(actor.person_id)
    results = core.ingest(session=session, settings=settings, source_org_id=org_id, items=records,
                          parties=frozenset(own))
    session.commit()
    return results


# --------------------------------------------------------------------------- score models


def list_models(*, session: Session) -> list[ScoreModel]:
    return list(session.scalars(select(ScoreModel).order_by(ScoreModel.subject_kind, ScoreModel.created_at)))


def create_model(*, session: Session, version: str, subject_kind: str, params: Any, note: str | None) -> ScoreModel:
    try:
        scoring.validate_model(params, kind=subject_kind)
    except scoring.ModelError as exc:
        raise Invalid("invalid_model", problem=str(exc)) from exc
    if session.get(ScoreModel, version) is not None:
        raise Conflict("model_exists")
    model = ScoreModel(version=version, subject_kind=subject_kind, params=params, active=False, note=note,
                       created_at=utcnow())
    session.add(model)
    session.commit()
    return model


def activate_model(*, session: Session, version: str) -> ScoreModel:
    """Make a version the active one of its kind and recompute every subject of that kind with it."""
    model = session.get(ScoreModel, version, with_for_update=True)
    if model is None:
        raise NotFound("model_not_found")
    if model.active:  # already the one in force: nothing changes, so no subject is rescored
        session.commit()
        return model
    session.execute(update(ScoreModel).where(ScoreModel.subject_kind == model.subject_kind,
                                             ScoreModel.version != version).values(active=False))
    model.active = True
    model.activated_at = utcnow()
    session.flush()
    subjects = list(session.scalars(select(CreditStanding.subject_id)
                                    .where(CreditStanding.subject_kind == model.subject_kind)))
    for start in range(0, len(subjects), 500):
        core.recompute(session=session, subject_ids=subjects[start:start + 500], cause="model_activated",
                       changes={s: [{"change": "model", "version": version}] for s in subjects[start:start + 500]})
    session.commit()
    return model


# --------------------------------------------------------------------------- CLI jobs


def recompute_all(*, session: Session, subject_id: str | None = None, chunk: int = 500) -> int:
    """Recompute one subject or every subject that has a standing or a record; commits per chunk."""
    if subject_id:
        known = session.get(Person, subject_id) is not None or session.scalar(
            select(Organisation.id).where(Organisation.id == subject_id, Organisation.kind == "enterprise"))
        if not known:  # never a standing for a subject that does not exist
            raise NotFound("subject_not_found", subject=subject_id)
        subjects = [subject_id]
    else:
        found = set(session.scalars(select(CreditStanding.subject_id)))
        found.update(s for s in session.scalars(select(CreditRecord.person_id).distinct()) if s)
        found.update(s for s in session.scalars(select(CreditRecord.org_id).distinct()) if s)
        subjects = sorted(found)
    for start in range(0, len(subjects), chunk):
        core.recompute(session=session, subject_ids=subjects[start:start + chunk], cause="recompute")
        session.commit()
    return len(subjects)


def expire(*, session: Session, as_of: dt.datetime) -> tuple[int, int]:
    """End the publicity period of active records due by ``as_of`` and recompute their subjects.

    Returns (records expired, subjects recomputed). Disputed records wait for their objection.
    """
    rows = list(session.execute(select(CreditRecord.id, CreditRecord.person_id, CreditRecord.org_id).where(
        CreditRecord.status == "active", CreditRecord.publicity_end <= as_of)).tuples().all())
    if not rows:
        return 0, 0
    changes: dict[str, list[dict[str, Any]]] = {}
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), 500):
        session.execute(update(CreditRecord).where(CreditRecord.id.in_(ids[start:start + 500]),
                                                   CreditRecord.status == "active")
                        .values(status="expired", updated_at=utcnow()))
    for rid, pid, oid in rows:
        changes.setdefault(pid or oid or "", []).append({"record_id": rid, "change": "expired"})
    subjects = sorted(changes)
    for start in range(0, len(subjects), 500):
        chunk = subjects[start:start + 500]
        core.recompute(session=session, subject_ids=chunk, cause="expired", as_of=max(as_of, utcnow()),
                       changes={s: changes[s] for s in chunk})
    session.commit()
    return len(rows), len(subjects)
