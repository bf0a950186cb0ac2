"""Calendar days of the platform (Asia/Shanghai): the ranges of day-based lists and exports."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from backend.errors import Conflict, Invalid, register_messages

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_RANGE_DAYS = 366

register_messages({
    "invalid_date_range": ("日期范围不正确", "Invalid date range", "日期为 2000 至 2100 年间的 YYYY-MM-DD，结束日期不能早于开始日期，且含首尾不超过 366 天。", "Dates are YYYY-MM-DD in 2000-2100, to not before from, covering at most 366 days (both ends included)."),
})


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of a Shanghai calendar day, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=SHANGHAI)


def date_range(date_from: dt.date | None, date_to: dt.date | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of Shanghai calendar days, inclusive of ``date_to``; default the last 30 days."""
    date_to = date_to or now.astimezone(SHANGHAI).date()
    date_from = date_from or date_to - dt.timedelta(days=30)
    if date_from > date_to or (date_to - date_from).days + 1 > MAX_RANGE_DAYS \
            or not 2000 <= date_from.year <= date_to.year <= 2100:
        raise Invalid("invalid_date_range")
    return day_start(date_from), day_start(date_to + dt.timedelta(days=1))


def check_voidable(*, voided: bool, created_at: dt.datetime, now: dt.datetime, window_s: int) -> None:
    """A redemption (信易+) or a store sale may be voided once, within the void window
    (``REDEMPTION_VOID_WINDOW_S``): 409 ``redemption_already_voided`` / ``void_window_passed``."""
    if voided:
        raise Conflict("redemption_already_voided")
    if now - created_at > dt.timedelta(seconds=window_s):
        raise Conflict("void_window_passed", hours=window_s // 3600)
