"""A refusal whose reason comes from the person's credit is a look at it: it goes to the query log.

A cashier told ``not_eligible: black_listed`` or ``level_too_low``, or a hospital told a patient's
line is used up, learnt about the person's credit as much as from a success, so the person sees
that look in ``GET /me/credit/queries`` (DESIGN.md: every organisation's read is logged). The
refused request writes nothing else: the query log row is written after its rollback, with or
without an Idempotency-Key, and exactly once.
"""

from __future__ import annotations

from sqlalchemy import func, select

from backend.credit.models import CreditQuery
from scenarios.models import MedicalVisit, Redemption
from tests.scenarios.helpers import (
    API,
    black_list,
    code_for,
    make_hospital,
    make_offer,
    make_shop,
    raise_to,
)


def _looks(client, resident) -> list[tuple[str, str]]:
    items = client.get(f"{API}/me/credit/queries", headers=resident.headers).json["items"]
    return [(item["org_id"], item["purpose"]) for item in items]


def test_a_redemption_refused_for_the_residents_credit_is_logged_once(
        client, factory, session, settings) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, min_level="AA")
    resident = factory.user("resident")  # level A
    for headers in ({}, {"Idempotency-Key": "refused-1"}):
        body = {"code": code_for(client, resident), "offer_id": offer["id"]}
        refused = client.post(f"{shop.base}/redemptions", json=body, headers={**shop.cashier.headers, **headers})
        assert refused.status_code == 403 and refused.json["reason"] == "level_too_low"
    replayed = client.post(f"{shop.base}/redemptions", json=body,
                           headers={**shop.cashier.headers, "Idempotency-Key": "refused-1"})
    assert replayed.headers.get("Idempotent-Replayed") == "true"  # the stored refusal: no second look
    assert _looks(client, resident) == [(shop.id, "benefit")] * 2
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0  # nothing else written
    session.rollback()


def test_a_black_listed_residents_refusal_is_logged_and_a_refusal_for_the_code_is_not(
        client, factory, session, settings) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop)
    resident = factory.user("resident")
    black_list(session, settings, factory, resident.person_id)
    code = code_for(client, resident)
    refused = client.post(f"{shop.base}/redemptions", json={"code": code, "offer_id": offer["id"]},
                          headers=shop.cashier.headers)
    assert refused.status_code == 403 and refused.json["reason"] == "black_listed"
    again = client.post(f"{shop.base}/redemptions", json={"code": code, "offer_id": offer["id"]},
                        headers=shop.cashier.headers)
    assert again.status_code == 409 and again.json["code"] == "qr_already_used"  # no look at the credit
    assert _looks(client, resident) == [(shop.id, "benefit")]


def test_a_refused_visit_and_a_charge_over_the_line_are_logged(client, factory, session, settings) -> None:
    hospital = make_hospital(factory)
    refused_patient = factory.user("resident")
    black_list(session, settings, factory, refused_patient.person_id)
    refused = client.post(f"{hospital.base}/visits", json={"code": code_for(client, refused_patient)},
                          headers=hospital.clinician.headers)
    assert refused.status_code == 403 and refused.json["reason"] == "black_listed"
    assert _looks(client, refused_patient) == [(hospital.id, "medical")]

    patient = factory.user("resident")  # A: a line of ¥1,000 by default
    visit = client.post(f"{hospital.base}/visits", json={"code": code_for(client, patient)},
                        headers=hospital.clinician.headers).json
    assert _looks(client, patient) == [(hospital.id, "medical")]  # opening the visit
    over = client.post(f"{hospital.base}/visits/{visit['id']}/charges",
                       json={"amount_fen": 100_001, "item": "手术费"},
                       headers={**hospital.billing.headers, "Idempotency-Key": "over-1"})
    assert over.status_code == 409 and over.json["code"] == "credit_line_exceeded"
    assert _looks(client, patient) == [(hospital.id, "medical")] * 2
    assert session.scalar(select(func.count()).select_from(CreditQuery)) == 3
    assert session.get(MedicalVisit, visit["id"]).total_fen == 0
    session.rollback()
    charged = client.post(f"{hospital.base}/visits/{visit['id']}/charges", json={"amount_fen": 5_000, "item": "检查费"},
                          headers=hospital.billing.headers)
    assert charged.status_code == 201
    assert _looks(client, patient) == [(hospital.id, "medical")] * 3  # a charge that fits is a look too


def test_an_aa_resident_is_not_refused_and_each_redemption_is_one_look(client, factory, session, settings) -> None:
    shop = make_shop(factory)
    offer = make_offer(client, shop, min_level="AA")
    resident = factory.user("resident")
    raise_to(session, settings, factory, resident.person_id, "AA")
    done = client.post(f"{shop.base}/redemptions", json={"code": code_for(client, resident), "offer_id": offer["id"]},
                       headers=shop.cashier.headers)
    assert done.status_code == 201
    assert _looks(client, resident) == [(shop.id, "benefit")]


def test_a_refusal_whose_look_cannot_be_logged_does_not_tell_its_reason(client, factory, monkeypatch) -> None:
    """A look must be logged: when the query log cannot be written (database down), the answer is
    503 dependency_unavailable, not the credit reason."""
    from sqlalchemy.exc import OperationalError

    from backend.credit import service as credit_service

    def failing_logger(**_kwargs):
        def write(_session):
            raise OperationalError("INSERT INTO credit_queries", {}, Exception("connection lost"))
        return write

    monkeypatch.setattr(credit_service, "query_logger", failing_logger)
    shop = make_shop(factory)
    offer = make_offer(client, shop, min_level="AA")
    resident = factory.user("resident")
    refused = client.post(f"{shop.base}/redemptions", json={"code": code_for(client, resident),
                                                            "offer_id": offer["id"]}, headers=shop.cashier.headers)
    assert refused.status_code == 503 and refused.json["code"] == "dependency_unavailable"
    assert "level_too_low" not in refused.get_data(as_text=True)


def test_an_offer_that_keeps_changing_is_read_at_most_three_times_and_the_look_logged_once(
        client, factory, session, monkeypatch) -> None:
    """Each pass of the SQLite suite too: a write that always finds the offer changed (as a merchant
    editing it over and over) ends in 409 offer_changed after three reads, and one query-log row."""
    from scenarios.service import redemptions

    shop = make_shop(factory)
    offer = make_offer(client, shop)
    resident = factory.user("resident")
    reads: list[int] = []
    real_read = redemptions._offer_for_person
    monkeypatch.setattr(redemptions, "_offer_for_person", lambda *a, **k: reads.append(1) or real_read(*a, **k))
    monkeypatch.setattr(redemptions, "_write_portable", lambda conn, w: redemptions.OFFER_CHANGED)
    monkeypatch.setattr(redemptions, "_write_in_postgresql", lambda conn, w: redemptions.OFFER_CHANGED)
    answer = client.post(f"{shop.base}/redemptions", json={"code": code_for(client, resident), "offer_id": offer["id"]},
                         headers={**shop.cashier.headers, "Idempotency-Key": "changing-1"})
    assert answer.status_code == 409 and answer.json["code"] == "offer_changed"
    assert len(reads) == redemptions._READS == 3
    assert _looks(client, resident) == [(shop.id, "benefit")]
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0
    session.rollback()
