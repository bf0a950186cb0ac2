"""厚德积分: village points accounts, double-entry transactions, rules, awards and the store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdColumn, UTCDateTime, utcnow

ACCOUNT_KINDS = ("issuance", "resident", "store")
AWARD_STATUSES = ("pending", "approved", "rejected", "reversed")


class PointsAccount(Base):
    """One account of a village's points economy.

    ``key`` is ``issuance``, ``store`` or the resident's person id, unique per
    village. ``balance`` and ``rating`` are kept equal to the account's entries
    by the same transaction that writes them (``points verify`` checks).
    """

    __tablename__ = "points_accounts"
    __table_args__ = (UniqueConstraint("org_id", "key"), Index("ix_points_accounts_person_id", "person_id"))

    id: Mapped[str] = IdColumn("pac")
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))
    balance: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int] = mapped_column(Integer, default=0)
    added_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PointsTransaction(Base):
    """A posting: its entries sum to zero. ``kind``: award, reversal, redemption, refund."""

    __tablename__ = "points_transactions"

    id: Mapped[str] = IdColumn("ptx")
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    memo: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PointsEntry(Base):
    """One leg of a transaction. Append-only: never updated or deleted."""

    __tablename__ = "points_entries"
    __table_args__ = (Index("ix_points_entries_account_created", "account_id", "created_at"),)

    id: Mapped[str] = IdColumn("pen")
    transaction_id: Mapped[str] = mapped_column(ForeignKey("points_transactions.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("points_accounts.id"))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(16))  # the transaction's kind (rating counts award/reversal)
    amount: Mapped[int] = mapped_column(Integer)
    memo: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PointsRule(Base):
    """村规民约: what an award or deduction is for, and how often a resident may get it."""

    __tablename__ = "points_rules"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    id: Mapped[str] = IdColumn("prl")
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    points: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    limit_per_period: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str | None] = mapped_column(String(8))  # day | month | year
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PointsAward(Base):
    """An award or deduction by a rule, submitted by a clerk and decided by an approver."""

    __tablename__ = "points_awards"
    __table_args__ = (
        Index("ix_points_awards_org_status", "org_id", "status"),
        Index("ix_points_awards_limit", "account_id", "rule_id", "status", "approved_at"),
    )

    id: Mapped[str] = IdColumn("paw")
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("points_accounts.id"))
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    rule_id: Mapped[str] = mapped_column(ForeignKey("points_rules.id"))
    rule_code: Mapped[str] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    submitted_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    transaction_id: Mapped[str | None] = mapped_column(ForeignKey("points_transactions.id"))
    reversed_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    reversed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reversal_reason: Mapped[str | None] = mapped_column(Text)
    reversal_transaction_id: Mapped[str | None] = mapped_column(ForeignKey("points_transactions.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StoreItem(Base):
    """积分超市 item: a price in points and a stock only ever changed by conditional UPDATEs."""

    __tablename__ = "points_store_items"

    id: Mapped[str] = IdColumn("psi")
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StoreRedemption(Base):
    __tablename__ = "points_store_redemptions"

    id: Mapped[str] = IdColumn("prd")
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("points_store_items.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("points_accounts.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    cashier_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    transaction_id: Mapped[str] = mapped_column(ForeignKey("points_transactions.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A village admin may void a sale within the void window (the goods came back): a refund
    # transaction returns the points, the stock comes back, and the row keeps who, when and why.
    status: Mapped[str] = mapped_column(String(10), default="completed", server_default="completed")  # | voided
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    voided_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    void_reason: Mapped[str | None] = mapped_column(Text)
    refund_transaction_id: Mapped[str | None] = mapped_column(ForeignKey("points_transactions.id"))


class VillageSettings(Base):
    """Per-village star thresholds (信用户); villages without a row use the configured default."""

    __tablename__ = "points_village_settings"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    star_thresholds: Mapped[list[int]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
