"""The merchant counter: scan a resident's code, redeem an offer, void, list and export redemptions."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, replace
from typing import Any, cast

from redis import Redis
from sqlalchemy import (
    Connection,
    Row,
    String,
    Table,
    and_,
    bindparam,
    case,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from backend.credit import service as credit_service
from backend.days import check_voidable, date_range
from backend.db import new_id, per_dialect_insert, rowcount, utcnow
from backend.errors import AppError, Conflict, Forbidden, NotFound
from backend.pagination import Page, paginate
from backend.qr import service as qr_service
from scenarios.eligibility import (
    LIMIT_REACHED,
    QUOTA_EXHAUSTED,
    SHANGHAI,
    offer_reason,
    period_key,
)
from scenarios.models import Offer, OfferUsage, Redemption
from scenarios.service.catalogue import LIVE_SCENARIO
from scenarios.service.common import (
    level_name,
    masked_name,
    masked_names,
    masked_subject,
    shown_level,
)
from scenarios.service.offers import rebase_quota, terms_of

_SCAN_OFFER_LIMIT = 200

# Scan and redeem are the counter's hot path: Core statements on the tables, built once here with
# bind parameters, so a request neither builds SQL nor runs the ORM unit of work.
_OFFERS = cast(Table, Offer.__table__)
_USAGES = cast(Table, OfferUsage.__table__)
_REDEMPTIONS = cast(Table, Redemption.__table__)

# The usage row of the offer's current period: :day, :month and :year are the keys of now.
_CURRENT_PERIOD = case(
    *((_OFFERS.c.period == period, bindparam(period, type_=String)) for period in ("day", "month", "year")),
    else_="total",
)

# One statement for the whole scan: the person, their standing, and each live offer of the merchant
# (:merchant_id, under a live scenario) with the person's uses in its current period. Without offers
# the one row has NULL offer columns.
_SCAN = (
    credit_service.PERSON_STANDING.add_columns(*_OFFERS.c, _USAGES.c.used)
    .outerjoin(_OFFERS, and_(_OFFERS.c.merchant_id == bindparam("merchant_id"), _OFFERS.c.active.is_(True),
                             LIVE_SCENARIO))
    .outerjoin(_USAGES, and_(_USAGES.c.offer_id == _OFFERS.c.id, _USAGES.c.person_id == bindparam("person_id"),
                             _USAGES.c.period_key == _CURRENT_PERIOD))
    .order_by(_OFFERS.c.id.desc())
    .limit(_SCAN_OFFER_LIMIT)
)

# A redemption's read: the person and their standing, with the offer and whether its scenario is
# live (NULL offer columns when the merchant has no such offer).
_OFFER_FOR_PERSON = credit_service.PERSON_STANDING.add_columns(
    *_OFFERS.c, LIVE_SCENARIO.label("scenario_active")).outerjoin(
    _OFFERS, and_(_OFFERS.c.id == bindparam("offer_id"), _OFFERS.c.merchant_id == bindparam("merchant_id")))


def _count_use_statement(dialect_insert: Any) -> Any:
    """INSERT the (offer, person, period) usage row at 1, or on conflict add 1 only while below :limit.

    The conflicting row is locked and the WHERE re-checked on its latest version, so concurrent
    uses of one person serialise on that row (PostgreSQL and SQLite).
    """
    stmt = dialect_insert(_USAGES)
    return stmt.on_conflict_do_update(
        index_elements=["offer_id", "person_id", "period_key"], set_={"used": _USAGES.c.used + 1},
        where=_USAGES.c.used < bindparam("limit"),
    ).execution_options(preserve_rowcount=True)  # psycopg reports -1 for an INSERT otherwise


_COUNT_USE = per_dialect_insert(_count_use_statement)

_TAKE_QUOTA = update(_OFFERS).where(_OFFERS.c.id == bindparam("offer_id"), _OFFERS.c.remaining_quota > 0).values(
    remaining_quota=_OFFERS.c.remaining_quota - 1)

# The offer's terms as they are when the redemption writes (SQLite: the request's transaction
# already holds the database's write lock; PostgreSQL locks the row inside scenarios_redeem).
_OFFER_NOW = select(_OFFERS.c.active, _OFFERS.c.per_person_limit, _OFFERS.c.period, _OFFERS.c.total_quota).where(
    _OFFERS.c.id == bindparam("offer_id"))

_INSERT_REDEMPTION = insert(_REDEMPTIONS)
_REDEEM_IN_POSTGRESQL = text(
    "SELECT scenarios_redeem(:id, :offer_id, :merchant_id, :scenario_code, :person_id, :cashier_id, :period, "
    ":period_key, :level, :now)")

# The offer was switched off, or its limit added, removed or moved to another period, between the
# redemption's read and its write: nothing was written; read it again (at most _READS times in all).
OFFER_CHANGED = "offer_changed"
_READS = 3


def limit_period(offer: Any) -> str | None:
    """The period an offer's per-person uses are counted in, None without a limit."""
    return offer.period if offer.per_person_limit is not None else None


