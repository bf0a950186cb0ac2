"""The pure score model (property-tested) and the Chinese working-day rule."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.credit import scoring
from backend.credit.scoring import DEFAULT_PERSON_MODEL as MODEL
from backend.credit.scoring import RecordInput, Subject

AS_OF = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
BEFORE = AS_OF - dt.timedelta(days=30)
LATER = AS_OF + dt.timedelta(days=300)

POSITIVE = [("administrative_license", "compliance"), ("utility_payment", "compliance"),
            ("volunteer_service", "public_welfare"), ("honour", "public_welfare"), ("red_list", "public_welfare")]
NEGATIVE = ["administrative_penalty", "court_defaulter", "medical_credit_default", "black_list"]


def _positive(i: int, pair: tuple[str, str], status: str = "active") -> RecordInput:
    return RecordInput(id=f"crr_p{i:04d}", category=pair[0], polarity="positive", severity=None, status=status,
                       occurred_at=BEFORE, publicity_end=LATER, dimension=pair[1])


def _negative(i: int, category: str, severity: str, status: str = "active") -> RecordInput:
    return RecordInput(id=f"crr_n{i:04d}", category=category, polarity="negative",
                       severity="serious" if category == "black_list" else severity, status=status,
                       occurred_at=BEFORE, publicity_end=LATER)


statuses = st.sampled_from(["active", "disputed", "repaired", "revoked", "expired"])
positives = st.lists(st.tuples(st.sampled_from(POSITIVE), statuses), max_size=40)
negatives = st.lists(st.tuples(st.sampled_from(NEGATIVE[:3]), st.sampled_from(["minor", "general", "serious"]),
                               statuses), max_size=15)
subjects = st.builds(Subject, verified=st.booleans(), points_rating=st.integers(min_value=0, max_value=10_000))


def _records(pos: list, neg: list) -> list[RecordInput]:
    return ([_positive(i, p, s) for i, (p, s) in enumerate(pos)]
            + [_negative(i, c, sev, s) for i, (c, sev, s) in enumerate(neg)])


def _score(records: list[RecordInput], subject: Subject) -> scoring.ScoreResult:
    return scoring.compute(records, subject, MODEL, "person-test", AS_OF)


@settings(max_examples=200, deadline=None)
@given(positives, negatives, subjects)
def test_the_score_stays_within_300_and_1000_and_is_deterministic(pos: list, neg: list, subject: Subject) -> None:
    records = _records(pos, neg)
    first = _score(records, subject)
    assert 300 <= first.score <= 1000
    assert len(first.reasons) <= 4
    assert _score(list(reversed(records)), subject) == first


@settings(max_examples=200, deadline=None)
@given(positives, negatives, subjects, st.sampled_from(NEGATIVE), st.sampled_from(["minor", "general", "serious"]))
def test_adding_a_negative_record_never_raises_the_score(pos: list, neg: list, subject: Subject, category: str,
                                                         severity: str) -> None:
    records = _records(pos, neg)
    before = _score(records, subject)
    after = _score([*records, _negative(999, category, severity)], subject)
    assert after.score <= before.score
    levels = [name for name, _ in MODEL["levels"]]
    assert levels.index(after.level) >= levels.index(before.level)


@settings(max_examples=200, deadline=None)
@given(positives, negatives, subjects, st.sampled_from(NEGATIVE), st.sampled_from(["minor", "general", "serious"]))
def test_revoking_a_record_restores_the_previous_score_exactly(pos: list, neg: list, subject: Subject,
                                                               category: str, severity: str) -> None:
    records = _records(pos, neg)
    before = _score(records, subject)
    added = _negative(999, category, severity)
    revoked = added._replace(status="revoked")
    after = _score([*records, revoked], subject)
    assert (after.score, after.level, after.dimensions, after.reasons) == (
        before.score, before.level, before.dimensions, before.reasons)


@settings(max_examples=200, deadline=None)
@given(positives, negatives, subjects)
def test_an_active_black_list_record_always_yields_level_c(pos: list, neg: list, subject: Subject) -> None:
    result = _score([*_records(pos, neg), _negative(999, "black_list", "serious")], subject)
    assert result.level == "C" and result.serious_dishonesty
    assert result.reasons[0]["kind"] == "black_list"


def test_worked_examples_of_domain_defaults() -> None:
    new_resident = _score([], Subject(verified=True))
    assert (new_resident.score, new_resident.level) == (620, "A")
    penalty = _score([_negative(1, "administrative_penalty", "general")], Subject(verified=True))
    assert (penalty.score, penalty.level) == (580, "B")
    assert penalty.reasons[0] == {"kind": "record", "record_id": "crr_n0001", "category": "administrative_penalty",
                                  "severity": "general", "points": -40}
    unverified = _score([], Subject(verified=False))
    assert (unverified.score, unverified.level) == (600, "A")
    capped = _score([_positive(i, POSITIVE[0]) for i in range(50)], Subject(verified=True))
    assert capped.score == 620 + 120
    welfare = _score([_positive(i, POSITIVE[2]) for i in range(3)], Subject(verified=True, points_rating=1000))
    assert welfare.score == 620 + 30 + 60
    floor = _score([_negative(i, "court_defaulter", "serious") for i in range(10)], Subject(verified=False))
    assert floor.score == 300 and floor.level == "C"  # 600 - 500 (cap) = 100, clamped to 300


def test_records_outside_their_publicity_period_or_not_yet_occurred_do_not_count() -> None:
    old = _negative(1, "administrative_penalty", "general")._replace(publicity_end=AS_OF)
    future = _negative(2, "administrative_penalty", "general")._replace(occurred_at=AS_OF + dt.timedelta(days=1))
    assert _score([old, future], Subject(verified=True)).score == 620


def test_reasons_render_in_chinese_and_english() -> None:
    names = {"administrative_penalty": ("行政处罚", "Administrative penalty")}
    reason = {"kind": "record", "category": "administrative_penalty", "severity": "general", "points": -40}
    assert scoring.render_reason(reason, "zh", names) == "行政处罚记录（一般）：-40 分"
    assert scoring.render_reason(reason, "en", names) == "Administrative penalty record (general): -40 points"
    ident = {"kind": "dimension", "dimension": "identity", "points": 20}
    assert scoring.render_reason(ident, "zh", names) == "已完成实名认证：+20 分"


def test_model_validation_rejects_malformed_parameters() -> None:
    scoring.validate_model(MODEL)
    for broken in ({}, {**MODEL, "base": "600"}, {**MODEL, "levels": [["A", 600]]},
                   {**MODEL, "dishonesty": {**MODEL["dishonesty"], "general": 40}},
                   {**MODEL, "black_list_level": "Z"}, {**MODEL, "min": 700}):
        with pytest.raises(scoring.ModelError):
            scoring.validate_model(broken)


# --------------------------------------------------------------------------- working days


def _filed(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=scoring.SHANGHAI)


@pytest.mark.parametrize(("filed", "due"), [
    # National Day 2025: 1-8 October off; Saturday 11 October is a 调休 working day.
    ("2025-09-30", "2025-10-14"),
    # Spring Festival 2026: 15-23 February off; Saturday 14 and 28 February are 调休 working days.
    ("2026-02-13", "2026-02-27"),
    ("2026-02-12", "2026-02-26"),
    # An ordinary week: Monday -> next Monday.
    ("2026-03-02", "2026-03-09"),
])
def test_objection_due_date_counts_chinese_working_days(filed: str, due: str) -> None:
    moment = scoring.due_at(_filed(filed), 5)
    local = moment.astimezone(scoring.SHANGHAI)
    assert local.date().isoformat() == due
    assert (local.hour, local.minute) == (23, 59)


def test_the_filing_day_is_local_beijing_time() -> None:
    # 2025-09-30 17:00 UTC is already 1 October in Beijing (a holiday): counted from 1 October.
    filed = dt.datetime(2025, 9, 30, 17, 0, tzinfo=dt.UTC)
    assert scoring.due_at(filed, 5).astimezone(scoring.SHANGHAI).date() == dt.date(2025, 10, 14)
    assert scoring.add_working_days(dt.date(2025, 10, 10), 1) == dt.date(2025, 10, 11)  # 调休 Saturday


def test_add_months_clamps_to_the_end_of_month() -> None:
    start = dt.datetime(2026, 1, 31, 4, 0, tzinfo=dt.UTC)
    assert scoring.add_months(start, 1).astimezone(scoring.SHANGHAI).date() == dt.date(2026, 2, 28)
    assert scoring.add_months(start, 12).astimezone(scoring.SHANGHAI).date() == dt.date(2027, 1, 31)


def test_reasons_never_claim_more_than_the_capped_dishonesty_took() -> None:
    records = ([_negative(i, "administrative_penalty", "serious") for i in range(6)]  # 6 x -150, capped at -500
               + [_positive(100 + i, POSITIVE[0]) for i in range(30)])             # compliance at its cap
    result = _score(records, Subject(verified=True))
    lost = next(d["points"] for d in result.dimensions if d["code"] == "dishonesty")
    assert lost == MODEL["dishonesty"]["cap"] == -500
    assert result.reasons[0] == {"kind": "dimension", "dimension": "dishonesty", "points": -500, "count": 6}
    assert sum(r["points"] for r in result.reasons if r["points"] < 0) == lost
    assert {"kind": "dimension", "dimension": "compliance", "points": 120, "count": 30} in result.reasons
    assert "扣分达到上限" in scoring.render_reason(result.reasons[0], "zh", {})
    uncapped = _score([_negative(i, "administrative_penalty", "serious") for i in range(2)], Subject(verified=True))
    assert [r["kind"] for r in uncapped.reasons[:2]] == ["record", "record"]  # under the cap: one reason each


@settings(max_examples=200, deadline=None)
@given(positives, negatives, subjects)
def test_the_negative_reasons_add_up_to_at_most_what_dishonesty_took(pos: list, neg: list, subject: Subject) -> None:
    result = _score(_records(pos, neg), subject)
    lost = next(d["points"] for d in result.dimensions if d["code"] == "dishonesty")
    assert sum(r["points"] for r in result.reasons if r["points"] < 0) >= lost


def test_statutory_holidays_match_the_published_calendar_where_it_exists():
    """The law's days off (as amended for 2025 on) are holidays in every year chinesecalendar knows."""
    import chinese_calendar

    for year in (2025, 2026):
        days = scoring.statutory_holidays(year)
        assert len(days) == 13  # 元旦 1, 春节 4, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3
        assert all(chinese_calendar.is_holiday(day) for day in days), year


def test_a_year_the_calendar_does_not_know_yet_still_skips_its_statutory_holidays(monkeypatch):
    import chinese_calendar

    assert scoring.statutory_holidays(2027) == {
        dt.date(2027, 1, 1), *(dt.date(2027, 2, d) for d in (5, 6, 7, 8)), dt.date(2027, 4, 5),
        dt.date(2027, 5, 1), dt.date(2027, 5, 2), dt.date(2027, 6, 9), dt.date(2027, 9, 15),
        *(dt.date(2027, 10, d) for d in (1, 2, 3))}

    def unknown(day):
        raise NotImplementedError(f"{day.year} not supported")

    monkeypatch.setattr(chinese_calendar, "is_workday", unknown)
    assert not scoring.is_working_day(dt.date(2027, 1, 1))  # a Friday, but 元旦
    assert scoring.is_working_day(dt.date(2027, 1, 4))
    # filed Wednesday 30 December 2026 (known year), counted across 元旦 (unknown year): 31 Dec, 4-7 Jan
    due = scoring.due_at(dt.datetime(2026, 12, 30, 10, 0, tzinfo=scoring.SHANGHAI), 5)
    assert due.astimezone(scoring.SHANGHAI).date() == dt.date(2027, 1, 7)
