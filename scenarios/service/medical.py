"""信用+医疗 (treat first, pay later): hospital policy, eligibility, visits, charges, bills, overdue job.

A person's credit line is shared by all hospitals: ``medical_credit_lines.used_fen`` holds the open
charges and unpaid bills, and a charge wins only through ``UPDATE ... SET used_fen = used_fen + :n
WHERE used_fen + :n <= :line`` — that row serialises every hospital's charges for the person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from redis import Redis
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from backend.credit import service as credit_service
from backend.db import insert_ignore, rowcount, utcnow
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.identity.models import Organisation
from backend.pagination import Page, paginate
from backend.qr import service as qr_service
from scenarios.eligibility import (
    LINE_USED_UP,
    MEDICAL_LEVELS,
    available_fen,
    credit_line,
    due_date,
    medical_reason,
    shanghai_day_start,
)
from scenarios.models import (
    HospitalPolicy,
    MedicalBill,
    MedicalCharge,
    MedicalCreditLine,
    MedicalPayment,
    MedicalVisit,
)
from scenarios.service.common import (
    level_name,
    masked_name,
    masked_names,
    person_subject,
    shown_level,
)


@dataclass
class Policy:
    hospital_id: str
    min_level: str
    lines_fen: dict[str, int]
    repayment_days: int
    is_default: bool = False
    updated_at: dt.datetime | None = None


def get_policy(*, session: Session, settings: Settings, hospital_id: str) -> Policy:
    """The hospital's policy, or the defaults of the settings when it has set none."""
    row = session.get(HospitalPolicy, hospital_id)
    if row is None:
        return Policy(hospital_id=hospital_id, min_level=settings.medical_min_level,
                      lines_fen={"A": settings.medical_line_a_fen, "AA": settings.medical_line_aa_fen,
                                 "AAA": settings.medical_line_aaa_fen},
                      repayment_days=settings.medical_repayment_days, is_default=True)
    return Policy(hospital_id=hospital_id, min_level=row.min_level,
                  lines_fen={"A": row.line_a_fen, "AA": row.line_aa_fen, "AAA": row.line_aaa_fen},
                  repayment_days=row.repayment_days, updated_at=row.updated_at)


def put_policy(*, session: Session, settings: Settings, hospital_id: str, min_level: str,
               lines_fen: dict[str, int], repayment_days: int) -> Policy:
    """Set the hospital's minimum level, line per level and repayment window (hospital admin)."""
    lines = [int(lines_fen[level]) for level in MEDICAL_LEVELS]
    if lines != sorted(lines):
        raise Invalid("invalid_policy")
    row = session.get(HospitalPolicy, hospital_id, with_for_update=True)
    if row is None:
        row = HospitalPolicy(hospital_id=hospital_id)
        session.add(row)
    row.min_level, row.repayment_days, row.updated_at = min_level, repayment_days, utcnow()
    row.line_a_fen, row.line_aa_fen, row.line_aaa_fen = lines
    session.commit()
    return get_policy(session=session, settings=settings, hospital_id=hospital_id)


def is_suspended(session: Session, person_id: str) -> bool:
    """An overdue bill anywhere suspends the person's medical credit until it is paid."""
    return bool(session.scalar(select(exists().where(MedicalBill.person_id == person_id,
                                                     MedicalBill.status == "overdue"))))


def used_fen(session: Session, person_id: str) -> int:
    return int(session.scalar(select(MedicalCreditLine.used_fen).where(MedicalCreditLine.person_id == person_id))
               or 0)


@dataclass
class Eligibility:
    """What a clinician sees: a level and money, never the score or the records."""

    eligible: bool
    level: str
    level_name: str
    line_fen: int
    available_fen: int
    name_masked: str
    reason: str | None = None


