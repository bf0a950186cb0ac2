"""The two implementations of a redemption's writes agree, outcome by outcome and row by row:
``scenarios_redeem`` (PostgreSQL, migrations 0007 and 0008) and the statement-by-statement path that SQLite
uses. Both exist only on PostgreSQL, so this runs in the suite's PostgreSQL pass; the HTTP tests
of test_redemptions.py run each backend's own path on both passes."""

import datetime as dt

import pytest
from sqlalchemy import select

from backend.db import new_id
from scenarios.models import Offer, OfferUsage, Redemption
from scenarios.service import redemptions
from tests.scenarios.helpers import code_for, make_offer, make_shop

WRITES = {"portable": redemptions._write_portable, "postgresql": redemptions._write_in_postgresql}
NOW = dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC)

pytestmark = pytest.mark.usefixtures("postgresql_only")  # scenarios_redeem exists only there



def _run(session, path, writes):
    """One redemption's writes by ``path`` inside a transaction that is rolled back: the outcome and
    the offer's quota, usage and redemption rows as they stand before the rollback (ids left out)."""
    outcome = WRITES[path](session.connection(), {**writes, "id": new_id("rdm")})
    offer_id, person_id = writes["offer_id"], writes["person_id"]
    state = {
        "outcome": outcome,
        "remaining": session.scalar(select(Offer.remaining_quota).where(Offer.id == offer_id)),
        "usage": sorted(session.execute(select(OfferUsage.person_id, OfferUsage.period_key, OfferUsage.used)
                                        .where(OfferUsage.offer_id == offer_id)).all()),
        "redemptions": sorted(session.execute(select(
            Redemption.offer_id, Redemption.merchant_id, Redemption.scenario_code, Redemption.person_id,
            Redemption.cashier_id, Redemption.period_key, Redemption.level, Redemption.status,
            Redemption.created_at).where(Redemption.offer_id == offer_id, Redemption.person_id == person_id)).all()),
    }
    session.rollback()
    return state


def _today() -> str:
    return redemptions.period_key("day", dt.datetime.now(dt.UTC))


def _both(session, shop, offer, person_id, **read):
    """Both paths, for a caller whose read of the offer saw its limit's period (``period=`` overrides)."""
    period = read.get("period", offer["period"] if offer["per_person_limit"] is not None else None)
    writes = {"offer_id": offer["id"], "merchant_id": shop.id, "scenario_code": offer["scenario"],
              "person_id": person_id, "cashier_id": shop.cashier.id, "period": period, "period_key": _today(),
              "level": "A", "now": NOW}
    portable, postgresql = (_run(session, path, writes) for path in WRITES)
    assert portable == postgresql
    return portable


def test_a_redemption_writes_the_same_rows_either_way(client, factory, session):
    shop = make_shop(factory)
    limited = make_offer(client, shop, per_person_limit=2, period="day", total_quota=5)
    open_ended = make_offer(client, shop)
    person = factory.user("resident").person_id
    done = _both(session, shop, limited, person)
    assert done["outcome"] == "ok" and done["remaining"] == 4 and done["usage"] == [(person, _today(), 1)]
    assert done["redemptions"] == [(limited["id"], shop.id, limited["scenario"], person, shop.cashier.id,
                                    _today(), "A", "redeemed", NOW)]
    free = _both(session, shop, open_ended, person)
    assert free["outcome"] == "ok" and free["remaining"] is None and free["usage"] == []
    assert len(free["redemptions"]) == 1


def test_limit_and_quota_refusals_are_the_same_either_way(client, factory, session):
    shop = make_shop(factory)
    once = make_offer(client, shop, per_person_limit=1, period="day")
    last_one = make_offer(client, shop, total_quota=1)
    first, second = factory.user("resident"), factory.user("resident")
    for offer in (once, last_one):  # the first resident uses up the limit and the quota, for real
        response = client.post(f"{shop.base}/redemptions", json={"code": code_for(client, first),
                                                                 "offer_id": offer["id"]},
                               headers=shop.cashier.headers)
        assert response.status_code == 201, response.json
    limited = _both(session, shop, once, first.person_id)
    assert limited["outcome"] == "limit_reached" and limited["usage"] == [(first.person_id, _today(), 1)]
    assert len(limited["redemptions"]) == 1  # the real one only
    exhausted = _both(session, shop, last_one, second.person_id)
    assert exhausted["outcome"] == "quota_exhausted" and exhausted["remaining"] == 0


def test_an_offer_changed_since_the_read_is_not_written_either_way(client, factory, session):
    shop = make_shop(factory)
    daily = make_offer(client, shop, per_person_limit=1, period="day", total_quota=5)
    person = factory.user("resident").person_id
    # the caller read no limit, or another period: its period key would be wrong
    for period in (None, "month"):
        moved = _both(session, shop, daily, person, period=period)
        assert moved == {"outcome": "offer_changed", "remaining": 5, "usage": [], "redemptions": []}
    switched_off = client.patch(f"{shop.base}/offers/{daily['id']}", json={"active": False},
                                headers=shop.admin.headers)
    assert switched_off.status_code == 200
    off = _both(session, shop, daily, person)
    assert off == {"outcome": "offer_changed", "remaining": 5, "usage": [], "redemptions": []}
