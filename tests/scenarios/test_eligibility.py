"""Pure rules of 信易+ and 信用+医疗: plain values and hypothesis, no database."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from scenarios.eligibility import (
    LEVELS,
    PERIODS,
    OfferTerms,
    Subject,
    available_fen,
    credit_line,
    due_date,
    is_overdue,
    medical_reason,
    offer_reason,
    period_key,
)

NOW = dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.UTC)
LINES = {"A": 100_000, "AA": 200_000, "AAA": 300_000}

levels = st.sampled_from(LEVELS)
aware = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1),
                     timezones=st.just(dt.UTC))
terms = st.builds(
    OfferTerms, min_level=levels, red_list_only=st.booleans(),
    per_person_limit=st.none() | st.integers(1, 5), remaining_quota=st.none() | st.integers(0, 5),
    valid_from=st.none() | aware, valid_to=st.none() | aware, active=st.booleans(),
)
subjects = st.builds(Subject, level=levels, serious_dishonesty=st.booleans(), red_list=st.booleans())


def test_a_resident_at_the_minimum_level_is_eligible() -> None:
    assert offer_reason(OfferTerms(min_level="A"), Subject(level="A"), used=0, now=NOW) is None


def test_a_resident_below_the_minimum_level_gets_level_too_low() -> None:
    assert offer_reason(OfferTerms(min_level="AA"), Subject(level="A"), used=0, now=NOW) == "level_too_low"


def test_the_black_list_wins_over_any_score_level_or_red_list() -> None:
    subject = Subject(level="AAA", serious_dishonesty=True, red_list=True)
    assert offer_reason(OfferTerms(min_level="C"), subject, used=0, now=NOW) == "black_listed"


def test_red_list_only_offers_need_the_red_list() -> None:
    offer = OfferTerms(min_level="A", red_list_only=True)
    assert offer_reason(offer, Subject(level="AAA"), used=0, now=NOW) == "red_list_only"
    assert offer_reason(offer, Subject(level="A", red_list=True), used=0, now=NOW) is None


def test_limit_quota_and_window_reasons() -> None:
    subject = Subject(level="AA")
    assert offer_reason(OfferTerms(min_level="A", per_person_limit=1), subject, used=1, now=NOW) == "limit_reached"
    assert offer_reason(OfferTerms(min_level="A", remaining_quota=0), subject, used=0, now=NOW) == "quota_exhausted"
    later = NOW + dt.timedelta(days=1)
    assert offer_reason(OfferTerms(min_level="A", valid_from=later), subject, used=0, now=NOW) == "offer_not_started"
    assert offer_reason(OfferTerms(min_level="A", valid_to=NOW), subject, used=0, now=NOW) == "offer_expired"
    assert offer_reason(OfferTerms(min_level="A", active=False), subject, used=0, now=NOW) == "offer_inactive"


@given(terms, levels, st.booleans(), st.integers(0, 6), aware)
def test_a_black_listed_subject_is_never_eligible(offer, level, red, used, now) -> None:
    assert offer_reason(offer, Subject(level=level, serious_dishonesty=True, red_list=red), used=used,
                        now=now) == "black_listed"


@given(terms, subjects, st.integers(0, 6), aware, levels)
def test_a_higher_level_never_loses_an_offer_a_lower_level_has(offer, subject, used, now, higher) -> None:
    if LEVELS.index(higher) < LEVELS.index(subject.level):
        return
    if offer_reason(offer, subject, used=used, now=now) is None:
        better = Subject(level=higher, serious_dishonesty=subject.serious_dishonesty, red_list=subject.red_list)
        assert offer_reason(offer, better, used=used, now=now) is None


@given(terms, subjects, st.integers(0, 6), aware)
def test_using_an_offer_more_never_makes_it_available(offer, subject, used, now) -> None:
    if offer_reason(offer, subject, used=used + 1, now=now) is None:
        assert offer_reason(offer, subject, used=used, now=now) is None


def test_periods_follow_the_shanghai_calendar() -> None:
    late_utc = dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC)  # 00:30 on 1 December in Shanghai
    assert period_key("day", late_utc) == "2026-12-01"
    assert period_key("month", late_utc) == "2026-12"
    assert period_key("year", dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)) == "2027"
    assert period_key("total", late_utc) == period_key(None, NOW) == "total"


@given(st.sampled_from(PERIODS), aware, st.integers(0, 3600 * 24 * 400))
def test_a_period_key_is_the_same_for_two_moments_only_inside_one_bucket(period, start, offset) -> None:
    later = start + dt.timedelta(seconds=offset)
    if period == "total":
        assert period_key(period, start) == period_key(period, later)
    elif period_key(period, start) == period_key(period, later):
        assert offset < 366 * 24 * 3600


def test_credit_lines_follow_the_policy() -> None:
    assert credit_line(level="A", min_level="A", lines_fen=LINES) == 100_000
    assert credit_line(level="AAA", min_level="AA", lines_fen=LINES) == 300_000
    assert credit_line(level="A", min_level="AA", lines_fen=LINES) == 0
    assert credit_line(level="B", min_level="A", lines_fen=LINES) == 0


def test_medical_reasons() -> None:
    assert medical_reason(Subject(level="AA"), min_level="A", lines_fen=LINES, suspended=False) is None
    assert medical_reason(Subject(level="B"), min_level="A", lines_fen=LINES, suspended=False) == "level_too_low"
    assert medical_reason(Subject(level="AAA"), min_level="A", lines_fen=LINES,
                          suspended=True) == "medical_credit_suspended"
    assert medical_reason(Subject(level="AAA", serious_dishonesty=True), min_level="A", lines_fen=LINES,
                          suspended=False) == "black_listed"
    assert medical_reason(Subject(level="A"), min_level="A", lines_fen={**LINES, "A": 0},
                          suspended=False) == "no_credit_line"


@given(st.integers(0, 10**7), st.integers(0, 10**7))
def test_available_is_never_negative_nor_above_the_line(line, used) -> None:
    assert 0 <= available_fen(line_fen=line, used_fen=used) <= line


def test_a_bill_is_due_window_days_after_the_shanghai_settlement_day() -> None:
    settled = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)  # 01:00 on 24 November in Shanghai
    assert due_date(settled, 10) == dt.date(2026, 12, 4)
    due = dt.date(2026, 12, 4)
    assert not is_overdue(due=due, as_of=due, outstanding_fen=1)
    assert is_overdue(due=due, as_of=due + dt.timedelta(days=1), outstanding_fen=1)
    assert not is_overdue(due=due, as_of=due + dt.timedelta(days=9), outstanding_fen=0)