def _evaluate(session: Session, settings: Settings, hospital_id: str, person_id: str) -> Eligibility:
    policy = get_policy(session=session, settings=settings, hospital_id=hospital_id)
    name_masked, subject = person_subject(session, person_id)
    level = shown_level(subject)
    used = used_fen(session, person_id)
    reason = medical_reason(subject, min_level=policy.min_level, lines_fen=policy.lines_fen,
                            suspended=is_suspended(session, person_id), used_fen=used)
    line = 0 if subject.serious_dishonesty else credit_line(level=level, min_level=policy.min_level,
                                                            lines_fen=policy.lines_fen)
    available = 0 if reason else available_fen(line_fen=line, used_fen=used)
    return Eligibility(eligible=reason is None, level=level, level_name=level_name(level), line_fen=line,
                       available_fen=available, name_masked=name_masked, reason=reason)


def check_eligibility(*, session: Session, settings: Settings, redis: Redis, actor: Actor, hospital_id: str,
                      code: str) -> Eligibility:
    """Read a patient's code (not consumed): eligible or not, line and what is left of it; logged."""
    person_id = qr_service.peek(redis=redis, code=code)
    result = _evaluate(session, settings, hospital_id, person_id)
    credit_service.log_query(session=session, actor=actor, org_id=hospital_id, person_id=person_id,
                             purpose="medical")
    session.commit()
    return result


@dataclass
class VisitView:
    visit: MedicalVisit
    name_masked: str
    line_fen: int | None = 0
    available_fen: int | None = 0
    charges: list[MedicalCharge] = field(default_factory=list)
    bill: BillView | None = None  # with its payments

    def __getattr__(self, name: str) -> object:
        return getattr(self.visit, name)


def open_visit(*, session: Session, settings: Settings, redis: Redis, actor: Actor, hospital_id: str,
               code: str, now: dt.datetime | None = None) -> VisitView:
    """Use the patient's code to open a treat-first visit (refused unless eligible now)."""
    person_id = qr_service.consume(redis=redis, code=code)
    result = _evaluate(session, settings, hospital_id, person_id)
    if not result.eligible:  # the reason comes from the person's credit: the look is logged all the same
        raise Forbidden("not_eligible", reason=result.reason).keep(credit_service.query_logger(
            actor=actor, org_id=hospital_id, person_id=person_id, purpose="medical"))
    visit = MedicalVisit(hospital_id=hospital_id, person_id=person_id, opened_by=actor.account_id,
                         level=result.level, status="open", total_fen=0, opened_at=now or utcnow())
    session.add(visit)
    credit_service.log_query(session=session, actor=actor, org_id=hospital_id, person_id=person_id,
                             purpose="medical")
    session.commit()
    return VisitView(visit=visit, name_masked=result.name_masked, line_fen=result.line_fen,
                     available_fen=result.available_fen)


def _hospital_visit(session: Session, hospital_id: str, visit_id: str) -> MedicalVisit:
    visit = session.get(MedicalVisit, visit_id)
    if visit is None or visit.hospital_id != hospital_id:
        raise NotFound("visit_not_found")
    return visit


def get_visit(*, session: Session, settings: Settings, actor: Actor, hospital_id: str, visit_id: str) -> VisitView:
    """A visit with its charges and bill; while it is open, the patient's line and what is left of it.

    The line comes from the person's current level: showing it is a look at their credit, logged
    (purpose ``medical``) like the eligibility check, and only while the treatment the patient
    opened with their code goes on. A settled visit shows no line (``null``): the bill is what
    billing works on then, and a past patient's credit is not the hospital's to follow.
    """
    visit = _hospital_visit(session, hospital_id, visit_id)
    charges = list(session.scalars(select(MedicalCharge).where(MedicalCharge.visit_id == visit.id)
                                   .order_by(MedicalCharge.id)))
    stored = session.scalars(select(MedicalBill).where(MedicalBill.visit_id == visit.id)).one_or_none()
    bill = _bill_views(session, [stored], with_names=False)[0] if stored is not None else None  # with payments
    if visit.status != "open":
        name_masked = masked_name(session, visit.person_id)
        session.rollback()
        return VisitView(visit=visit, name_masked=name_masked, line_fen=None, available_fen=None,
                         charges=charges, bill=bill)
    line = _evaluate(session, settings, hospital_id, visit.person_id)
    credit_service.log_query(session=session, actor=actor, org_id=hospital_id, person_id=visit.person_id,
                             purpose="medical")
    session.commit()
    return VisitView(visit=visit, name_masked=line.name_masked, line_fen=line.line_fen,
                     available_fen=line.available_fen, charges=charges, bill=bill)


