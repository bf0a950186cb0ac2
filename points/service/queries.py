"""What residents and members read: my points, my entries, the leaderboard."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.db import utcnow
from backend.errors import Invalid
from backend.identity.ids import mask_name
from backend.identity.models import Organisation, Person
from backend.pagination import Page, paginate
from points import ledger
from points.models import PointsAccount, PointsEntry
from points.service.residents import thresholds

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\Z")


def my_points(*, session: Session, settings: Settings, person_id: str) -> dict[str, Any]:
    """Per village: balance, rating and stars."""
    rows = session.execute(
        select(PointsAccount, Organisation.name).join(Organisation, Organisation.id == PointsAccount.org_id)
        .where(PointsAccount.person_id == person_id).order_by(PointsAccount.id)
    ).all()
    return {"items": [
        {"village_id": account.org_id, "village_name": name, "resident_id": account.id, "balance": account.balance,
         "rating": account.rating, "stars": ledger.stars(account.rating, thresholds(session, settings, account.org_id))}
        for account, name in rows
    ], "next_cursor": None}


def my_entries(*, session: Session, person_id: str, village_id: str | None, limit: int, cursor: str | None) -> Page:
    """My ledger lines, newest first (entry ids are time-ordered)."""
    accounts = select(PointsAccount.id).where(PointsAccount.person_id == person_id)
    if village_id:
        accounts = accounts.where(PointsAccount.org_id == village_id)
    stmt = select(PointsEntry).where(PointsEntry.account_id.in_(accounts))
    page = paginate(session, stmt, PointsEntry.id, limit=limit, cursor=cursor)
    page.items = [
        {"id": e.id, "village_id": e.org_id, "transaction_id": e.transaction_id, "kind": e.kind, "amount": e.amount,
         "memo": e.memo, "created_at": e.created_at}
        for e in page.items
    ]
    return page


def leaderboard(*, session: Session, settings: Settings, org_id: str, period: str | None = None, limit: int = 50,
                now: dt.datetime | None = None) -> dict[str, Any]:
    """Residents ranked by rating earned in a month (Asia/Shanghai; default the current one):
    awards minus deductions and reversals."""
    if period is None:
        period = (now or utcnow()).astimezone(ledger.SHANGHAI).strftime("%Y-%m")
    match = _MONTH.match(period)
    if not match or not 2000 <= int(match.group(1)) <= 2100:  # the platform's calendar, as for date ranges
        raise Invalid("invalid_period")
    start, end = ledger.month_bounds(int(match.group(1)), int(match.group(2)))
    earned = func.sum(PointsEntry.amount).label("earned")
    rows = session.execute(
        select(PointsAccount.id, PointsAccount.person_id, PointsAccount.rating, earned)
        .join(PointsEntry, PointsEntry.account_id == PointsAccount.id)
        .where(PointsAccount.org_id == org_id, PointsAccount.kind == "resident",
               PointsEntry.kind.in_(ledger.RATED_KINDS), PointsEntry.created_at >= start, PointsEntry.created_at < end)
        .group_by(PointsAccount.id, PointsAccount.person_id, PointsAccount.rating)
        .order_by(earned.desc(), PointsAccount.id).limit(limit)
    ).all()
    names = dict(session.execute(select(Person.id, Person.name).where(
        Person.id.in_([r.person_id for r in rows]))).tuples().all())
    marks = thresholds(session, settings, org_id)
    return {"period": period, "items": [
        {"rank": rank, "resident_id": r.id, "name_masked": mask_name(names.get(r.person_id)),
         "rating": int(r.earned), "total_rating": r.rating, "stars": ledger.stars(r.rating, marks)}
        for rank, r in enumerate(rows, start=1)
    ]}
