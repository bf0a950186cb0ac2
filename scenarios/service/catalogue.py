"""The scenario catalogue and the admins' statistics."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from scenarios.eligibility import SHANGHAI, local_date, shanghai_day_start
from scenarios.models import Offer, Redemption, Scenario

# An offer is live only while its scenario is: a condition on offers (ORM queries and the counter's
# Core statements alike). Retiring a scenario takes its offers off the listings and the counter,
# without touching the merchants' own active flags, so reviving it brings them back.
LIVE_SCENARIO = exists().where(Scenario.code == Offer.scenario_code, Scenario.active.is_(True))


def list_scenarios(*, session: Session, include_inactive: bool = False) -> list[Scenario]:
    """The catalogue, by code."""
    stmt = select(Scenario).order_by(Scenario.code)
    if not include_inactive:
        stmt = stmt.where(Scenario.active.is_(True))
    return list(session.scalars(stmt))


def get_scenario(*, session: Session, code: str) -> Scenario:
    scenario = session.get(Scenario, code)
    if scenario is None:
        raise NotFound("scenario_not_found", scenario=code)
    return scenario


def create_scenario(*, session: Session, code: str, name: str, description: str = "") -> Scenario:
    """Add a scenario to the catalogue (platform admin)."""
    if session.get(Scenario, code) is not None:
        raise Conflict("scenario_exists", scenario=code)
    scenario = Scenario(code=code, name=name, description=description, active=True, created_at=utcnow())
    session.add(scenario)
    session.commit()
    return scenario


def update_scenario(*, session: Session, code: str, name: str | None = None, description: str | None = None,
                    active: bool | None = None) -> Scenario:
    """Rename, describe, retire or revive a scenario (platform admin)."""
    scenario = get_scenario(session=session, code=code)
    if name is not None:
        scenario.name = name
    if description is not None:
        scenario.description = description
    if active is not None:
        scenario.active = active
    session.commit()
    return scenario


@dataclass
class ScenarioStats:
    code: str
    name: str
    active: bool
    live: bool
    live_offers: int
    redemptions: int
    months: list[dict[str, object]] = field(default_factory=list)


@dataclass
class Stats:
    scenarios: int
    live_scenarios: int
    from_month: str
    to_month: str
    items: list[ScenarioStats]


def _month_start(month: str) -> dt.date:
    try:
        year, mon = (int(part) for part in month.split("-"))
        if not 2000 <= year <= 2100:
            raise ValueError(month)
        return dt.date(year, mon, 1)
    except ValueError as exc:
        raise Invalid("invalid_month_range") from exc


def _months(first: dt.date, last: dt.date) -> list[str]:
    out, cursor = [], first
    while cursor <= last:
        out.append(cursor.strftime("%Y-%m"))
        cursor = dt.date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    return out


def scenario_stats(*, session: Session, from_month: str | None = None, to_month: str | None = None,
                   now: dt.datetime | None = None) -> Stats:
    """Live scenarios, live offers and redemptions per scenario per month (Asia/Shanghai months).

    A scenario is live when it is active and has at least one active offer inside its validity window.
    """
    now = now or utcnow()
    today = local_date(now)
    last = _month_start(to_month) if to_month else today.replace(day=1)
    first = _month_start(from_month) if from_month else dt.date(last.year - 1, last.month, 1)
    if first > last or (last.year - first.year) * 12 + last.month - first.month > 36:
        raise Invalid("invalid_month_range")
    months = _months(first, last)
    after_last = dt.date(last.year + last.month // 12, last.month % 12 + 1, 1)

    live_offers = dict(session.execute(
        select(Offer.scenario_code, func.count())
        .where(Offer.active.is_(True), or_(Offer.valid_from.is_(None), Offer.valid_from <= now),
               or_(Offer.valid_to.is_(None), Offer.valid_to > now), LIVE_SCENARIO)
        .group_by(Offer.scenario_code)
    ).all())
    per_month: Counter[tuple[str, str]] = Counter()
    rows = session.execute(
        select(Redemption.scenario_code, Redemption.created_at)
        .where(Redemption.status == "redeemed", Redemption.created_at >= shanghai_day_start(first),
               Redemption.created_at < shanghai_day_start(after_last))
    )
    for code, created_at in rows:
        per_month[(code, created_at.astimezone(SHANGHAI).strftime("%Y-%m"))] += 1

    items = []
    for scenario in list_scenarios(session=session, include_inactive=True):
        offers = int(live_offers.get(scenario.code, 0))
        counts = [{"month": m, "redemptions": per_month.get((scenario.code, m), 0)} for m in months]
        items.append(ScenarioStats(
            code=scenario.code, name=scenario.name, active=scenario.active,
            live=scenario.active and offers > 0, live_offers=offers,
            redemptions=sum(int(c["redemptions"]) for c in counts),  # type: ignore[call-overload]
            months=counts,
        ))
    return Stats(scenarios=len(items), live_scenarios=sum(1 for i in items if i.live),
                 from_month=months[0], to_month=months[-1], items=items)
