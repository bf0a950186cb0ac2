"""Merchants and hospitals see a level and a masked name: never a score, an ID number or a full name."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.factories import valid_id_number
from tests.scenarios.helpers import (
    add_records,
    code_for,
    make_hospital,
    make_offer,
    make_shop,
    standing,
)

FULL_NAME = "欧阳明华"


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_no_merchant_or_hospital_response_carries_a_score_id_number_or_full_name(
        client, factory, session, settings) -> None:
    resident = factory.user("resident", name=FULL_NAME, id_number=valid_id_number("19770615", "430121"))
    add_records(session, settings, factory.org("department"), resident.person_id, "volunteer_service", 3)
    score = standing(session, resident.person_id).score
    assert score == 650
    shop, hospital = make_shop(factory), make_hospital(factory)
    bodies: list[tuple[str, bytes]] = []

    def seen(label: str, response: Any) -> Any:
        assert response.status_code < 500, (label, response.json)
        bodies.append((label, response.data))
        return response.json

    offer = seen("offer", client.post(f"{shop.base}/offers", json={
        "scenario": "library", "title": "免押借书", "benefit": "免押金", "min_level": "A", "total_quota": 7},
        headers=shop.admin.headers))
    high = make_offer(client, shop, min_level="AAA", title="高等级专享")
    seen("offers", client.get(f"{shop.base}/offers", headers=shop.cashier.headers))
    seen("scan", client.post(f"{shop.base}/scans", json={"code": code_for(client, resident)},
                             headers=shop.cashier.headers))
    redemption = seen("redeem", client.post(f"{shop.base}/redemptions", headers=shop.cashier.headers, json={
        "code": code_for(client, resident), "offer_id": offer["id"]}))
    seen("refused", client.post(f"{shop.base}/redemptions", headers=shop.cashier.headers, json={
        "code": code_for(client, resident), "offer_id": high["id"]}))
    seen("list", client.get(f"{shop.base}/redemptions", headers=shop.admin.headers))
    seen("void", client.post(f"{shop.base}/redemptions/{redemption['id']}/void", json={"reason": "退单"},
                             headers=shop.admin.headers))
    seen("csv", client.get(f"{shop.base}/redemptions.csv", headers=shop.admin.headers))

    seen("policy", client.get(f"{hospital.base}/credit-policy", headers=hospital.admin.headers))
    seen("eligibility", client.post(f"{hospital.base}/eligibility", json={"code": code_for(client, resident)},
                                    headers=hospital.clinician.headers))
    visit = seen("visit", client.post(f"{hospital.base}/visits", json={"code": code_for(client, resident)},
                                      headers=hospital.clinician.headers))
    seen("charge", client.post(f"{hospital.base}/visits/{visit['id']}/charges",
                               json={"amount_fen": 1234, "item": "挂号费"}, headers=hospital.billing.headers))
    seen("over", client.post(f"{hospital.base}/visits/{visit['id']}/charges",
                             json={"amount_fen": 99_999_999, "item": "手术"}, headers=hospital.billing.headers))
    bill = seen("settle", client.post(f"{hospital.base}/visits/{visit['id']}/settle",
                                      headers=hospital.billing.headers))
    seen("visit get", client.get(f"{hospital.base}/visits/{visit['id']}", headers=hospital.billing.headers))
    seen("bills", client.get(f"{hospital.base}/bills", headers=hospital.billing.headers))
    seen("bill", client.get(f"{hospital.base}/bills/{bill['id']}", headers=hospital.billing.headers))
    seen("payment", client.post(f"{hospital.base}/bills/{bill['id']}/payments",
                                json={"amount_fen": 1000, "method": "cash"}, headers=hospital.billing.headers))

    assert len(bodies) == 18
    id_number = resident.id_number
    for label, raw in bodies:
        text = raw.decode("utf-8-sig")
        assert FULL_NAME not in text, label
        assert id_number not in text and id_number[-8:] not in text and id_number[:6] not in text, label
        assert resident.person_id not in text, label
        # the score as a number of its own: "650" inside a timestamp or an id is not a leak
        assert not re.search(rf"(?<![0-9A-Za-z._]){score}(?![0-9A-Za-z])", text), label
        if label != "csv":
            assert not _keys(json.loads(text)) & {"score", "id_number", "id_number_masked", "name", "person_id",
                                                  "dimensions", "reasons"}, label
        assert "欧***" in text or label in {"offer", "offers", "policy", "refused", "charge", "over", "payment", "settle"}, label
