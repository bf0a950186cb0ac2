"""A merchant changes an offer while a cashier's redemption of it is in flight (PostgreSQL).

A redemption reads the offer, uses up the code, then writes. The writes lock the offer row and
take the quota and the limit it has at that moment (``scenarios_redeem``, migration 0008), so a
quota or a limit the merchant sets in between counts the redemption: before, a redemption that
had read no quota committed uncounted, one place over the quota per such redemption. The change
is made at the one moment it matters, from another connection, by a hook on the code's use (or,
for the other order, on the query log written after the writes and before the commit).

SQLite runs each request in one transaction holding the database's write lock from its first
statement, so no change can fall between a redemption's read and its write there: this module
runs in the suite's PostgreSQL pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.credit import service as credit_service
from backend.qr import service as qr_service
from scenarios.models import Offer, OfferUsage, Redemption
from tests.scenarios.helpers import code_for, make_offer, make_shop

pytestmark = pytest.mark.usefixtures("postgresql_only")


def _redeem(client, shop, code, offer_id):
    return client.post(f"{shop.base}/redemptions", json={"code": code, "offer_id": offer_id},
                       headers=shop.cashier.headers)


def _patch_from_another_connection(app, shop, offer_id: str, changes: dict[str, Any]) -> Future[Any]:
    """The merchant admin's PATCH, sent on its own thread (its own session and connection)."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(lambda: app.test_client().patch(f"{shop.base}/offers/{offer_id}", json=changes,
                                                         headers=shop.admin.headers))
    pool.shutdown(wait=False)
    return future


def _after_the_code_is_used(monkeypatch, action: Callable[[], None]) -> None:
    """Run ``action`` once, between the redemption's read of the offer and its writes."""
    consume, done = qr_service.consume, threading.Event()

    def consume_then_act(**kwargs: Any) -> str:
        person_id = consume(**kwargs)
        if not done.is_set():
            done.set()
            action()
        return person_id

    monkeypatch.setattr(qr_service, "consume", consume_then_act)


def _standing(session, offer_id: str) -> tuple[int | None, int]:
    session.rollback()
    remaining = session.scalar(select(Offer.remaining_quota).where(Offer.id == offer_id))
    count = session.scalar(select(func.count()).select_from(Redemption).where(Redemption.offer_id == offer_id))
    session.rollback()
    return remaining, int(count or 0)


def test_a_quota_first_set_between_the_read_and_the_writes_counts_the_redemption(
        app, client, factory, session, monkeypatch) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop)  # no quota yet
    resident = factory.user("resident")
    code = code_for(client, resident)

    def set_quota() -> None:
        response = _patch_from_another_connection(app, shop, offer["id"], {"total_quota": 5}).result(timeout=10)
        assert response.status_code == 200, response.json
        assert response.json["remaining_quota"] == 5  # nothing committed to count yet

    _after_the_code_is_used(monkeypatch, set_quota)
    assert _redeem(client, shop, code, offer["id"]).status_code == 201
    assert _standing(session, offer["id"]) == (4, 1)  # the redemption took one of the 5


def test_a_quota_set_while_the_redemption_holds_the_offer_waits_for_it_and_counts_it(
        app, client, factory, session, monkeypatch) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop)
    resident = factory.user("resident")
    code = code_for(client, resident)
    patches: list[Future[Any]] = []
    log_query = credit_service.log_query

    def log_then_let_the_merchant_in(**kwargs: Any) -> None:  # after the writes, before the commit
        log_query(**kwargs)
        if not patches:
            patches.append(_patch_from_another_connection(app, shop, offer["id"], {"total_quota": 5}))
            with pytest.raises(TimeoutError):  # the PATCH waits for the redemption's lock on the offer
                patches[0].result(timeout=0.5)

    monkeypatch.setattr(credit_service, "log_query", log_then_let_the_merchant_in)
    assert _redeem(client, shop, code, offer["id"]).status_code == 201
    response = patches[0].result(timeout=10)
    assert response.status_code == 200 and response.json["remaining_quota"] == 4
    assert _standing(session, offer["id"]) == (4, 1)


def test_a_limit_added_between_the_read_and_the_writes_counts_the_use(
        app, client, factory, session, monkeypatch) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop)  # no per-person limit yet
    resident = factory.user("resident")
    first, second = code_for(client, resident), code_for(client, resident)

    def add_limit() -> None:
        response = _patch_from_another_connection(app, shop, offer["id"],
                                                  {"per_person_limit": 1, "period": "day"}).result(timeout=10)
        assert response.status_code == 200, response.json  # no redemption stands yet: allowed

    _after_the_code_is_used(monkeypatch, add_limit)
    assert _redeem(client, shop, first, offer["id"]).status_code == 201  # written on a second read
    again = _redeem(client, shop, second, offer["id"])
    assert again.status_code == 403 and again.json["reason"] == "limit_reached"
    session.rollback()
    assert session.scalar(select(OfferUsage.used).where(OfferUsage.offer_id == offer["id"],
                                                        OfferUsage.person_id == resident.person_id)) == 1
    assert _standing(session, offer["id"]) == (None, 1)


def test_an_offer_switched_off_between_the_read_and_the_writes_is_not_redeemed(
        app, client, factory, session, monkeypatch) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, total_quota=3)
    code = code_for(client, factory.user("resident"))

    def switch_off() -> None:
        response = _patch_from_another_connection(app, shop, offer["id"], {"active": False}).result(timeout=10)
        assert response.status_code == 200, response.json

    _after_the_code_is_used(monkeypatch, switch_off)
    refused = _redeem(client, shop, code, offer["id"])
    assert refused.status_code == 403 and refused.json["reason"] == "offer_inactive"
    assert _standing(session, offer["id"]) == (3, 0)  # nothing written, no place taken
