"""双随机 inspection draws: targets weighted by grade, random inspectors, a seed to re-run them."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.credit import inspection
from tests.credit.conftest import item
from tests.factories import Factory

# --------------------------------------------------------------------------- the pure draw


def _candidates(**per_grade: int) -> list[tuple[str, str]]:
    return [(f"org_{grade}{n:03d}", grade) for grade, many in per_grade.items() for n in range(many)]


def test_the_same_seed_draws_the_same_targets_and_inspectors():
    args = {"candidates": _candidates(A=30, B=30, C=10, D=5), "weights": inspection.DEFAULT_WEIGHTS, "count": 8,
            "officers": ["acc_1", "acc_2", "acc_3", "acc_4"], "conflicts": {}, "inspectors_per_target": 2}
    first = inspection.draw(**args, seed=42)
    assert inspection.draw(**args, seed=42) == first
    assert inspection.draw(**{**args, "candidates": list(reversed(args["candidates"]))}, seed=42) == first
    assert any(inspection.draw(**args, seed=seed) != first for seed in range(43, 53))


def test_worse_grades_are_drawn_more_often_and_weight_0_never():
    candidates = _candidates(A=20, B=20, C=20, D=20)
    drawn: Counter[str] = Counter()
    for seed in range(400):
        for target in inspection.draw(candidates=candidates, weights={"A": 0, "B": 1, "C": 2, "D": 8}, count=4,
                                      officers=[], conflicts={}, inspectors_per_target=0, seed=seed):
            drawn[target.grade] += 1
    assert drawn["A"] == 0
    assert drawn["D"] > 2 * drawn["C"] > 2 * drawn["B"] > 0


def test_inspectors_are_distinct_officers_who_may_inspect_the_target():
    candidates = _candidates(D=6)
    officers = ["acc_1", "acc_2", "acc_3"]
    conflicts = {"org_D000": frozenset({"acc_1"})}
    for seed in range(50):
        for target in inspection.draw(candidates=candidates, weights=inspection.DEFAULT_WEIGHTS, count=6,
                                      officers=officers, conflicts=conflicts, inspectors_per_target=2, seed=seed):
            assert len(set(target.inspectors)) == 2 and set(target.inspectors) <= set(officers)
            assert target.org_id != "org_D000" or "acc_1" not in target.inspectors
    with pytest.raises(inspection.NotEnoughInspectors) as short:
        inspection.draw(candidates=candidates, weights=inspection.DEFAULT_WEIGHTS, count=6, officers=officers,
                        conflicts={"org_D003": frozenset({"acc_1", "acc_2"})}, inspectors_per_target=2, seed=1)
    assert (short.value.org_id, short.value.available) == ("org_D003", 1)


@settings(max_examples=200, deadline=None)
@given(grades=st.lists(st.sampled_from(inspection.GRADES), max_size=40),
       weights=st.fixed_dictionaries({g: st.integers(0, 5) for g in inspection.GRADES}).filter(
           lambda w: any(w.values())),
       count=st.integers(1, 50), seed=st.integers(0, 2**64 - 1))
def test_any_draw_is_count_distinct_drawable_candidates(grades, weights, count, seed):
    candidates = [(f"org_{n:03d}", grade) for n, grade in enumerate(grades)]
    drawable = {c for c in candidates if weights[c[1]] > 0}
    targets = inspection.draw(candidates=candidates, weights=weights, count=count, officers=[], conflicts={},
                              inspectors_per_target=0, seed=seed)
    assert len(targets) == min(count, len(drawable))
    assert len({t.org_id for t in targets}) == len(targets)
    assert {(t.org_id, t.grade) for t in targets} <= drawable


def test_the_candidates_digest_ignores_order_and_sees_a_grade_change():
    candidates = _candidates(A=3, D=2)
    shuffled = random.Random(7).sample(candidates, len(candidates))
    assert inspection.candidates_digest(shuffled) == inspection.candidates_digest(candidates)
    changed = [(org_id, "C" if org_id == "org_A000" else grade) for org_id, grade in candidates]
    assert inspection.candidates_digest(changed) != inspection.candidates_digest(candidates)


def test_weights_from_the_setting():
    assert inspection.parse_weights("1,2,4,8") == {"A": 1, "B": 2, "C": 4, "D": 8}
    for bad in ("0,0,0,0", "1,2,3", "1,-1,2,3"):
        with pytest.raises(ValueError):
            inspection.parse_weights(bad)


# --------------------------------------------------------------------------- over HTTP


def _code_of(session, org_id: str) -> str:
    from backend.identity.models import Organisation

    code = session.get(Organisation, org_id).credit_code
    session.rollback()
    return code


def _region() -> str:
    return f"46{random.randrange(1000, 10**4)}"  # a division of its own: other tests' enterprises stay out


def test_a_department_draws_d_first_sends_two_officers_and_keeps_the_draw(client: FlaskClient,
                                                                         factory: Factory, session) -> None:
    region = _region()
    department = factory.org("department")
    officers = [factory.user("officer", department) for _ in range(3)]
    admin = factory.user("admin", department)
    bad = factory.org("enterprise", region_code=region)
    fine = [factory.org("enterprise", region_code=region) for _ in range(3)]  # graded on the draw (B)
    conflicted = officers[0]
    factory.grant(conflicted.account, bad, "signer")  # works for the bad enterprise: never inspects it
    bad_id, bad_code, fine_ids = bad.id, bad.credit_code, [e.id for e in fine]
    conflicted_id, department_id = conflicted.account.id, department.id
    officer_ids = {o.account.id for o in officers}
    drawer_id = officers[1].account.id
    session.rollback()
    batch = client.post(f"/api/v1/departments/{department_id}/records:batch", json={"records": [
        item(f"INS-{bad_code}", credit_code=bad_code, category="black_list", severity="serious")]},
        headers=officers[1].headers)
    assert batch.json["items"][0]["result"] == "created"

    url = f"/api/v1/departments/{department_id}/inspection-draws"
    only_d = {"A": 0, "B": 0, "C": 0, "D": 1}
    drawn = client.post(url, json={"count": 2, "region_code": region, "weights": only_d},
                        headers={**officers[1].headers, "Idempotency-Key": "draw-1"})
    assert drawn.status_code == 201, drawn.json
    body = drawn.json
    assert body["candidates"] == 4 and body["requested"] == 2 and body["inspectors_per_target"] == 2
    assert [(t["org_id"], t["grade"]) for t in body["targets"]] == [(bad_id, "D")]  # the only grade that weighs
    # its own signer is never sent: the two other officers go
    assert sorted(body["targets"][0]["inspectors"]) == sorted(officer_ids - {conflicted_id})
    assert int(body["seed"]) >= 0 and len(body["candidates_digest"]) == 64
    assert body["drawn_by"] == drawer_id

    # a retry is the same draw, not a second one
    again = client.post(url, json={"count": 2, "region_code": region, "weights": only_d},
                        headers={**officers[1].headers, "Idempotency-Key": "draw-1"})
    assert again.json == body and again.headers.get("Idempotent-Replayed") == "true"

    everyone = client.post(url, json={"count": 10, "region_code": region}, headers=officers[2].headers).json
    assert everyone["weights"] == {"A": 1, "B": 2, "C": 4, "D": 8}  # INSPECTION_WEIGHTS
    assert sorted(t["org_id"] for t in everyone["targets"]) == sorted([bad_id, *fine_ids])
    for target in everyone["targets"]:
        assert len(set(target["inspectors"])) == 2 and set(target["inspectors"]) <= officer_ids
        assert target["name"] and target["credit_code"]
    listed = client.get(url, headers=admin.headers).json["items"]
    assert [d["id"] for d in listed] == [everyone["id"], body["id"]]  # newest first
    one = client.get(f"{url}/{body['id']}", headers=officers[0].headers).json
    assert {k: v for k, v in one.items() if k != "inputs"} == body

    # a grade changes afterwards; the draw kept what it chose from, and its seed re-runs it
    client.post(f"/api/v1/departments/{department_id}/records:batch", json={"records": [
        item(f"INS2-{fine_ids[0]}", credit_code=_code_of(session, fine_ids[0]), severity="serious")]},
        headers=officers[1].headers)
    kept = client.get(f"{url}/{everyone['id']}", headers=admin.headers).json["inputs"]
    rerun_kept = inspection.draw(candidates=[tuple(c) for c in kept["candidates"]], weights=everyone["weights"],
                                 count=10, officers=kept["officers"],
                                 conflicts={k: frozenset(v) for k, v in kept["conflicts"].items()},
                                 inspectors_per_target=2, seed=int(everyone["seed"]))
    assert [(t.org_id, list(t.inspectors)) for t in rerun_kept] == [
        (t["org_id"], t["inspectors"]) for t in everyone["targets"]]
    assert inspection.candidates_digest([tuple(c) for c in kept["candidates"]]) == everyone["candidates_digest"]
    candidates = [(bad_id, "D"), *[(e, "B") for e in fine_ids]]
    assert inspection.candidates_digest(candidates) == everyone["candidates_digest"]
    rerun = inspection.draw(candidates=candidates, weights=everyone["weights"], count=10,
                            officers=sorted(officer_ids), conflicts={bad_id: frozenset({conflicted_id})},
                            inspectors_per_target=2, seed=int(everyone["seed"]))
    assert [(t.org_id, list(t.inspectors)) for t in rerun] == [
        (t["org_id"], t["inspectors"]) for t in everyone["targets"]]


def test_draw_refusals(client: FlaskClient, factory: Factory, session) -> None:
    region = _region()
    department = factory.org("department")
    officer = factory.user("officer", department)
    admin = factory.user("admin", department)
    enterprise = factory.org("enterprise", region_code=region)
    factory.grant(officer.account, enterprise, "admin")
    department_id = department.id
    session.rollback()
    url = f"/api/v1/departments/{department_id}/inspection-draws"
    short = client.post(url, json={"count": 1, "region_code": region}, headers=officer.headers)
    assert short.status_code == 409 and short.json["code"] == "not_enough_inspectors"
    assert short.json["available"] == 0 and short.json["needed"] == 2
    alone = client.post(url, json={"count": 1, "region_code": region, "inspectors_per_target": 0},
                        headers=officer.headers)
    assert alone.status_code == 201 and len(alone.json["targets"]) == 1
    for body in ({"count": 0}, {"count": 1, "weights": {"A": 0, "B": 0, "C": 0, "D": 0}},
                 {"count": 1, "weights": {"A": 1, "B": 1, "C": 1}}, {"count": 1, "region_code": "4x"},
                 {"count": 1, "weights": {"A": 1, "B": 1, "C": 1, "D": 101}}):
        refused = client.post(url, json=body, headers=officer.headers)
        assert refused.status_code == 422, (body, refused.json)
    assert client.post(url, json={"count": 1}, headers=admin.headers).status_code == 403  # officers draw
    assert client.get(f"{url}/isd_missing", headers=officer.headers).json["code"] == "inspection_draw_not_found"
    other = factory.org("department")
    assert client.get(f"/api/v1/departments/{other.id}/inspection-draws/{alone.json['id']}",
                      headers=factory.user("officer", other).headers).status_code == 404
    empty = client.post(url, json={"count": 3, "region_code": "460000"}, headers=officer.headers)
    assert empty.status_code == 201 and (empty.json["candidates"], empty.json["targets"]) == (0, [])
