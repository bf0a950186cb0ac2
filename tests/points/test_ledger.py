import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from points import ledger

UTC = dt.UTC


def test_an_award_moves_points_from_issuance_to_the_resident():
    assert ledger.award_legs(issuance="i", resident="r", points=10) == [ledger.Leg("i", -10), ledger.Leg("r", 10)]


def test_a_deduction_moves_points_back_to_issuance():
    assert ledger.award_legs(issuance="i", resident="r", points=-5) == [ledger.Leg("i", 5), ledger.Leg("r", -5)]


def test_a_reversal_swaps_the_signs_of_the_award():
    legs = ledger.award_legs(issuance="i", resident="r", points=7)
    back = ledger.reversal_legs(issuance="i", resident="r", points=7)
    assert sum(a.amount + b.amount for a, b in zip(legs, back, strict=True)) == 0
    assert [leg.amount for leg in back] == [7, -7]


def test_zero_points_and_free_redemptions_are_refused():
    with pytest.raises(ValueError):
        ledger.award_legs(issuance="i", resident="r", points=0)
    with pytest.raises(ValueError):
        ledger.redemption_legs(resident="r", store="s", cost=0)


@given(points=st.integers(min_value=-10_000, max_value=10_000).filter(bool), cost=st.integers(1, 10**6))
def test_every_posting_balances(points, cost):
    assert ledger.is_balanced(ledger.award_legs(issuance="i", resident="r", points=points))
    assert ledger.is_balanced(ledger.reversal_legs(issuance="i", resident="r", points=points))
    assert ledger.is_balanced(ledger.redemption_legs(resident="r", store="s", cost=cost))


@given(balance=st.integers(-1000, 1000), cost=st.integers(-10, 1000))
def test_spending_never_takes_a_balance_below_zero(balance, cost):
    if ledger.can_spend(balance, cost):
        assert balance - cost >= 0 and cost > 0


def test_periods_are_calendar_periods_in_shanghai():
    # 2026-11-30 17:00 UTC is already 1 December in Shanghai
    at = dt.datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    start, end = ledger.period_bounds("day", at)
    assert start == dt.datetime(2026, 11, 30, 16, 0, tzinfo=UTC) and end - start == dt.timedelta(days=1)
    start, end = ledger.period_bounds("month", at)
    assert start == dt.datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert end == dt.datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    start, end = ledger.period_bounds("year", dt.datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
    assert start == dt.datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        ledger.period_bounds("week", at)


@given(at=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC)),
       period=st.sampled_from(ledger.PERIODS))
def test_a_moment_lies_inside_its_period(at, period):
    start, end = ledger.period_bounds(period, at)
    assert start <= at < end


def test_month_bounds_for_the_leaderboard():
    start, end = ledger.month_bounds(2026, 12)
    assert start == dt.datetime(2026, 11, 30, 16, tzinfo=UTC) and end == dt.datetime(2026, 12, 31, 16, tzinfo=UTC)


def test_limits():
    assert ledger.within_limit(0, None) and ledger.within_limit(2, 3) and not ledger.within_limit(3, 3)


@pytest.mark.parametrize(("rating", "stars"), [(-5, 0), (0, 1), (49, 1), (50, 2), (100, 3), (199, 3), (200, 4),
                                               (400, 5), (10_000, 5)])
def test_default_star_thresholds(rating, stars):
    assert ledger.stars(rating) == stars


@given(a=st.integers(-1000, 1000), b=st.integers(-1000, 1000))
def test_more_rating_never_means_fewer_stars(a, b):
    low, high = sorted((a, b))
    assert ledger.stars(low) <= ledger.stars(high)


def test_thresholds_must_be_five_and_ascending():
    assert ledger.parse_thresholds("0,10,20,30,40") == (0, 10, 20, 30, 40)
    for bad in ("0,10,20,30", "0,10,10,30,40", "5,4,3,2,1"):
        with pytest.raises(ValueError):
            ledger.parse_thresholds(bad)