@dataclass
class Rejected:
    offer: Row[Any]
    reason: str


@dataclass
class Scan:
    """What the counter sees: never a score, an ID number or a full name."""

    name_masked: str
    level: str
    level_name: str
    offers: list[Row[Any]]
    not_eligible: list[Rejected]


def scan(*, session: Session, redis: Redis, actor: Actor, merchant_id: str, code: str,
         now: dt.datetime | None = None) -> Scan:
    """Look at a resident's code without using it: masked name, level, the offers it may redeem here."""
    now = now or utcnow()
    person_id = qr_service.peek(redis=redis, code=code)
    rows = session.connection().execute(_SCAN, {
        "person_id": person_id, "merchant_id": merchant_id,
        **{period: period_key(period, now) for period in ("day", "month", "year")},
    }).all()
    name_masked, subject = masked_subject(session, person_id, rows[0] if rows else None)
    offers: list[Row[Any]] = []
    not_eligible: list[Rejected] = []
    for row in rows:
        if row.id is None:  # the merchant has no live offer
            continue
        reason = offer_reason(terms_of(row), subject, used=row.used or 0, now=now)
        if reason is None:
            offers.append(row)
        else:
            not_eligible.append(Rejected(offer=row, reason=reason))
    credit_service.log_query(session=session, actor=actor, org_id=merchant_id, person_id=person_id,
                             purpose="benefit")
    session.commit()
    level = shown_level(subject)
    return Scan(name_masked=name_masked, level=level, level_name=level_name(level),
                offers=offers, not_eligible=not_eligible)


@dataclass
class RedemptionView:
    """A redemption as the counter shows it: the offer's title and the resident's masked name beside it."""

    id: str
    offer_id: str
    offer_title: str
    scenario_code: str
    name_masked: str
    level: str
    status: str
    created_at: dt.datetime
    voided_at: dt.datetime | None = None
    void_reason: str | None = None

    @classmethod
    def of(cls, redemption: Redemption, *, offer_title: str, name_masked: str) -> RedemptionView:
        r = redemption
        return cls(id=r.id, offer_id=r.offer_id, offer_title=offer_title, scenario_code=r.scenario_code,
                   name_masked=name_masked, level=r.level, status=r.status, created_at=r.created_at,
                   voided_at=r.voided_at, void_reason=r.void_reason)


def redeem(*, session: Session, redis: Redis, actor: Actor, merchant_id: str, offer_id: str, code: str,
           now: dt.datetime | None = None) -> RedemptionView:
    """Use the resident's code for an offer: level, limit and quota are checked in one transaction.

    The code is looked at first, and the offer read with the person's standing in one statement:
    an unknown offer leaves the code usable. The code is then consumed (exactly one caller gets
    the person); the per-person count and the quota change only through conditional statements,
    so concurrent cashiers can neither exceed the limit nor oversell the quota. The writes take
    the quota and the limit the offer has when they run, under a lock on the offer, so a quota or
    a limit set meanwhile counts this redemption too; if the offer was switched off or its limit's
    period changed since the read, nothing is written and the offer is read again. Any refusal
    rolls back before the commit: nothing is written but the query log row (the refusal's reason
    came from the person's standing, so it was a look as much as a redemption is). On PostgreSQL the writes run in one function
    call (``scenarios_redeem``, migrations 0007 and 0008), elsewhere statement by statement.
    """
    now = now or utcnow()
    person_id = qr_service.peek(redis=redis, code=code)
    row = _offer_for_person(session, offer_id, merchant_id, person_id)
    if qr_service.consume(redis=redis, code=code) != person_id:  # a code names one person for its life
        raise Conflict("qr_already_used")
    try:
        view = _redeem_for(session, actor, merchant_id, offer_id, person_id, row, now)
    except AppError as exc:  # a refusal after the person's standing was read: the look is logged too
        exc.keep(credit_service.query_logger(actor=actor, org_id=merchant_id, person_id=person_id,
                                             purpose="benefit"))
        raise
    credit_service.log_query(session=session, actor=actor, org_id=merchant_id, person_id=person_id,
                             purpose="benefit")
    session.commit()
    return view


