"""Regressions found by black-box runs of the points economy: four eyes, decision notes, idempotent
batches, leaderboard months and limit, bounded star thresholds, over-nested JSON."""

import datetime as dt

from points.ledger import SHANGHAI


def test_an_approver_who_is_the_awards_resident_cannot_decide_it(village, factory, session):
    own = factory.user("approver", village.org, verified=True)
    session.rollback()
    _, rid = village.add_resident(own)
    village.rule("volunteer", 10)
    pending = village.submit(rid, "volunteer")
    approved = village.award(rid, "volunteer")
    for award, action, body in ((pending, "approve", None), (pending, "reject", {"note": "x"}),
                                (approved, "reverse", {"reason": "x"})):
        response = village.client.post(village.url(f"/awards/{award['id']}/{action}"), json=body,
                                       headers=own.headers)
        assert response.status_code == 409 and response.json["code"] == "same_person", (action, response.json)
    assert village.approve(pending["id"]).status_code == 200  # another approver may
    assert village.my_points(own)["balance"] == 20


def test_a_rejections_note_is_shown_to_staff_never_in_the_public_list(village):
    user, rid = village.add_resident()
    village.rule("volunteer", 10)
    village.award(rid, "volunteer")
    award = village.submit(rid, "volunteer")
    rejected = village.client.post(village.url(f"/awards/{award['id']}/reject"), json={"note": "证据不足"},
                                   headers=village.approver.headers)
    assert rejected.status_code == 200 and rejected.json["decision_note"] == "证据不足"
    shown = village.client.get(village.url(f"/awards/{award['id']}"), headers=village.clerk.headers)
    assert shown.status_code == 200 and shown.json["decision_note"] == "证据不足"
    public = village.client.get(village.url("/awards?status=approved"), headers=user.headers)
    assert public.status_code == 200 and len(public.json["items"]) == 1
    assert [i["decision_note"] for i in public.json["items"]] == [None]
    assert "证据不足" not in public.get_data(as_text=True)


def test_the_clerks_note_stays_out_of_the_public_list(village):
    user, rid = village.add_resident()
    village.rule("volunteer", 10)
    award = village.client.post(village.url("/awards"), json={"items": [
        {"resident_id": rid, "rule_code": "volunteer", "note": "帮助邻居王某某（电话 139...）"}]},
        headers=village.clerk.headers).json["items"][0]
    assert village.approve(award["id"]).status_code == 200
    staff = village.client.get(village.url(f"/awards/{award['id']}"), headers=village.clerk.headers).json
    assert staff["note"].startswith("帮助邻居")
    public = village.client.get(village.url("/awards?status=approved"), headers=user.headers)
    assert [i["note"] for i in public.json["items"]] == [None] and "王某某" not in public.get_data(as_text=True)


def test_a_retried_award_batch_with_its_idempotency_key_is_submitted_once(village):
    _, rid = village.add_resident()
    village.rule("volunteer", 10)
    body = {"items": [{"resident_id": rid, "rule_code": "volunteer"}]}
    headers = {**village.clerk.headers, "Idempotency-Key": "awards-1"}
    first = village.client.post(village.url("/awards"), json=body, headers=headers)
    again = village.client.post(village.url("/awards"), json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers.get("Idempotent-Replayed") == "true"
    pending = village.client.get(village.url("/awards?status=pending"), headers=village.approver.headers).json
    assert [a["id"] for a in pending["items"]] == [first.json["items"][0]["id"]]
    other = village.client.post(village.url("/awards"), json={"items": [{**body["items"][0], "note": "另一份"}]},
                                headers=headers)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"


def test_leaderboard_months_outside_2000_to_2100_are_invalid_and_limit_caps_the_rows(village):
    user, rid = village.add_resident()
    _, other = village.add_resident()
    village.rule("volunteer", 10)
    village.award(rid, "volunteer")
    village.award(rid, "volunteer")
    village.award(other, "volunteer")
    for period in ("0000-01", "1999-12", "2101-01", "9999-12"):
        response = village.client.get(village.url(f"/leaderboard?period={period}"), headers=user.headers)
        assert response.status_code == 422 and response.json["code"] == "invalid_period", period
    fixed = village.client.get(village.url("/leaderboard?period=2026-11&limit=1"), headers=user.headers)
    assert fixed.status_code == 200 and len(fixed.json["items"]) <= 1
    month = dt.datetime.now(SHANGHAI).strftime("%Y-%m")
    assert len(village.client.get(village.url(f"/leaderboard?period={month}"), headers=user.headers).json["items"]) == 2
    top = village.client.get(village.url(f"/leaderboard?period={month}&limit=1"), headers=user.headers)
    assert top.status_code == 200
    assert [(r["rank"], r["resident_id"], r["rating"]) for r in top.json["items"]] == [(1, rid, 20)]
    zero = village.client.get(village.url(f"/leaderboard?period={month}&limit=0"), headers=user.headers)
    assert zero.status_code == 422


def test_star_thresholds_beyond_ten_million_are_422(village):
    url = village.url("/star-thresholds")
    for huge in ([0, 10, 20, 40, 2**63], [-(2**63), 10, 20, 40, 60], [0, 10, 20, 40, 10_000_001]):
        response = village.client.put(url, json={"star_thresholds": huge}, headers=village.admin.headers)
        assert response.status_code == 422, (huge, response.json)
    edge = [-10_000_000, 0, 1, 2, 10_000_000]
    ok = village.client.put(url, json={"star_thresholds": edge}, headers=village.admin.headers)
    assert ok.status_code == 200 and ok.json["star_thresholds"] == edge


def test_json_nested_too_deeply_is_400_malformed_json(village):
    deep = "[" * 100_000
    for path, headers in ((village.url("/awards"), village.clerk.headers), ("/api/v1/auth/login", {})):
        response = village.client.post(path, data=deep, content_type="application/json", headers=headers)
        assert response.status_code == 400 and response.json["code"] == "malformed_json", (path, response.status_code)
