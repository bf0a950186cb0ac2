"""The merchant counter: scan a resident's code, redeem an offer, void, list and export redemptions."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, replace

from redis import Redis
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from backend.credit import service as credit_service
from backend.db import dialect_insert, rowcount, utcnow
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.identity.ids import mask_name
from backend.identity.models import Person
from backend.pagination import Page, paginate
from backend.qr import service as qr_service
from scenarios.eligibility import (
    LIMIT_REACHED,
    SHANGHAI,
    local_date,
    offer_reason,
    period_key,
    shanghai_day_start,
)
from scenarios.models import Offer, OfferUsage, Redemption
from scenarios.service.common import level_name, masked_name, shown_level, subject_of
from scenarios.service.offers import judge, merchant_offer, terms_of

_SCAN_OFFER_LIMIT = 200


@dataclass
class Rejected:
    offer: Offer
    reason: str


@dataclass
class Scan:
    """What the counter sees: never a score, an ID number or a full name."""

    name_masked: str
    level: str
    level_name: str
    offers: list[Offer]
    not_eligible: list[Rejected]


def scan(*, session: Session, redis: Redis, actor: Actor, merchant_id: str, code: str,
         now: dt.datetime | None = None) -> Scan:
    """Look at a resident's code without using it: masked name, level, the offers it may redeem here."""
    now = now or utcnow()
    person_id = qr_service.peek(redis=redis, code=code)
    subject = subject_of(session=session, person_id=person_id)
    offers = list(session.scalars(
        select(Offer).where(Offer.merchant_id == merchant_id, Offer.active.is_(True))
        .order_by(Offer.id.desc()).limit(_SCAN_OFFER_LIMIT)
    ))
    judged = judge(session, subject=subject, person_id=person_id, offers=offers, now=now)
    credit_service.log_query(session=session, actor=actor, org_id=merchant_id, person_id=person_id,
                             purpose="benefit")
    result = Scan(
        name_masked=masked_name(session, person_id), level=shown_level(subject),
        level_name=level_name(shown_level(subject)),
        offers=[o for o, reason, _ in judged if reason is None],
        not_eligible=[Rejected(offer=o, reason=reason) for o, reason, _ in judged if reason is not None],
    )
    session.commit()
    return result


@dataclass
class RedemptionView:
    redemption: Redemption
    offer_title: str
    name_masked: str

    def __getattr__(self, name: str) -> object:
        return getattr(self.redemption, name)


def redeem(*, session: Session, redis: Redis, actor: Actor, merchant_id: str, offer_id: str, code: str,
           now: dt.datetime | None = None) -> RedemptionView:
    """Use the resident's code for an offer: level, limit and quota are checked in one transaction.

    The code is consumed first (exactly one caller gets the person); the per-person count and the
    quota then change only through conditional UPDATEs, so concurrent cashiers can neither exceed
    the limit nor oversell the quota.
    """
    now = now or utcnow()
    offer = merchant_offer(session=session, merchant_id=merchant_id, offer_id=offer_id)
    person_id = qr_service.consume(redis=redis, code=code)
    subject = subject_of(session=session, person_id=person_id)
    # Limit and quota are decided below by the conditional updates, not by this read.
    terms = replace(terms_of(offer), per_person_limit=None, remaining_quota=None)
    reason = offer_reason(terms, subject, used=0, now=now)
    if reason is not None:
        raise Forbidden("not_eligible", reason=reason)
    key = period_key(offer.period, now)
    if offer.per_person_limit is not None and not _count_use(session, offer.id, person_id, key,
                                                             offer.per_person_limit):
        raise Forbidden("not_eligible", reason=LIMIT_REACHED)
    if offer.total_quota is not None:
        taken = rowcount(session, update(Offer).where(Offer.id == offer.id, Offer.remaining_quota > 0)
                         .values(remaining_quota=Offer.remaining_quota - 1)
                         .execution_options(synchronize_session=False))
        if not taken:
            raise Conflict("quota_exhausted")
    redemption = Redemption(
        offer_id=offer.id, merchant_id=merchant_id, scenario_code=offer.scenario_code, person_id=person_id,
        cashier_id=actor.account_id, period_key=key, level=shown_level(subject), status="redeemed",
        created_at=now,
    )
    session.add(redemption)
    credit_service.log_query(session=session, actor=actor, org_id=merchant_id, person_id=person_id,
                             purpose="benefit")
    name = masked_name(session, person_id)
    session.commit()
    return RedemptionView(redemption=redemption, offer_title=offer.title, name_masked=name)


def _count_use(session: Session, offer_id: str, person_id: str, key: str, limit: int) -> bool:
    """Count one use against the per-person limit; False when the limit is reached.

    One statement: INSERT the (offer, person, period) row at 1, or on conflict add 1 only while
    below the limit. The conflicting row is locked and the WHERE re-checked on its latest
    version, so concurrent uses of one person serialise on that row (PostgreSQL and SQLite).
    """
    table = OfferUsage.__table__
    assert isinstance(table, Table)
    stmt = dialect_insert(session)(table).values(offer_id=offer_id, person_id=person_id, period_key=key, used=1)
    stmt = stmt.on_conflict_do_update(index_elements=["offer_id", "person_id", "period_key"],
                                      set_={"used": table.c.used + 1}, where=table.c.used < limit)
    return rowcount(session, stmt) == 1


