"""信易+ scenarios, merchant offers and redemptions; 信用+医疗 policies, lines, visits and bills."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdColumn, UTCDateTime, utcnow


class Scenario(Base):
    """A benefit domain (medical, travel, rental ...); seeded by the migration, extended by admins."""

    __tablename__ = "scenarios"
    __table_args__ = {"info": {"reference": True}}

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Offer(Base):
    """A merchant's benefit under a scenario."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("remaining_quota IS NULL OR remaining_quota >= 0", name="quota_not_negative"),
        Index("ix_offers_scenario_active", "scenario_code", "active"),
    )

    id: Mapped[str] = IdColumn("ofr")
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    scenario_code: Mapped[str] = mapped_column(ForeignKey("scenarios.code"))
    region_code: Mapped[str] = mapped_column(String(12), index=True)  # the merchant's, for the region filter
    title: Mapped[str] = mapped_column(String(200))
    benefit: Mapped[str] = mapped_column(Text)
    min_level: Mapped[str] = mapped_column(String(3))
    red_list_only: Mapped[bool] = mapped_column(Boolean, default=False)
    per_person_limit: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str | None] = mapped_column(String(8))  # day | month | year | total
    total_quota: Mapped[int | None] = mapped_column(Integer)
    remaining_quota: Mapped[int | None] = mapped_column(Integer)  # changed only by conditional UPDATEs
    valid_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    valid_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OfferUsage(Base):
    """How often one person used one offer in one period: the row that serialises per-person limits."""

    __tablename__ = "offer_usages"
    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)

    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(10), primary_key=True)  # '2026-11', 'total' ...
    used: Mapped[int] = mapped_column(Integer, default=0)


class Redemption(Base):
    __tablename__ = "redemptions"
    __table_args__ = (Index("ix_redemptions_merchant_created", "merchant_id", "created_at"),)

    id: Mapped[str] = IdColumn("rdm")
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    scenario_code: Mapped[str] = mapped_column(ForeignKey("scenarios.code"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    cashier_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    period_key: Mapped[str] = mapped_column(String(10))
    level: Mapped[str] = mapped_column(String(3))  # the level shown at the counter
    status: Mapped[str] = mapped_column(String(10), default="redeemed")  # redeemed | voided
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    voided_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    void_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HospitalPolicy(Base):
    """A hospital's treat-first-pay-later terms; absent means the defaults of the settings."""

    __tablename__ = "hospital_policies"

    hospital_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    min_level: Mapped[str] = mapped_column(String(3))
    line_a_fen: Mapped[int] = mapped_column(Integer)
    line_aa_fen: Mapped[int] = mapped_column(Integer)
    line_aaa_fen: Mapped[int] = mapped_column(Integer)
    repayment_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MedicalCreditLine(Base):
    """A person's use of medical credit across all hospitals: the row that serialises charges."""

    __tablename__ = "medical_credit_lines"
    __table_args__ = (CheckConstraint("used_fen >= 0", name="used_not_negative"),)

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    used_fen: Mapped[int] = mapped_column(Integer, default=0)  # open charges + unpaid bills


class MedicalVisit(Base):
    __tablename__ = "medical_visits"

    id: Mapped[str] = IdColumn("mvs")
    hospital_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    opened_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    level: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | settled
    total_fen: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class MedicalCharge(Base):
    __tablename__ = "medical_charges"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[str] = IdColumn("mch")
    visit_id: Mapped[str] = mapped_column(ForeignKey("medical_visits.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(200))
    posted_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MedicalBill(Base):
    __tablename__ = "medical_bills"
    __table_args__ = (
        CheckConstraint("paid_fen >= 0 AND paid_fen <= amount_fen", name="paid_within_amount"),
        Index("ix_medical_bills_status_due", "status", "due_date"),
    )

    id: Mapped[str] = IdColumn("mbl")
    visit_id: Mapped[str] = mapped_column(ForeignKey("medical_visits.id"), unique=True)
    hospital_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    paid_fen: Mapped[int] = mapped_column(Integer, default=0)  # changed only by conditional UPDATEs
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | overdue | paid
    due_date: Mapped[dt.date] = mapped_column(Date)  # Asia/Shanghai calendar day
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    default_record_id: Mapped[str | None] = mapped_column(String(40))  # the credit record mark-overdue wrote

    @property
    def outstanding_fen(self) -> int:
        return self.amount_fen - self.paid_fen


class MedicalPayment(Base):
    __tablename__ = "medical_payments"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[str] = IdColumn("mpy")
    bill_id: Mapped[str] = mapped_column(ForeignKey("medical_bills.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(20))
    posted_by: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