def _redeem_for(session: Session, actor: Actor, merchant_id: str, offer_id: str, person_id: str, row: Row[Any],
                now: dt.datetime) -> RedemptionView:
    """The checks and writes of a redemption whose code is used: the view, or the refusal raised."""
    write = _write_in_postgresql if session.connection().dialect.name == "postgresql" else _write_portable
    for attempt in range(1, _READS + 1):
        name_masked, subject = masked_subject(session, person_id, row)
        # Limit and quota are decided below by the conditional statements, not by this read.
        terms = replace(terms_of(row, scenario_active=row.scenario_active), per_person_limit=None,
                        remaining_quota=None)
        reason = offer_reason(terms, subject, used=0, now=now)
        if reason is not None:
            raise Forbidden("not_eligible", reason=reason)
        view = RedemptionView(id=new_id("rdm"), offer_id=offer_id, offer_title=row.title,
                              scenario_code=row.scenario_code, name_masked=name_masked,
                              level=shown_level(subject), status="redeemed", created_at=now)
        period = limit_period(row)
        outcome = write(session.connection(), {
            "id": view.id, "offer_id": offer_id, "merchant_id": merchant_id, "scenario_code": row.scenario_code,
            "person_id": person_id, "cashier_id": actor.account_id, "period": period,
            "period_key": period_key(period, now), "level": view.level, "now": now})
        if outcome != "ok":
            session.rollback()
        if outcome != OFFER_CHANGED:
            break
        if attempt == _READS:
            raise Conflict(OFFER_CHANGED)
        row = _offer_for_person(session, offer_id, merchant_id, person_id)
    if outcome == LIMIT_REACHED:
        raise Forbidden("not_eligible", reason=LIMIT_REACHED)
    if outcome == QUOTA_EXHAUSTED:
        raise Conflict("quota_exhausted")
    return view


def _offer_for_person(session: Session, offer_id: str, merchant_id: str, person_id: str) -> Row[Any]:
    row = session.connection().execute(_OFFER_FOR_PERSON, {"offer_id": offer_id, "merchant_id": merchant_id,
                                                           "person_id": person_id}).one_or_none()
    if row is None:
        raise NotFound("person_not_found")
    if row.id is None:
        raise NotFound("offer_not_found")
    return row


def _write_portable(conn: Connection, w: dict[str, Any]) -> str:
    """The redemption's writes statement by statement (SQLite): ``ok``, ``limit_reached``,
    ``quota_exhausted`` or ``offer_changed``, deciding on the offer as it is now (as scenarios_redeem)."""
    offer = conn.execute(_OFFER_NOW, {"offer_id": w["offer_id"]}).one_or_none()
    if offer is None or not offer.active or limit_period(offer) != w["period"]:
        return OFFER_CHANGED
    if offer.per_person_limit is not None and not conn.execute(_COUNT_USE[conn.dialect.name], {
            "offer_id": w["offer_id"], "person_id": w["person_id"], "period_key": w["period_key"], "used": 1,
            "limit": offer.per_person_limit}).rowcount:
        return LIMIT_REACHED
    if offer.total_quota is not None and not conn.execute(_TAKE_QUOTA, {"offer_id": w["offer_id"]}).rowcount:
        return QUOTA_EXHAUSTED
    conn.execute(_INSERT_REDEMPTION, {
        "id": w["id"], "offer_id": w["offer_id"], "merchant_id": w["merchant_id"],
        "scenario_code": w["scenario_code"], "person_id": w["person_id"], "cashier_id": w["cashier_id"],
        "period_key": w["period_key"], "level": w["level"], "status": "redeemed", "created_at": w["now"]})
    return "ok"


def _write_in_postgresql(conn: Connection, w: dict[str, Any]) -> str:
    return str(conn.execute(_REDEEM_IN_POSTGRESQL, w).scalar_one())


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
    check_voidable(voided=redemption.status == "voided", created_at=redemption.created_at, now=now,
                   window_s=settings.redemption_void_window_s)
    # The offer first, as a redemption locks it (then the usage row): no deadlock between the two.
    offer = session.get(Offer, redemption.offer_id, with_for_update=True)
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
    if offer is not None:
        rebase_quota(session, offer)  # the place comes back only if the quota has room for it
    session.commit()
    session.refresh(redemption)
    return RedemptionView.of(redemption, offer_title=offer.title if offer else "",
                             name_masked=masked_name(session, redemption.person_id))


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
    names = masked_names(session, (r.person_id for r in redemptions))
    return [RedemptionView.of(r, offer_title=titles.get(r.offer_id, ""), name_masked=names[r.person_id])
            for r in redemptions]


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
        for r in _views(session, batch):
            writer.writerow([_cell(v) for v in (
                r.id, _local(r.created_at), r.offer_id, r.offer_title, r.scenario_code, r.name_masked,
                r.level, "已撤销" if r.status == "voided" else "已核销", _local(r.voided_at), r.void_reason)])
        batch.clear()

    for redemption in session.scalars(stmt.execution_options(yield_per=500)):
        batch.append(redemption)
        if len(batch) >= 500:
            flush()
    flush()
    session.rollback()
    return buffer.getvalue()
