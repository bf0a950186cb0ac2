"""Models of credit: categories and score models (reference data), records, standings and
snapshots, objections, repairs and the query log.

A credit subject is a person (``per_...``) or an organisation (``org_...``); the two id
prefixes never collide, so standings and snapshots key on one ``subject_id`` column.
Records keep two foreign keys (exactly one set) so a record always points at a real
person or organisation row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdColumn, UTCDateTime, utcnow

RECORD_STATUSES = ("active", "disputed", "repaired", "revoked", "expired")
SEVERITIES = ("minor", "general", "serious")
POLARITIES = ("positive", "negative")
LEVELS = ("AAA", "AA", "A", "B", "C")
GRADES = ("A", "B", "C", "D")


class CreditCategory(Base):
    """A kind of credit record (seeded by the migration)."""

    __tablename__ = "credit_categories"
    __table_args__ = {"info": {"reference": True}}

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    polarity: Mapped[str] = mapped_column(String(10))  # positive | negative | either
    severities: Mapped[list[str]] = mapped_column(JSON)  # allowed for negative records
    positive_dimension: Mapped[str | None] = mapped_column(String(20))  # compliance | public_welfare
    # severity -> [minimum months, maximum months] of publicity; "positive" -> validity of positives
    publicity_months: Mapped[dict[str, list[int]]] = mapped_column(JSON)
    repairable: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class ScoreModel(Base):
    """A versioned score model; exactly one active per subject kind (person | enterprise)."""

    __tablename__ = "credit_score_models"
    __table_args__ = {"info": {"reference": True}}

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(12))  # person | enterprise
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CreditRecord(Base):
    __tablename__ = "credit_records"
    __table_args__ = (
        UniqueConstraint("source_org_id", "source_ref"),
        CheckConstraint("(person_id IS NULL) <> (org_id IS NULL)", name="one_subject"),
        Index("ix_credit_records_person_status", "person_id", "status"),
        Index("ix_credit_records_org_status", "org_id", "status"),
        Index("ix_credit_records_source_status", "source_org_id", "status"),
    )

    id: Mapped[str] = IdColumn("crr")
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    category: Mapped[str] = mapped_column(ForeignKey("credit_categories.code"))
    polarity: Mapped[str] = mapped_column(String(10))
    severity: Mapped[str | None] = mapped_column(String(10))
    source_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    source_ref: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decision: Mapped[str] = mapped_column(Text)
    publicity_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def subject_id(self) -> str:
        return self.person_id or self.org_id or ""


class CreditStanding(Base):
    """The latest score of a subject (one row each): what reads use, never recomputed on read."""

    __tablename__ = "credit_standings"

    subject_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(12), index=True)  # person | enterprise
    score: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[str] = mapped_column(String(4), default="", index=True)
    model_version: Mapped[str] = mapped_column(String(40), default="")
    dimensions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    serious_dishonesty: Mapped[bool] = mapped_column(Boolean, default=False)
    red_list: Mapped[bool] = mapped_column(Boolean, default=False)
    points_rating: Mapped[int] = mapped_column(Integer, default=0)
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    snapshot_id: Mapped[str | None] = mapped_column(String(40))


class ScoreSnapshot(Base):
    """Every computed score, with the cause and the change from the previous one (history)."""

    __tablename__ = "credit_snapshots"
    __table_args__ = (Index("ix_credit_snapshots_subject_id_id", "subject_id", "id"),)

    id: Mapped[str] = IdColumn("csn")
    subject_id: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(4))
    previous_score: Mapped[int | None] = mapped_column(Integer)
    model_version: Mapped[str] = mapped_column(String(40))
    dimensions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    cause: Mapped[str] = mapped_column(String(30))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CreditObjection(Base):
    """A subject's objection (异议) to one record; ``open_record_id`` makes one open per record."""

    __tablename__ = "credit_objections"
    __table_args__ = (
        Index("ix_credit_objections_source_status", "source_org_id", "status"),
        Index("ix_credit_objections_subject_id_id", "subject_id", "id"),
    )

    id: Mapped[str] = IdColumn("cob")
    record_id: Mapped[str] = mapped_column(ForeignKey("credit_records.id"), index=True)
    open_record_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    subject_id: Mapped[str] = mapped_column(String(40))
    source_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    filed_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | decided
    outcome: Mapped[str | None] = mapped_column(String(10))  # upheld | corrected | revoked
    note: Mapped[str | None] = mapped_column(Text)
    corrections: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CreditRepair(Base):
    """A subject's application to repair (信用修复) one negative record; one pending per record."""

    __tablename__ = "credit_repairs"
    __table_args__ = (
        Index("ix_credit_repairs_source_status", "source_org_id", "status"),
        Index("ix_credit_repairs_subject_id_id", "subject_id", "id"),
    )

    id: Mapped[str] = IdColumn("crp")
    record_id: Mapped[str] = mapped_column(ForeignKey("credit_records.id"), index=True)
    pending_record_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    subject_id: Mapped[str] = mapped_column(String(40))
    source_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    filed_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    statement: Mapped[str] = mapped_column(Text)
    commitment_id: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | approved | rejected
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CreditQuery(Base):
    """One organisation's look at a person's credit (the person can list them)."""

    __tablename__ = "credit_queries"
    __table_args__ = (Index("ix_credit_queries_person_id_id", "person_id", "id"),)

    id: Mapped[str] = IdColumn("cqy")
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    purpose: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InspectionDraw(Base):
    """One 双随机 draw of a department: which enterprises it inspects and who inspects each,
    with what it needs to be re-run and checked (the seed, the weights, the candidates' digest)."""

    __tablename__ = "inspection_draws"
    __table_args__ = (Index("ix_inspection_draws_department_id_id", "department_id", "id"),)

    id: Mapped[str] = IdColumn("isd")
    department_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    drawn_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    seed: Mapped[str] = mapped_column(String(24))  # decimal, up to 2**64
    weights: Mapped[dict[str, int]] = mapped_column(JSON)
    region_code: Mapped[str | None] = mapped_column(String(6))
    requested: Mapped[int] = mapped_column(Integer)
    inspectors_per_target: Mapped[int] = mapped_column(Integer)
    candidates: Mapped[int] = mapped_column(Integer)
    candidates_digest: Mapped[str] = mapped_column(String(64))
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{org_id, grade, inspectors: [...]}]
    # what the draw chose from, as it was: {candidates: [[org_id, grade]...], officers: [...],
    # conflicts: {org_id: [account_id...]}} (grades and memberships change afterwards)
    inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