def add_charge(*, session: Session, settings: Settings, actor: Actor, hospital_id: str, visit_id: str,
               amount_fen: int, item: str, now: dt.datetime | None = None) -> MedicalCharge:
    """Post a charge to an open visit, within the person's line across all hospitals."""
    visit = _hospital_visit(session, hospital_id, visit_id)
    if visit.status != "open":
        raise Conflict("visit_not_open")
    result = _evaluate(session, settings, hospital_id, visit.person_id)
    # A charge is weighed against the person's credit line: a look, logged whatever the answer (a
    # refusal tells the hospital a reason, or what is left of the line).
    look = credit_service.query_logger(actor=actor, org_id=hospital_id, person_id=visit.person_id,
                                       purpose="medical")
    if not result.eligible and result.reason != LINE_USED_UP:  # a used-up line is credit_line_exceeded below
        raise Forbidden("not_eligible", reason=result.reason).keep(look)
    insert_ignore(session, MedicalCreditLine.__table__, {"person_id": visit.person_id, "used_fen": 0},
                  ["person_id"])
    charged = rowcount(session, update(MedicalCreditLine).where(
        MedicalCreditLine.person_id == visit.person_id,
        MedicalCreditLine.used_fen + amount_fen <= result.line_fen,
    ).values(used_fen=MedicalCreditLine.used_fen + amount_fen))
    if not charged:
        left = available_fen(line_fen=result.line_fen, used_fen=used_fen(session, visit.person_id))
        raise Conflict("credit_line_exceeded", available_fen=left, amount_fen=amount_fen, available_yuan=_yuan(left),
                       amount_yuan=_yuan(amount_fen)).keep(look)
    still_open = rowcount(session, update(MedicalVisit).where(MedicalVisit.id == visit.id,
                                                             MedicalVisit.status == "open")
                          .values(total_fen=MedicalVisit.total_fen + amount_fen)
                          .execution_options(synchronize_session=False))
    if not still_open:
        raise Conflict("visit_not_open")
    charge = MedicalCharge(visit_id=visit.id, amount_fen=amount_fen, item=item, posted_by=actor.account_id,
                           created_at=now or utcnow())
    session.add(charge)
    look(session)  # the charge was weighed against the person's line: a look, like a refusal
    session.commit()
    return charge


def settle_visit(*, session: Session, settings: Settings, hospital_id: str, visit_id: str,
                 now: dt.datetime | None = None) -> BillView:
    """Close a visit into a bill due after the hospital's repayment window (Asia/Shanghai days)."""
    now = now or utcnow()
    visit = _hospital_visit(session, hospital_id, visit_id)
    closed = rowcount(session, update(MedicalVisit).where(
        MedicalVisit.id == visit.id, MedicalVisit.status == "open", MedicalVisit.total_fen > 0,
    ).values(status="settled", settled_at=now).execution_options(synchronize_session=False))
    session.refresh(visit)
    if not closed:
        raise Conflict("visit_not_open") if visit.status != "open" else Invalid("visit_has_no_charges")
    policy = get_policy(session=session, settings=settings, hospital_id=hospital_id)
    bill = MedicalBill(visit_id=visit.id, hospital_id=hospital_id, person_id=visit.person_id,
                       amount_fen=visit.total_fen, paid_fen=0, status="open",
                       due_date=due_date(now, policy.repayment_days), created_at=now)
    session.add(bill)
    session.commit()
    return _bill_views(session, [bill], with_names=False)[0]


