from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdColumn, UTCDateTime, utcnow

ORG_KINDS = ("village", "community", "merchant", "hospital", "department", "enterprise")

ROLES_BY_KIND: dict[str, frozenset[str]] = {
    "village": frozenset({"admin", "clerk", "approver", "cashier"}),
    "community": frozenset({"admin", "clerk", "approver", "cashier"}),
    "merchant": frozenset({"admin", "cashier"}),
    "hospital": frozenset({"admin", "clinician", "billing"}),
    "department": frozenset({"admin", "officer"}),
    "enterprise": frozenset({"admin", "signer"}),
}

# Organisations that must carry a valid unified social credit code (GB 32100).
KINDS_REQUIRING_CREDIT_CODE = frozenset({"merchant", "hospital", "enterprise", "department"})


class Person(Base):
    """A natural person as a credit subject; may exist (from department records) before any account."""

    __tablename__ = "persons"

    id: Mapped[str] = IdColumn("per")
    id_blind: Mapped[str] = mapped_column(String(64), unique=True)  # HMAC blind index of the ID number
    id_cipher: Mapped[bytes] = mapped_column(LargeBinary)  # AES-GCM(ID number)
    id_masked: Mapped[str] = mapped_column(String(18))
    name: Mapped[str | None] = mapped_column(String(50))
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = IdColumn("acc")
    phone: Mapped[str] = mapped_column(String(11), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Real-name binding: one person, at most one account (unique).
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"), unique=True)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RealNameClaim(Base):
    """An account's claim to be a person; approved at once (checksum) or at a service counter."""

    __tablename__ = "real_name_claims"
    __table_args__ = (Index("ix_real_name_claims_status", "status"),)

    id: Mapped[str] = IdColumn("rnc")
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    verifier: Mapped[str] = mapped_column(String(16))  # checksum | counter
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = IdColumn("org")
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    region_code: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Membership(Base):
    """One role of one account in one organisation."""

    __tablename__ = "memberships"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EnterpriseClaim(Base):
    """An account's claim to act for an enterprise (as its admin); a platform admin decides."""

    __tablename__ = "enterprise_claims"

    id: Mapped[str] = IdColumn("ecl")
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | approved | rejected
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
