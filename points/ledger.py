"""Pure rules of the 厚德积分 ledger: postings, periods, stars (plain values, no database).

A posting moves points between accounts; it is a list of ``(account, amount)``
legs summing to zero. ``rating_delta`` is how much the resident's rating moves
(awards and deductions move it, spending at the store does not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIODS = ("day", "month", "year")
DEFAULT_STAR_THRESHOLDS: tuple[int, ...] = (0, 50, 100, 200, 400)

# Transaction kinds; awards and their reversals count towards the rating, spending and refunds do not.
AWARD, REVERSAL, REDEMPTION, REFUND = "award", "reversal", "redemption", "refund"
KINDS = (AWARD, REVERSAL, REDEMPTION, REFUND)
RATED_KINDS = (AWARD, REVERSAL)


@dataclass(frozen=True)
class Leg:
    account: str
    amount: int


def award_legs(*, issuance: str, resident: str, points: int) -> list[Leg]:
    """An approved award (points > 0) or deduction (points < 0): issuance <-> resident."""
    if points == 0:
        raise ValueError("an award moves a non-zero number of points")
    return [Leg(issuance, -points), Leg(resident, points)]


def reversal_legs(*, issuance: str, resident: str, points: int) -> list[Leg]:
    """The compensating posting of an approved award: the same legs with the signs swapped."""
    return [Leg(leg.account, -leg.amount) for leg in award_legs(issuance=issuance, resident=resident, points=points)]


def redemption_legs(*, resident: str, store: str, cost: int) -> list[Leg]:
    """Spending at the village store: resident -> store."""
    if cost <= 0:
        raise ValueError("a redemption costs a positive number of points")
    return [Leg(resident, -cost), Leg(store, cost)]


def refund_legs(*, resident: str, store: str, cost: int) -> list[Leg]:
    """A voided sale: the redemption's legs with the signs swapped (store -> resident)."""
    return [Leg(leg.account, -leg.amount) for leg in redemption_legs(resident=resident, store=store, cost=cost)]


def is_balanced(legs: Iterable[Leg]) -> bool:
    return sum(leg.amount for leg in legs) == 0


def can_spend(balance: int, cost: int) -> bool:
    """Spending never takes a balance below zero (deductions may)."""
    return cost > 0 and balance >= cost


def period_bounds(period: str, at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The [start, end) of the calendar day/month/year around ``at`` in Asia/Shanghai, as UTC."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    local = at.astimezone(SHANGHAI)
    if period == "day":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + dt.timedelta(days=1)
    elif period == "month":
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    elif period == "year":
        start = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1)
    else:
        raise ValueError(f"unknown period {period!r}")
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """A leaderboard month (``2026-11``) in Asia/Shanghai, as UTC bounds."""
    return period_bounds("month", dt.datetime(year, month, 15, 12, tzinfo=SHANGHAI))


def within_limit(used: int, limit: int | None) -> bool:
    """Whether one more award fits: ``used`` awards already approved in the period."""
    return limit is None or used < limit


def stars(rating: int, thresholds: Sequence[int] = DEFAULT_STAR_THRESHOLDS) -> int:
    """信用户 stars: how many ascending thresholds the rating reaches (0 below the first)."""
    return sum(1 for threshold in thresholds if rating >= threshold)


def valid_thresholds(thresholds: Sequence[int]) -> bool:
    """Five thresholds, strictly ascending."""
    return len(thresholds) == 5 and all(a < b for a, b in zip(thresholds, thresholds[1:], strict=False))


def parse_thresholds(text: str) -> tuple[int, ...]:
    values = tuple(int(part) for part in text.split(",") if part.strip())
    if not valid_thresholds(values):
        raise ValueError(f"bad star thresholds {text!r}")
    return values