def _hospital_bill(session: Session, hospital_id: str, bill_id: str) -> MedicalBill:
    bill = session.get(MedicalBill, bill_id)
    if bill is None or bill.hospital_id != hospital_id:
        raise NotFound("bill_not_found")
    return bill


@dataclass
class PaymentView:
    payment: MedicalPayment
    bill: MedicalBill

    @property
    def bill_status(self) -> str:
        return self.bill.status

    @property
    def outstanding_fen(self) -> int:
        return self.bill.amount_fen - self.bill.paid_fen

    def __getattr__(self, name: str) -> object:
        return getattr(self.payment, name)


def pay_bill(*, session: Session, actor: Actor, hospital_id: str, bill_id: str, amount_fen: int, method: str,
             now: dt.datetime | None = None) -> PaymentView:
    """Record a (partial) payment; the line frees up, and a fully paid overdue bill lifts the suspension."""
    now = now or utcnow()
    bill = _hospital_bill(session, hospital_id, bill_id)
    paid = rowcount(session, update(MedicalBill).where(
        MedicalBill.id == bill.id, MedicalBill.paid_fen + amount_fen <= MedicalBill.amount_fen,
    ).values(paid_fen=MedicalBill.paid_fen + amount_fen).execution_options(synchronize_session=False))
    if not paid:
        session.refresh(bill)
        if bill.paid_fen >= bill.amount_fen:
            raise Conflict("bill_already_paid")
        outstanding = bill.amount_fen - bill.paid_fen
        raise Invalid("overpayment", outstanding_fen=outstanding, amount_fen=amount_fen,
                      outstanding_yuan=_yuan(outstanding), amount_yuan=_yuan(amount_fen))
    rowcount(session, update(MedicalBill).where(MedicalBill.id == bill.id,
                                                MedicalBill.paid_fen == MedicalBill.amount_fen)
             .values(status="paid", paid_at=now).execution_options(synchronize_session=False))
    rowcount(session, update(MedicalCreditLine).where(MedicalCreditLine.person_id == bill.person_id,
                                                      MedicalCreditLine.used_fen >= amount_fen)
             .values(used_fen=MedicalCreditLine.used_fen - amount_fen))
    payment = MedicalPayment(bill_id=bill.id, amount_fen=amount_fen, method=method, posted_by=actor.account_id,
                             created_at=now)
    session.add(payment)
    session.commit()
    session.refresh(bill)
    return PaymentView(payment=payment, bill=bill)


@dataclass
class BillView:
    bill: MedicalBill
    hospital_name: str
    name_masked: str = ""
    payments: list[MedicalPayment] = field(default_factory=list)  # oldest first

    def __getattr__(self, name: str) -> object:
        return getattr(self.bill, name)


def _bill_views(session: Session, bills: list[MedicalBill], *, with_names: bool) -> list[BillView]:
    if not bills:
        return []
    names = dict(session.execute(select(Organisation.id, Organisation.name)
                                 .where(Organisation.id.in_({b.hospital_id for b in bills}))).all())
    persons = masked_names(session, (b.person_id for b in bills)) if with_names else {}
    payments: dict[str, list[MedicalPayment]] = {}
    for payment in session.scalars(select(MedicalPayment).where(MedicalPayment.bill_id.in_([b.id for b in bills]))
                                   .order_by(MedicalPayment.created_at, MedicalPayment.id)):
        payments.setdefault(payment.bill_id, []).append(payment)
    return [BillView(bill=b, hospital_name=names.get(b.hospital_id, ""), name_masked=persons.get(b.person_id, ""),
                     payments=payments.get(b.id, [])) for b in bills]


def get_bill(*, session: Session, hospital_id: str, bill_id: str) -> BillView:
    bill = _hospital_bill(session, hospital_id, bill_id)
    return _bill_views(session, [bill], with_names=True)[0]


