"""Use cases of credit.

CONTRACT used by other domains (points, scenarios, commitments). The credit
issue implements these; the signatures are fixed so the other domains can be
built in parallel. None of them commits: they run in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings


@dataclass(frozen=True)
class Standing:
    """A person's current credit as other domains may use it (read from the latest snapshot)."""

    person_id: str
    score: int
    level: str  # AAA | AA | A | B | C
    serious_dishonesty: bool  # an active black_list record: never eligible for any benefit
    red_list: bool  # an active red_list record
    model_version: str


def get_standing(*, session: Session, person_id: str) -> Standing:
    """The person's latest score snapshot (computed and stored first if the person has none)."""
    raise NotImplementedError("implemented by the credit issue")


def record_event(*, session: Session, settings: Settings, source_org_id: str, category: str,
                 source_ref: str, occurred_at: dt.datetime, decision: str, severity: str | None = None,
                 polarity: str | None = None, subject_person_id: str | None = None,
                 subject_org_id: str | None = None) -> tuple[Any, bool]:
    """Write one credit record for a person or an enterprise, in the caller's transaction.

    Idempotent on (source_org_id, source_ref): returns (record, created). Recomputes the
    subject's score and stores a snapshot. Polarity defaults to the category's.
    """
    raise NotImplementedError("implemented by the credit issue")


def log_query(*, session: Session, actor: Actor, org_id: str, person_id: str, purpose: str) -> None:
    """Append an organisation's look at a person's credit to the query log (caller commits)."""


def update_points_rating(*, session: Session, person_id: str, rating: int) -> None:
    """Points calls this with the person's total 厚德积分 rating across villages when it changes;
    credit stores it and recomputes the public-welfare dimension (caller commits)."""


def list_subject_records(*, session: Session, person_id: str | None = None,
                         org_id: str | None = None) -> list[Any]:
    """The records a subject may see of itself (for sealed credit reports)."""
    raise NotImplementedError("implemented by the credit issue")