def _merchant_redemption(session: Session, merchant_id: str, redemption_id: str) -> Redemption:
    redemption = session.get(Redemption, redemption_id)
    if redemption is None or redemption.merchant_id != merchant_id:
        raise NotFound("redemption_not_found")
    return redemption


def void(*, session: Session, settings: Settings, actor: Actor, merchant_id: str, redemption_id: str,
         reason: str, now: dt.datetime | None = None) -> RedemptionView:
    """Undo a redemption within the void window: the quota and the person's count come back; the reason stays."""
    now = now or utcnow()
    redemption = _merchant_redemption(session, merchant_id, redemption_id)
    if redemption.status == "voided":
        raise Conflict("redemption_already_voided")
    window = dt.timedelta(seconds=settings.redemption_void_window_s)
    if now - redemption.created_at > window:
        raise Conflict("void_window_passed", hours=int(window.total_seconds() // 3600))
    won = rowcount(session, update(Redemption).where(Redemption.id == redemption.id,
                                                     Redemption.status == "redeemed")
                   .values(status="voided", voided_at=now, voided_by=actor.account_id, void_reason=reason)
                   .execution_options(synchronize_session=False))
    if not won:
        raise Conflict("redemption_already_voided")
    rowcount(session, update(OfferUsage).where(
        OfferUsage.offer_id == redemption.offer_id, OfferUsage.person_id == redemption.person_id,
        OfferUsage.period_key == redemption.period_key, OfferUsage.used > 0,
    ).values(used=OfferUsage.used - 1))
    rowcount(session, update(Offer).where(
        Offer.id == redemption.offer_id, Offer.total_quota.is_not(None), Offer.remaining_quota < Offer.total_quota,
    ).values(remaining_quota=Offer.remaining_quota + 1).execution_options(synchronize_session=False))
    session.commit()
    session.refresh(redemption)
    offer = session.get(Offer, redemption.offer_id)
    return RedemptionView(redemption=redemption, offer_title=offer.title if offer else "",
                          name_masked=masked_name(session, redemption.person_id))


def date_range(date_from: dt.date | None, date_to: dt.date | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of Shanghai calendar days, inclusive of ``date_to``; default the last 30 days."""
    date_to = date_to or local_date(now)
    date_from = date_from or date_to - dt.timedelta(days=30)
    if date_from > date_to or (date_to - date_from).days > 366 or not 2000 <= date_from.year <= date_to.year <= 2100:
        raise Invalid("invalid_date_range")
    return shanghai_day_start(date_from), shanghai_day_start(date_to + dt.timedelta(days=1))


def list_redemptions(*, session: Session, merchant_id: str, date_from: dt.date | None = None,
                     date_to: dt.date | None = None, limit: int = 20, cursor: str | None = None,
                     now: dt.datetime | None = None) -> Page:
    """This merchant's redemptions, newest first, with masked names."""
    start, end = date_range(date_from, date_to, now or utcnow())
    stmt = select(Redemption).where(Redemption.merchant_id == merchant_id, Redemption.created_at >= start,
                                    Redemption.created_at < end)
    page = paginate(session, stmt, Redemption.id, limit=limit, cursor=cursor)
    return Page(items=_views(session, page.items), next_cursor=page.next_cursor)


def _views(session: Session, redemptions: list[Redemption]) -> list[RedemptionView]:
    titles = dict(session.execute(
        select(Offer.id, Offer.title).where(Offer.id.in_({r.offer_id for r in redemptions}))).all())
    names = dict(session.execute(
        select(Person.id, Person.name).where(Person.id.in_({r.person_id for r in redemptions}))).all())
    return [RedemptionView(redemption=r, offer_title=titles.get(r.offer_id, ""),
                           name_masked=mask_name(names.get(r.person_id))) for r in redemptions]


CSV_HEADER = ["核销编号", "核销时间", "优惠编号", "优惠名称", "场景", "居民", "信用等级", "状态", "撤销时间", "撤销原因"]


def _cell(value: object) -> str:
    """Text as Excel should show it: a leading = + - @ would otherwise run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _local(at: dt.datetime | None) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if at else ""


def export_csv(*, session: Session, merchant_id: str, date_from: dt.date | None = None,
               date_to: dt.date | None = None, now: dt.datetime | None = None) -> str:
    """Redemptions of a date range (Asia/Shanghai days) as CSV with a BOM so Excel reads UTF-8."""
    start, end = date_range(date_from, date_to, now or utcnow())
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    stmt = (select(Redemption).where(Redemption.merchant_id == merchant_id, Redemption.created_at >= start,
                                     Redemption.created_at < end).order_by(Redemption.id))
    batch: list[Redemption] = []

    def flush() -> None:
        for view in _views(session, batch):
            r = view.redemption
            writer.writerow([_cell(v) for v in (
                r.id, _local(r.created_at), r.offer_id, view.offer_title, r.scenario_code, view.name_masked,
                r.level, "已撤销" if r.status == "voided" else "已核销", _local(r.voided_at), r.void_reason)])
        batch.clear()

    for redemption in session.scalars(stmt.execution_options(yield_per=500)):
        batch.append(redemption)
        if len(batch) >= 500:
            flush()
    flush()
    session.rollback()
    return buffer.getvalue()
