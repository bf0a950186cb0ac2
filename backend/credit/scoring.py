"""Pure scoring rules: (records, model, as-of) -> score, level, dimensions, reasons.

No database, no clock, no Flask: the service loads the inputs and stores the result.
The model is data (``ScoreModel.params``); DEFAULT_PERSON_MODEL / DEFAULT_ENTERPRISE_MODEL
are the DOMAIN.md defaults the migration seeds. Also the Chinese working-day rule used
for objection due dates.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
COUNTED_STATUSES = frozenset({"active", "disputed"})

DEFAULT_PERSON_MODEL: dict[str, Any] = {
    "base": 600,
    "min": 300,
    "max": 1000,
    "identity": {"verified": 20},
    "compliance": {"per_record": 5, "cap": 120},
    "public_welfare": {"per_record": 10, "cap": 100, "rating_divisor": 10, "rating_cap": 60},
    "dishonesty": {"minor": -10, "general": -40, "serious": -150, "cap": -500},
    "levels": [["AAA", 850], ["AA", 750], ["A", 600], ["B", 450], ["C", None]],
    "black_list_level": "C",
}

DEFAULT_ENTERPRISE_MODEL: dict[str, Any] = {
    "base": 80,
    "min": 0,
    "max": 100,
    "identity": {"verified": 0},
    "compliance": {"per_record": 1, "cap": 10},
    "public_welfare": {"per_record": 2, "cap": 10, "rating_divisor": 10, "rating_cap": 0},
    "dishonesty": {"minor": -2, "general": -10, "serious": -30, "cap": -80},
    "levels": [["A", 90], ["B", 75], ["C", 60], ["D", None]],
    "black_list_level": "D",
}

# 公共信用综合评价 grades of enterprises (A..D), beside the persons' levels below.
GRADE_NAMES: dict[str, tuple[str, str]] = {
    "A": ("信用优秀", "excellent"), "B": ("信用良好", "good"), "C": ("信用一般", "fair"), "D": ("信用较差", "poor"),
}

LEVEL_NAMES: dict[str, tuple[str, str]] = {
    "AAA": ("优秀", "excellent"), "AA": ("良好", "good"), "A": ("中等", "fair"),
    "B": ("较差", "poor"), "C": ("差", "bad"), "D": ("差", "bad"),
}
DIMENSION_NAMES: dict[str, tuple[str, str]] = {
    "identity": ("身份认证", "identity verification"),
    "compliance": ("守法履约", "compliance and performance"),
    "public_welfare": ("公益贡献", "public welfare"),
    "dishonesty": ("失信记录", "dishonest conduct"),
}
SEVERITY_NAMES: dict[str, tuple[str, str]] = {"minor": ("轻微", "minor"), "general": ("一般", "general"),
                                               "serious": ("严重", "serious")}


class RecordInput(NamedTuple):
    """One record as scoring sees it (a tuple: a batch builds thousands of these per call)."""

    id: str
    category: str
    polarity: str  # positive | negative
    severity: str | None
    status: str
    occurred_at: dt.datetime
    publicity_end: dt.datetime
    dimension: str | None = None  # the category's positive dimension: compliance | public_welfare


@dataclass(frozen=True)
class Subject:
    verified: bool = False
    points_rating: int = 0


@dataclass
class ScoreResult:
    score: int
    level: str
    model_version: str
    dimensions: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    serious_dishonesty: bool
    red_list: bool
    counted: list[str] = field(default_factory=list)  # ids of the records that counted


class ModelError(ValueError):
    """The parameters of a score model are not usable."""


MODEL_NUMBER_LIMIT = 100_000  # far beyond any sensible score, far below what a database integer holds


def validate_model(params: Any, kind: str | None = None) -> dict[str, Any]:
    """Check a model's parameters have the shape of the defaults (numbers where numbers go) and,
    for a ``kind`` of subject (person / enterprise), that kind's levels."""
    if not isinstance(params, dict):
        raise ModelError("params must be an object")
    unknown = sorted(set(params) - set(DEFAULT_PERSON_MODEL))
    if unknown:
        raise ModelError(f"unknown parameter {unknown[0]}")
    for section, default in DEFAULT_PERSON_MODEL.items():  # each section with exactly the default's keys
        if isinstance(default, dict) and isinstance(params.get(section), dict) and set(params[section]) != set(default):
            raise ModelError(f"{section} takes exactly {', '.join(sorted(default))}")
    if any(isinstance(v, bool) for part in params.values() if isinstance(part, dict) for v in part.values()) \
            or any(isinstance(params.get(k), bool) for k in ("base", "min", "max")):
        raise ModelError("numbers must be integers, not true/false")
    numbers = [params.get(k) for k in ("base", "min", "max")] + [
        v for part in params.values() if isinstance(part, dict) for v in part.values()] + [
        x[1] for x in params.get("levels") or [] if isinstance(x, list) and len(x) == 2]
    if any(isinstance(n, int) and not -MODEL_NUMBER_LIMIT <= n <= MODEL_NUMBER_LIMIT for n in numbers):
        raise ModelError(f"numbers must lie within ±{MODEL_NUMBER_LIMIT:,}")
    for key in ("base", "min", "max"):
        if not isinstance(params.get(key), int):
            raise ModelError(f"{key} must be an integer")
    if not params["min"] <= params["base"] <= params["max"]:
        raise ModelError("min <= base <= max required")
    shape = {"identity": ("verified",), "compliance": ("per_record", "cap"),
             "public_welfare": ("per_record", "cap", "rating_divisor", "rating_cap"),
             "dishonesty": ("minor", "general", "serious", "cap")}
    for section, keys in shape.items():
        part = params.get(section)
        if not isinstance(part, dict) or any(not isinstance(part.get(k), int) for k in keys):
            raise ModelError(f"{section} needs integers {', '.join(keys)}")
    if params["public_welfare"]["rating_divisor"] <= 0:
        raise ModelError("rating_divisor must be positive")
    if any(params["dishonesty"][k] > 0 for k in ("minor", "general", "serious", "cap")):
        raise ModelError("dishonesty deductions must be <= 0")
    if any(params[s][k] < 0 for s, k in (("compliance", "per_record"), ("compliance", "cap"),
                                        ("public_welfare", "per_record"), ("public_welfare", "cap"),
                                        ("public_welfare", "rating_cap"), ("identity", "verified"))):
        raise ModelError("bonuses must be >= 0")
    levels = params.get("levels")
    if (not isinstance(levels, list) or not levels
            or any(not isinstance(x, list) or len(x) != 2 or not isinstance(x[0], str) for x in levels)
            or levels[-1][1] is not None
            or any(not isinstance(x[1], int) for x in levels[:-1])
            or [x[1] for x in levels[:-1]] != sorted((x[1] for x in levels[:-1]), reverse=True)):
        raise ModelError("levels must be [[name, threshold], ..., [lowest, null]] by falling threshold")
    if any(not params["min"] < x[1] <= params["max"] for x in levels[:-1]):  # else a level no score reaches
        raise ModelError("every threshold must lie above min and at most max")
    if params.get("black_list_level") not in {x[0] for x in levels}:
        raise ModelError("black_list_level must be one of the levels")
    if kind is not None:  # the levels clients and the rules know: AAA..C for persons, A..D for enterprises
        names = [x[0] for x in (DEFAULT_ENTERPRISE_MODEL if kind == "enterprise" else DEFAULT_PERSON_MODEL)["levels"]]
        if [x[0] for x in levels] != names:
            raise ModelError(f"levels of a {kind} model are {', '.join(names)}, best first")
        if params["black_list_level"] != names[-1]:
            raise ModelError(f"the black list forces the lowest level, {names[-1]}")
    return params


