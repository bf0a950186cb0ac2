"""The merchant counter: scan, redeem (one transaction, conditional updates), void, list, CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import delete, func, select, update

from backend.credit.models import CreditQuery, CreditStanding
from scenarios.models import Offer, OfferUsage, Redemption
from tests.scenarios.helpers import (
    API,
    black_list,
    code_for,
    make_offer,
    make_shop,
    raise_to,
    residents,
)


def _redeem(client, shop, code, offer_id, **headers):
    return client.post(f"{shop.base}/redemptions", json={"code": code, "offer_id": offer_id},
                       headers={**shop.cashier.headers, **headers})


def test_a_scan_shows_masked_name_level_and_eligible_offers_without_using_the_code(
        client, factory, session) -> None:
    shop = make_shop(factory)
    ok = make_offer(client, shop, min_level="A")
    too_high = make_offer(client, shop, min_level="AAA")
    resident = factory.user("resident", name="欧阳明华")
    code = code_for(client, resident)
    scan = client.post(f"{shop.base}/scans", json={"code": code}, headers=shop.cashier.headers)
    assert scan.status_code == 200
    assert scan.json["name_masked"] == "欧***" and scan.json["level"] == "A" and scan.json["level_name"] == "中等"
    assert [o["id"] for o in scan.json["offers"]] == [ok["id"]]
    assert scan.json["not_eligible"] == [{"offer_id": too_high["id"], "title": too_high["title"],
                                          "reason": "level_too_low"}]
    assert _redeem(client, shop, code, ok["id"]).status_code == 201  # the scan did not use the code
    logged = session.scalars(select(CreditQuery).where(CreditQuery.person_id == resident.person_id)).all()
    session.rollback()
    assert {q.purpose for q in logged} == {"benefit"} and {q.org_id for q in logged} == {shop.id}
    mine = client.get(f"{API}/me/credit/queries", headers=resident.headers)
    if mine.status_code == 200:  # the resident sees who looked
        assert any(item["org_id"] == shop.id and item["purpose"] == "benefit" for item in mine.json["items"])


def test_redeeming_consumes_the_code_and_replays_are_409_or_410(client, factory, redis) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop)
    resident = factory.user("resident")
    code = code_for(client, resident)
    first = _redeem(client, shop, code, offer["id"])
    assert first.status_code == 201
    assert first.json["id"].startswith("rdm_") and first.json["status"] == "redeemed"
    assert first.json["offer_id"] == offer["id"] and first.json["level"] == "A"
    again = _redeem(client, shop, code, offer["id"])
    assert again.status_code == 409 and again.json["code"] == "qr_already_used"
    stale = code_for(client, resident)
    redis.delete(f"qr:c:{stale}", f"qr:e:{stale}")  # what expiry leaves behind
    expired = _redeem(client, shop, stale, offer["id"])
    assert expired.status_code == 410 and expired.json["code"] == "qr_expired"
    unknown = _redeem(client, shop, "CX1:" + "A" * 26, offer["id"])
    assert unknown.status_code == 404 and unknown.json["code"] == "qr_not_found"
    scan = client.post(f"{shop.base}/scans", json={"code": code}, headers=shop.cashier.headers)
    assert scan.status_code == 409


def test_an_unknown_or_foreign_offer_is_404_and_leaves_the_code_usable(client, factory) -> None:
    shop, other = make_shop(factory), make_shop(factory)
    foreign = make_offer(client, other)
    mine = make_offer(client, shop)
    code = code_for(client, factory.user("resident"))
    response = _redeem(client, shop, code, foreign["id"])
    assert response.status_code == 404 and response.json["code"] == "offer_not_found"
    assert _redeem(client, shop, code, mine["id"]).status_code == 201


def test_the_idempotency_key_replays_the_redemption(client, factory, session) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop)
    code = code_for(client, factory.user("resident"))
    first = _redeem(client, shop, code, offer["id"], **{"Idempotency-Key": "redeem-1"})
    replay = _redeem(client, shop, code, offer["id"], **{"Idempotency-Key": "redeem-1"})
    assert first.status_code == replay.status_code == 201
    assert replay.json["id"] == first.json["id"] and replay.headers.get("Idempotent-Replayed") == "true"
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1
    session.rollback()


def test_a_black_listed_resident_with_a_high_score_is_never_eligible(client, factory, session, settings) -> None:
    shop = make_shop(factory)
    offers = [make_offer(client, shop, min_level=level, scenario=scenario)
              for level, scenario in (("C", "library"), ("A", "public_bikes"), ("B", "parking"))]
    resident = factory.user("resident")
    raise_to(session, settings, factory, resident.person_id, "AAA")
    black_list(session, settings, factory, resident.person_id)
    benefits = client.get(f"{API}/me/benefits", headers=resident.headers).json["items"]
    assert benefits and {b["reason"] for b in benefits} == {"black_listed"}
    scan = client.post(f"{shop.base}/scans", json={"code": code_for(client, resident)},
                       headers=shop.cashier.headers).json
    assert scan["level"] == "C" and scan["offers"] == []
    for offer in offers:
        response = _redeem(client, shop, code_for(client, resident), offer["id"])
        assert response.status_code == 403
        assert response.json["code"] == "not_eligible" and response.json["reason"] == "black_listed"
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0
    session.rollback()


def test_a_resident_below_the_offer_level_gets_level_too_low(client, factory) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, min_level="AA")
    response = _redeem(client, shop, code_for(client, factory.user("resident")), offer["id"])
    assert response.status_code == 403
    assert response.json["code"] == "not_eligible" and response.json["reason"] == "level_too_low"


def test_red_list_only_offers_and_validity_windows_are_enforced(client, factory, session, settings) -> None:
    shop = make_shop(factory)
    red = make_offer(client, shop, red_list_only=True)
    future = make_offer(client, shop, valid_from="2099-01-01T00:00:00+08:00")
    resident = factory.user("resident")
    assert _redeem(client, shop, code_for(client, resident), red["id"]).json["reason"] == "red_list_only"
    assert _redeem(client, shop, code_for(client, resident), future["id"]).json["reason"] == "offer_not_started"
    from tests.scenarios.helpers import add_records

    add_records(session, settings, factory.org("department"), resident.person_id, "red_list")
    assert _redeem(client, shop, code_for(client, resident), red["id"]).status_code == 201


def test_fifty_cashiers_redeeming_the_same_code_make_exactly_one_redemption(app, client, factory, session) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop)
    code = code_for(client, factory.user("resident"))

    def attempt(_):
        return app.test_client().post(f"{shop.base}/redemptions", json={"code": code, "offer_id": offer["id"]},
                                      headers=shop.cashier.headers).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(attempt, range(50)))
    assert statuses.count(201) == 1 and statuses.count(409) == 49
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1
    session.rollback()


def test_a_quota_of_10_with_40_residents_at_once_gives_exactly_10(app, client, factory, session) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, total_quota=10)
    codes = [code_for(client, resident) for resident in residents(factory, 40)]

    def attempt(code):
        response = app.test_client().post(f"{shop.base}/redemptions", json={"code": code, "offer_id": offer["id"]},
                                          headers=shop.cashier.headers)
        return response.status_code, (response.json or {}).get("code")

    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(attempt, codes))
    assert [s for s, _ in results].count(201) == 10
    assert {c for s, c in results if s != 201} == {"quota_exhausted"}
    assert session.scalar(select(func.count()).select_from(Redemption)) == 10
    assert session.get(Offer, offer["id"]).remaining_quota == 0
    session.rollback()


def test_a_limit_of_one_a_month_holds_under_10_concurrent_attempts_with_10_fresh_codes(
        app, client, factory, session) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, per_person_limit=1, period="month")
    resident = factory.user("resident")
    codes = [code_for(client, resident) for _ in range(10)]

    def attempt(code):
        response = app.test_client().post(f"{shop.base}/redemptions", json={"code": code, "offer_id": offer["id"]},
                                          headers=shop.cashier.headers)
        return response.status_code, (response.json or {}).get("reason")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, codes))
    assert [s for s, _ in results].count(201) == 1
    assert {r for s, r in results if s != 201} == {"limit_reached"}
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1
    session.rollback()


def test_a_merchant_admin_voids_within_24h_restoring_quota_and_limit(client, factory, session) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, per_person_limit=1, period="day", total_quota=1)
    resident = factory.user("resident")
    redemption = _redeem(client, shop, code_for(client, resident), offer["id"]).json
    void_url = f"{shop.base}/redemptions/{redemption['id']}/void"
    assert client.post(void_url, json={"reason": "误操作"}, headers=shop.cashier.headers).status_code == 403
    assert client.post(void_url, json={}, headers=shop.admin.headers).status_code == 422
    voided = client.post(void_url, json={"reason": "误操作"}, headers=shop.admin.headers)
    assert voided.status_code == 200
    assert voided.json["status"] == "voided" and voided.json["void_reason"] == "误操作"
    again = client.post(void_url, json={"reason": "x"}, headers=shop.admin.headers)
    assert again.status_code == 409 and again.json["code"] == "redemption_already_voided"
    assert client.get(f"{shop.base}/offers/{offer['id']}").json["remaining_quota"] == 1
    assert _redeem(client, shop, code_for(client, resident), offer["id"]).status_code == 201  # limit restored too
    other = make_shop(factory)
    assert client.post(f"{other.base}/redemptions/{redemption['id']}/void", json={"reason": "x"},
                       headers=other.admin.headers).status_code == 404


def test_a_redemption_older_than_24h_cannot_be_voided(client, factory, session) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop)
    redemption = _redeem(client, shop, code_for(client, factory.user("resident")), offer["id"]).json
    session.execute(update(Redemption).where(Redemption.id == redemption["id"])
                    .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)))
    session.commit()
    response = client.post(f"{shop.base}/redemptions/{redemption['id']}/void", json={"reason": "晚了"},
                           headers=shop.admin.headers)
    assert response.status_code == 409 and response.json["code"] == "void_window_passed"


def test_the_csv_export_is_utf8_with_bom_masked_and_bounded_by_dates(client, factory, session) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, title="=HYPERLINK(\"x\")")
    resident = factory.user("resident", name="欧阳明华")
    kept = _redeem(client, shop, code_for(client, resident), offer["id"]).json
    old = _redeem(client, shop, code_for(client, resident), offer["id"]).json
    session.execute(update(Redemption).where(Redemption.id == old["id"])
                    .values(created_at=dt.datetime(2026, 1, 5, 4, 0, tzinfo=dt.UTC)))
    session.commit()
    url = f"{shop.base}/redemptions.csv"
    assert client.get(url, headers=shop.cashier.headers).status_code == 403
    response = client.get(url, headers=shop.admin.headers)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["核销编号", "核销时间", "优惠编号"]
    assert [r[0] for r in rows[1:]] == [kept["id"]]
    assert rows[1][5] == "欧***" and "欧阳明华" not in raw.decode("utf-8-sig")
    assert rows[1][3].startswith("'=")  # never a live formula in Excel
    january = client.get(f"{url}?from=2026-01-05&to=2026-01-05", headers=shop.admin.headers)
    assert [r[0] for r in list(csv.reader(io.StringIO(january.data.decode("utf-8-sig"))))[1:]] == [old["id"]]
    bad = client.get(f"{url}?from=2026-02-01&to=2026-01-01", headers=shop.admin.headers)
    assert bad.status_code == 422 and bad.json["code"] == "invalid_date_range"
    assert client.get(f"{url}?from=yesterday", headers=shop.admin.headers).status_code == 422
    far = client.get(f"{url}?from=9999-12-30&to=9999-12-31", headers=shop.admin.headers)
    assert far.status_code == 422 and far.json["code"] == "invalid_date_range"
    # at most 366 days, both ends counted: a leap year whole, not a day more
    assert client.get(f"{url}?from=2028-01-01&to=2028-12-31", headers=shop.admin.headers).status_code == 200
    long = client.get(f"{url}?from=2025-12-01&to=2026-12-02", headers=shop.admin.headers)
    assert long.status_code == 422 and long.json["code"] == "invalid_date_range"


def test_the_counter_lists_its_own_redemptions_newest_first(client, factory) -> None:
    shop, other = make_shop(factory), make_shop(factory)
    offer = make_offer(client, shop)
    resident = factory.user("resident")
    ids = [_redeem(client, shop, code_for(client, resident), offer["id"]).json["id"] for _ in range(3)]
    listed = client.get(f"{shop.base}/redemptions?limit=2", headers=shop.cashier.headers)
    assert [r["id"] for r in listed.json["items"]] == ids[::-1][:2] and listed.json["next_cursor"]
    assert client.get(f"{shop.base}/redemptions", headers=other.cashier.headers).status_code == 404


def test_a_redemption_refused_for_quota_writes_nothing_not_even_the_limit_count(client, factory, session) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, per_person_limit=1, period="month", total_quota=0)
    resident = factory.user("resident")
    refused = _redeem(client, shop, code_for(client, resident), offer["id"])
    assert refused.status_code == 409 and refused.json["code"] == "quota_exhausted"
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0
    session.commit()
    client.patch(f"{shop.base}/offers/{offer['id']}", json={"total_quota": 1}, headers=shop.admin.headers)
    assert _redeem(client, shop, code_for(client, resident), offer["id"]).status_code == 201
    benefit = next(b for b in client.get(f"{API}/me/benefits", headers=resident.headers).json["items"]
                   if b["offer"]["id"] == offer["id"])
    assert benefit["used"] == 1 and benefit["reason"] == "limit_reached"


def test_a_scan_counts_only_the_uses_of_each_offers_current_period(client, factory, session) -> None:
    shop = make_shop(factory)
    daily = make_offer(client, shop, per_person_limit=1, period="day", title="每日一次")
    monthly = make_offer(client, shop, per_person_limit=2, period="month", title="每月两次")
    resident = factory.user("resident")
    # Uses of an earlier month do not count against this one.
    session.add(OfferUsage(offer_id=monthly["id"], person_id=resident.person_id, period_key="2000-01", used=2))
    session.commit()
    assert _redeem(client, shop, code_for(client, resident), daily["id"]).status_code == 201
    assert _redeem(client, shop, code_for(client, resident), monthly["id"]).status_code == 201
    scan = client.post(f"{shop.base}/scans", json={"code": code_for(client, resident)},
                       headers=shop.cashier.headers).json
    assert [o["id"] for o in scan["offers"]] == [monthly["id"]]
    assert scan["not_eligible"] == [{"offer_id": daily["id"], "title": "每日一次", "reason": "limit_reached"}]
    empty = make_shop(factory)
    scan = client.post(f"{empty.base}/scans", json={"code": code_for(client, resident)},
                       headers=empty.cashier.headers).json
    assert scan["offers"] == [] and scan["not_eligible"] == [] and scan["level"] == "A"


def test_a_resident_without_a_stored_score_is_scored_at_the_counter(client, factory, session) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop)
    scanned, redeemed = factory.user("resident"), factory.user("resident")
    people = [scanned.person_id, redeemed.person_id]
    session.execute(delete(CreditStanding).where(CreditStanding.subject_id.in_(people)))
    session.commit()
    scan = client.post(f"{shop.base}/scans", json={"code": code_for(client, scanned)}, headers=shop.cashier.headers)
    assert scan.status_code == 200 and scan.json["level"] == "A"
    assert [o["id"] for o in scan.json["offers"]] == [offer["id"]]
    redemption = _redeem(client, shop, code_for(client, redeemed), offer["id"])
    assert redemption.status_code == 201 and redemption.json["level"] == "A"
    stored = dict(session.execute(select(CreditStanding.subject_id, CreditStanding.level)
                                  .where(CreditStanding.subject_id.in_(people))).tuples().all())
    session.rollback()
    assert stored == {scanned.person_id: "A", redeemed.person_id: "A"}
