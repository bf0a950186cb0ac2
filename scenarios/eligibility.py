"""Pure rules of 信易+ benefits and 信用+医疗 (no database, no Flask).

Every function takes plain values and returns an answer: ``None`` means
eligible, otherwise a stable reason code that clients switch on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Lowest first; an active black-list record forces C whatever the score (DOMAIN.md).
LEVELS = ("C", "B", "A", "AA", "AAA")
LEVEL_NAMES = {"AAA": "优秀", "AA": "良好", "A": "中等", "B": "较差", "C": "差"}
PERIODS = ("day", "month", "year", "total")
MEDICAL_LEVELS = ("A", "AA", "AAA")

# Reason codes, in the order they are checked: the first that applies is reported.
BLACK_LISTED = "black_listed"  # 联合惩戒: never eligible for anything
OFFER_INACTIVE = "offer_inactive"
OFFER_NOT_STARTED = "offer_not_started"
OFFER_EXPIRED = "offer_expired"
LEVEL_TOO_LOW = "level_too_low"
RED_LIST_ONLY = "red_list_only"
LIMIT_REACHED = "limit_reached"
QUOTA_EXHAUSTED = "quota_exhausted"
MEDICAL_SUSPENDED = "medical_credit_suspended"  # an overdue bill: suspended until paid
NO_CREDIT_LINE = "no_credit_line"
LINE_USED_UP = "credit_line_used_up"  # the line is all taken by open visits and unpaid bills


@dataclass(frozen=True)
class Subject:
    """What the rules need to know about a person's credit."""

    level: str
    serious_dishonesty: bool = False
    red_list: bool = False


@dataclass(frozen=True)
class OfferTerms:
    """The terms of one offer that decide who may use it."""

    min_level: str
    red_list_only: bool = False
    per_person_limit: int | None = None
    remaining_quota: int | None = None  # None: no total quota
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    active: bool = True


def level_rank(level: str) -> int:
    """Position of a level in LEVELS (C = 0 ... AAA = 4); unknown levels rank lowest."""
    return LEVELS.index(level) if level in LEVELS else -1


def meets_level(level: str, minimum: str) -> bool:
    return level_rank(level) >= level_rank(minimum)


def effective_level(subject: Subject) -> str:
    return "C" if subject.serious_dishonesty else subject.level


def offer_reason(terms: OfferTerms, subject: Subject, *, used: int, now: dt.datetime) -> str | None:
    """Why ``subject`` may not use the offer now (``used`` = redemptions in the current period), or None."""
    if subject.serious_dishonesty:
        return BLACK_LISTED
    if not terms.active:
        return OFFER_INACTIVE
    if terms.valid_from is not None and now < terms.valid_from:
        return OFFER_NOT_STARTED
    if terms.valid_to is not None and now >= terms.valid_to:
        return OFFER_EXPIRED
    if not meets_level(effective_level(subject), terms.min_level):
        return LEVEL_TOO_LOW
    if terms.red_list_only and not subject.red_list:
        return RED_LIST_ONLY
    if terms.per_person_limit is not None and used >= terms.per_person_limit:
        return LIMIT_REACHED
    if terms.remaining_quota is not None and terms.remaining_quota <= 0:
        return QUOTA_EXHAUSTED
    return None


def period_key(period: str | None, at: dt.datetime) -> str:
    """The calendar bucket (Asia/Shanghai) a use at ``at`` counts against: '2026-11-23', '2026-11', '2026', 'total'."""
    local = at.astimezone(SHANGHAI)
    if period == "day":
        return local.strftime("%Y-%m-%d")
    if period == "month":
        return local.strftime("%Y-%m")
    if period == "year":
        return local.strftime("%Y")
    return "total"


def local_date(at: dt.datetime) -> dt.date:
    return at.astimezone(SHANGHAI).date()


def shanghai_day_start(day: dt.date) -> dt.datetime:
    """Midnight of a Shanghai calendar day, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=SHANGHAI)


# --------------------------------------------------------------------------- 信用+医疗


def credit_line(*, level: str, min_level: str, lines_fen: Mapping[str, int]) -> int:
    """The line (fen) a hospital's policy grants a level: 0 below the minimum or without a line."""
    if not meets_level(level, min_level):
        return 0
    return max(int(lines_fen.get(level, 0)), 0)


def medical_reason(subject: Subject, *, min_level: str, lines_fen: Mapping[str, int],
                   suspended: bool, used_fen: int = 0) -> str | None:
    """Why a person may not be treated first and pay later at a hospital, or None.

    ``used_fen`` is what the person's open visits and unpaid bills take of the line, across all
    hospitals: with nothing left, a visit could not take a single charge.
    """
    if subject.serious_dishonesty:
        return BLACK_LISTED
    if suspended:
        return MEDICAL_SUSPENDED
    level = effective_level(subject)
    if not meets_level(level, min_level):
        return LEVEL_TOO_LOW
    line = credit_line(level=level, min_level=min_level, lines_fen=lines_fen)
    if line <= 0:
        return NO_CREDIT_LINE
    if available_fen(line_fen=line, used_fen=used_fen) <= 0:
        return LINE_USED_UP
    return None


def available_fen(*, line_fen: int, used_fen: int) -> int:
    return max(line_fen - used_fen, 0)


def due_date(settled_at: dt.datetime, window_days: int) -> dt.date:
    """A bill settled on a Shanghai calendar day is due ``window_days`` days later (inclusive)."""
    return local_date(settled_at) + dt.timedelta(days=window_days)


def is_overdue(*, due: dt.date, as_of: dt.date, outstanding_fen: int) -> bool:
    """Overdue once the due day has passed with money still owed."""
    return outstanding_fen > 0 and as_of > due