def counts(record: RecordInput, as_of: dt.datetime) -> bool:
    """A record counts while active/disputed, once it occurred, and inside its publicity period."""
    return record.status in COUNTED_STATUSES and record.occurred_at <= as_of < record.publicity_end


def level_for(score: int, levels: Sequence[Sequence[Any]]) -> str:
    for name, threshold in levels:
        if threshold is None or score >= threshold:
            return str(name)
    return str(levels[-1][0])


_record_id = operator.attrgetter("id")


def compute(records: Iterable[RecordInput], subject: Subject, model: dict[str, Any], version: str,
            as_of: dt.datetime) -> ScoreResult:
    """The score of one subject. Deterministic: same inputs, same result."""
    live = sorted((r for r in records if counts(r, as_of)), key=_record_id)
    identity = model["identity"]["verified"] if subject.verified else 0
    d = model["dishonesty"]
    n_comp = n_welfare = 0
    red = False
    negatives: list[tuple[RecordInput, int]] = []  # with their points
    for r in live:  # one pass: a batch scores a thousand subjects per call
        if r.polarity == "positive":
            if r.dimension == "public_welfare":
                n_welfare += 1
            else:
                n_comp += 1
            red = red or r.category == "red_list"
        elif r.polarity == "negative":
            negatives.append((r, int(d.get(r.severity or "minor", d["minor"]))))

    c = model["compliance"]
    compliance = min(c["per_record"] * n_comp, c["cap"])
    w = model["public_welfare"]
    welfare_records_pts = min(w["per_record"] * n_welfare, w["cap"])
    rating_pts = min(max(subject.points_rating, 0) // w["rating_divisor"], w["rating_cap"])
    welfare = welfare_records_pts + rating_pts
    dishonesty = max(sum(p for _, p in negatives), d["cap"])

    total = model["base"] + identity + compliance + welfare + dishonesty
    score = max(model["min"], min(model["max"], total))
    black = any(r.category == "black_list" for r, _ in negatives)
    level = model["black_list_level"] if black else level_for(score, model["levels"])

    dimensions = [
        {"code": "identity", "points": identity, "cap": model["identity"]["verified"]},
        {"code": "compliance", "points": compliance, "cap": c["cap"], "records": n_comp},
        {"code": "public_welfare", "points": welfare, "cap": w["cap"] + w["rating_cap"],
         "records": n_welfare, "rating_points": rating_pts},
        {"code": "dishonesty", "points": dishonesty, "cap": d["cap"], "records": len(negatives)},
    ]
    return ScoreResult(score=score, level=level, model_version=version, dimensions=dimensions,
                       reasons=_reasons(negatives, black, identity, compliance, n_comp,
                                        welfare_records_pts, n_welfare, rating_pts,
                                        subject.points_rating, dishonesty),
                       serious_dishonesty=black, red_list=red, counted=[r.id for r in live])


def _reasons(negatives: list[tuple[RecordInput, int]], black: bool, identity: int, compliance: int,
             n_comp: int, welfare: int, n_welfare: int, rating_pts: int, rating: int,
             dishonesty: int) -> list[dict[str, Any]]:
    """Up to four reasons: the records or dimensions that moved the score most (structured, rendered later).

    Each dishonesty record is a reason of its own while their sum is what the score lost; once the
    cap binds, the records together are one reason with the capped total (listing them one by
    one would claim more than the score lost, and crowd out the dimensions that added points).
    """
    candidates: list[tuple[int, int, dict[str, Any]]] = []
    if black:
        blr = next(r for r, _ in negatives if r.category == "black_list")
        candidates.append((10**6, 0, {"kind": "black_list", "record_id": blr.id, "category": blr.category,
                                      "points": 0}))
    if sum(p for _, p in negatives) < dishonesty:  # capped
        candidates.append((abs(dishonesty), 1, {"kind": "dimension", "dimension": "dishonesty",
                                                "points": dishonesty, "count": len(negatives)}))
    else:
        for i, (r, pts) in enumerate(sorted(negatives, key=lambda x: (x[1], x[0].id))):
            candidates.append((abs(pts), 1 + i, {"kind": "record", "record_id": r.id, "category": r.category,
                                                 "severity": r.severity, "points": pts}))
    if identity:
        candidates.append((identity, 900, {"kind": "dimension", "dimension": "identity", "points": identity}))
    if compliance:
        candidates.append((compliance, 901, {"kind": "dimension", "dimension": "compliance", "points": compliance,
                                             "count": n_comp}))
    if welfare:
        candidates.append((welfare, 902, {"kind": "dimension", "dimension": "public_welfare", "points": welfare,
                                          "count": n_welfare}))
    if rating_pts:
        candidates.append((rating_pts, 903, {"kind": "points_rating", "points": rating_pts, "rating": rating}))
    candidates.sort(key=lambda c: (-c[0], c[1]))
    return [c[2] for c in candidates[:4]]


def render_reason(reason: dict[str, Any], lang: str, category_names: dict[str, tuple[str, str]]) -> str:
    """One reason as a readable sentence in Chinese (default) or English."""
    en = lang == "en"
    kind = reason.get("kind")
    pts = int(reason.get("points", 0))
    signed = f"{pts:+d}"
    if kind == "black_list":
        return ("Listed as a seriously dishonest subject (black list): level forced to the lowest" if en
                else "被列入严重失信主体名单（黑名单），信用等级降为最低")
    if kind == "record":
        cat = category_names.get(reason.get("category", ""), (reason.get("category", ""),) * 2)
        sev = SEVERITY_NAMES.get(reason.get("severity") or "", ("", ""))
        if en:
            return f"{cat[1]} record ({sev[1]}): {signed} points"
        return f"{cat[0]}记录（{sev[0]}）：{signed} 分"
    if kind == "points_rating":
        if en:
            return f"Village rating of {reason.get('rating')} 厚德积分 points: {signed} points"
        return f"厚德积分评级 {reason.get('rating')} 分：{signed} 分"
    dim = DIMENSION_NAMES.get(reason.get("dimension", ""), ("", ""))
    if reason.get("dimension") == "identity":
        return f"Real-name verified: {signed} points" if en else f"已完成实名认证：{signed} 分"
    count = reason.get("count", 0)
    if reason.get("dimension") == "dishonesty":  # the records together, at the dimension's cap
        if en:
            return f"{count} dishonesty records, capped at {signed} points"
        return f"失信记录 {count} 条，扣分达到上限：{signed} 分"
    if en:
        return f"{dim[1].capitalize()}: {count} record(s), {signed} points"
    return f"{dim[0]}记录 {count} 条：{signed} 分"


# --------------------------------------------------------------------------- calendar rules


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Same local (Asia/Shanghai) day ``months`` later, clamped to the month's end."""
    local = moment.astimezone(SHANGHAI)
    month0 = local.month - 1 + months
    year, month = local.year + month0 // 12, month0 % 12 + 1
    days = [31, 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28, 31, 30, 31, 30, 31, 31,
            30, 31, 30, 31][month - 1]
    return local.replace(year=year, month=month, day=min(local.day, days)).astimezone(dt.UTC)


def is_working_day(day: dt.date) -> bool:
    """Chinese working day: holidays skipped, 调休 Saturdays/Sundays counted (chinesecalendar).

    For a year chinesecalendar does not know yet (the State Council publishes each year's
    arrangement late in the year before), the weekdays that are not statutory holidays."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5 and day not in statutory_holidays(day.year)


@functools.lru_cache(maxsize=16)
def statutory_holidays(year: int) -> frozenset[dt.date]:
    """The days off of 《全国年节及纪念日放假办法》 (as amended 2024, in force 2025) in ``year``:
    元旦 1 Jan; 春节 除夕 to 初三; 清明 (the solar term); 劳动节 1-2 May; 端午 (5/5); 中秋 (8/15);
    国庆节 1-3 Oct. Lunar dates come from lunar-python, the solar term from chinesecalendar. The
    year's 调休 swaps and make-up days are not known before its arrangement is published."""
    from lunar_python import Lunar

    def lunar(month: int, day: int, lunar_year: int = year) -> dt.date:
        solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
        return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())

    new_year = lunar(1, 1)
    days = {dt.date(year, 1, 1), dt.date(year, 5, 1), dt.date(year, 5, 2), *(dt.date(year, 10, d) for d in (1, 2, 3)),
            *(new_year + dt.timedelta(days=n) for n in (-1, 0, 1, 2)), lunar(5, 5), lunar(8, 15)}
    days |= {d for d, name in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10))
             if name == "清明"}
    return frozenset(d for d in days if d.year == year)


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The n-th working day after ``day`` (``day`` itself not counted)."""
    current = day
    left = n
    while left > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current


def due_at(filed_at: dt.datetime, working_days: int) -> dt.datetime:
    """End (23:59:59 Beijing time) of the n-th working day after the filing day, in UTC."""
    local_day = filed_at.astimezone(SHANGHAI).date()
    due_day = add_working_days(local_day, working_days)
    return dt.datetime.combine(due_day, dt.time(23, 59, 59), tzinfo=SHANGHAI).astimezone(dt.UTC)