def my_bills(*, session: Session, person_id: str, status: str | None = None, limit: int = 20,
             cursor: str | None = None) -> Page:
    """A resident's bills at every hospital, newest first."""
    stmt = select(MedicalBill).where(MedicalBill.person_id == person_id)
    if status:
        stmt = stmt.where(MedicalBill.status == status)
    page = paginate(session, stmt, MedicalBill.id, limit=limit, cursor=cursor)
    return Page(items=_bill_views(session, page.items, with_names=False), next_cursor=page.next_cursor)


def hospital_visits(*, session: Session, hospital_id: str, status: str | None = None, limit: int = 20,
                    cursor: str | None = None) -> Page:
    """A hospital's visits, newest first, with masked names (open ones are what billing works on)."""
    stmt = select(MedicalVisit).where(MedicalVisit.hospital_id == hospital_id)
    if status:
        stmt = stmt.where(MedicalVisit.status == status)
    page = paginate(session, stmt, MedicalVisit.id, limit=limit, cursor=cursor)
    names = masked_names(session, (v.person_id for v in page.items))
    return Page(items=[VisitView(visit=v, name_masked=names[v.person_id]) for v in page.items],
                next_cursor=page.next_cursor)  # the list's schema shows no line: none is read here


def hospital_bills(*, session: Session, hospital_id: str, status: str | None = None, limit: int = 20,
                   cursor: str | None = None) -> Page:
    """A hospital's bills, newest first, with masked names."""
    stmt = select(MedicalBill).where(MedicalBill.hospital_id == hospital_id)
    if status:
        stmt = stmt.where(MedicalBill.status == status)
    page = paginate(session, stmt, MedicalBill.id, limit=limit, cursor=cursor)
    return Page(items=_bill_views(session, page.items, with_names=True), next_cursor=page.next_cursor)


def _yuan(fen: int) -> str:
    """Fen as yuan for people ("1500.00"): 分 also means points and score points on this platform."""
    return f"{fen // 100}.{fen % 100:02d}"


def mark_overdue(*, session: Session, settings: Settings, as_of: dt.date,
                 now: dt.datetime | None = None) -> list[str]:
    """Mark bills unpaid after their due day overdue, each with one `medical_credit_default` record.

    Each bill is marked and recorded in its own transaction; the conditional status change
    (open -> overdue) and the record's source_ref make a second run write nothing.
    """
    now = now or utcnow()
    candidates = list(session.scalars(select(MedicalBill.id).where(MedicalBill.status == "open",
                                                                   MedicalBill.due_date < as_of)
                                      .order_by(MedicalBill.id)))
    session.rollback()
    marked: list[str] = []
    for bill_id in candidates:
        won = rowcount(session, update(MedicalBill).where(
            MedicalBill.id == bill_id, MedicalBill.status == "open", MedicalBill.paid_fen < MedicalBill.amount_fen,
        ).values(status="overdue", overdue_at=now).execution_options(synchronize_session=False))
        if not won:
            session.rollback()
            continue
        bill = session.get(MedicalBill, bill_id)
        assert bill is not None
        session.refresh(bill)
        # The default happened when the due day ended (Asia/Shanghai), whenever the job noticed it.
        occurred = min(now, shanghai_day_start(bill.due_date + dt.timedelta(days=1)))
        record, _created = credit_service.record_event(
            session=session, settings=settings, source_org_id=bill.hospital_id, category="medical_credit_default",
            source_ref=f"bill:{bill.id}", occurred_at=occurred, severity="general", polarity="negative",
            subject_person_id=bill.person_id,
            decision=f"医疗费用 {_yuan(bill.amount_fen)} 元逾期未还（应于 {bill.due_date.isoformat()} 前还清），"
                     f"尚欠 {_yuan(bill.amount_fen - bill.paid_fen)} 元。",
        )
        bill.default_record_id = getattr(record, "id", None)
        session.commit()
        marked.append(bill_id)
    return marked
