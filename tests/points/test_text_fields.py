"""Text a person reads (titles, names, reasons, evidence, line items) must show something: blank or
invisible-only values are 422, and surrounding whitespace is dropped, on create and on PATCH alike."""

from __future__ import annotations

import pytest

from tests.points.conftest import Village
from tests.scenarios.helpers import code_for, make_hospital, make_offer, make_shop

NOTHING_TO_READ = ["   ", "\t\n", "\u200b", "\u3000\u200d", "\ufeff"]


def _refused(response, field: str) -> bool:
    return response.status_code == 422 and response.json["code"] == "validation_failed" and \
        field in response.json["errors"]


@pytest.mark.parametrize("blank", NOTHING_TO_READ)
def test_points_rules_items_evidence_and_reasons_need_text(village: Village, blank: str) -> None:
    client, admin = village.client, village.admin.headers
    assert _refused(client.post(village.url("/rules"), json={"code": "r1", "name": blank, "points": 5,
                                                             "category": "美德"}, headers=admin), "name")
    rule = village.rule("filial", 10, evidence_required=True)
    _, rid = village.add_resident()
    award = client.post(village.url("/awards"), json={"items": [{"resident_id": rid, "rule_code": rule["code"],
                                                                 "evidence": [blank]}]},
                        headers=village.clerk.headers)
    assert award.status_code == 422  # an evidence requirement is not met by a blank
    item = village.item("  肥皂 ")
    assert item["name"] == "肥皂"
    patched = client.patch(village.url(f"/store-items/{item['id']}"), json={"name": " 香皂  "}, headers=admin)
    assert patched.status_code == 200 and patched.json["name"] == "香皂"
    assert _refused(client.patch(village.url(f"/store-items/{item['id']}"), json={"name": blank}, headers=admin),
                    "name")


@pytest.mark.parametrize("blank", NOTHING_TO_READ[:3])
def test_offers_voids_and_charges_need_text(client, factory, blank: str) -> None:
    shop = make_shop(factory)
    base = {"scenario": "public_bikes", "title": "免押骑行", "benefit": "免押金", "min_level": "A"}
    for field in ("title", "benefit"):
        assert _refused(client.post(f"{shop.base}/offers", json={**base, field: blank}, headers=shop.admin.headers),
                        field)
    offer = make_offer(client, shop)
    assert _refused(client.patch(f"{shop.base}/offers/{offer['id']}", json={"title": blank},
                                 headers=shop.admin.headers), "title")
    resident = factory.user("resident")
    redeemed = client.post(f"{shop.base}/redemptions", json={"code": code_for(client, resident),
                                                             "offer_id": offer["id"]},
                           headers=shop.cashier.headers).json
    assert _refused(client.post(f"{shop.base}/redemptions/{redeemed['id']}/void", json={"reason": blank},
                                headers=shop.admin.headers), "reason")
    hospital = make_hospital(factory)
    visit = client.post(f"{hospital.base}/visits", json={"code": code_for(client, resident)},
                        headers=hospital.clinician.headers).json
    assert _refused(client.post(f"{hospital.base}/visits/{visit['id']}/charges",
                                json={"amount_fen": 100, "item": blank}, headers=hospital.billing.headers), "item")


def test_no_text_shown_to_residents_takes_a_direction_override(client, factory, village: Village) -> None:
    """U+202E would show an offer title, a rule or a store item reversed on a resident's screen."""
    shop = make_shop(factory)
    body = {"scenario": "public_bikes", "title": "免押\u202e骑行", "benefit": "免押金", "min_level": "A"}
    offer = client.post(f"{shop.base}/offers", json=body, headers=shop.admin.headers)
    assert _refused(offer, "title")
    rule = client.post(village.url("/rules"), json={"code": "r2", "name": "a\u202eb", "points": 5, "category": "c"},
                       headers=village.admin.headers)
    assert _refused(rule, "name") and "方向" in rule.json["errors"]["name"][0]
    item = client.post(village.url("/store-items"), json={"name": "\u2067肥皂", "price": 1, "stock": 1},
                       headers=village.admin.headers)
    assert _refused(item, "name")
    marked = client.post(village.url("/store-items"), json={"name": "肥皂\u200f", "price": 1, "stock": 1},
                         headers=village.admin.headers)
    assert marked.status_code == 201  # a direction mark (right-to-left scripts use them) is no override
