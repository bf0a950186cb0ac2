from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from points.models import PointsEntry, PointsTransaction
from tests.points.conftest import make_village, run_verify


def _postings(session):
    count = session.scalar(select(func.count()).select_from(PointsTransaction))
    session.rollback()
    return count


def test_a_batch_reports_each_item_and_one_bad_item_rejects_nothing_else(village):
    _, rid = village.add_resident()
    village.rule("volunteer", 10)
    village.rule("photo", 5, evidence_required=True)
    response = village.client.post(village.url("/awards"), json={"items": [
        {"resident_id": rid, "rule_code": "volunteer", "note": "扫雪"},
        {"resident_id": "pac_unknown", "rule_code": "volunteer"},
        {"resident_id": rid, "rule_code": "nope"},
        {"resident_id": rid, "rule_code": "photo"},
        {"resident_id": rid, "rule_code": "photo", "evidence": ["https://files.example/1.jpg"]},
    ]}, headers=village.clerk.headers)
    assert response.status_code == 201
    items = response.json["items"]
    assert items[0]["status"] == "pending" and items[0]["resident_id"] == rid and items[0]["rule_code"] == "volunteer"
    assert items[0]["id"].startswith("paw_")
    assert [i.get("error", {}).get("code") for i in items[1:4]] == [
        "resident_not_found", "rule_not_found", "evidence_required"]
    assert items[4]["status"] == "pending"
    pending = village.client.get(village.url("/awards?status=pending"), headers=village.approver.headers).json
    assert len(pending["items"]) == 2


def test_approval_credits_balance_and_rating_and_shows_in_my_entries(village):
    user, rid = village.add_resident()
    village.rule("volunteer", 10)
    village.award(rid, "volunteer")
    mine = village.my_points(user)
    assert (mine["balance"], mine["rating"], mine["stars"]) == (10, 10, 1)
    assert mine["village_name"] == village.name
    entries = village.client.get("/api/v1/me/points/entries", headers=user.headers).json
    assert [(e["kind"], e["amount"]) for e in entries["items"]] == [("award", 10)]


def test_the_submitter_cannot_approve_their_own_award(village, factory, session):
    both = factory.user("clerk", village.org)
    factory.grant(both.account, village.org, "approver")
    session.rollback()
    _, rid = village.add_resident()
    village.rule("volunteer", 10)
    award = village.client.post(village.url("/awards"), json={"items": [{"resident_id": rid, "rule_code": "volunteer"}]},
                                headers=both.headers).json["items"][0]
    for action in ("approve", "reject", "reverse"):
        body = {"reason": "x"} if action == "reverse" else {}
        response = village.client.post(village.url(f"/awards/{award['id']}/{action}"), json=body, headers=both.headers)
        assert response.status_code == 409 and response.json["code"] == "same_person"


def test_only_approvers_decide_and_only_clerks_submit(village):
    _, rid = village.add_resident()
    village.rule("volunteer", 10)
    award = village.submit(rid, "volunteer")
    assert village.client.post(village.url(f"/awards/{award['id']}/approve"),
                               headers=village.clerk.headers).status_code == 403
    assert village.client.post(village.url("/awards"), json={"items": [{"resident_id": rid, "rule_code": "volunteer"}]},
                               headers=village.approver.headers).status_code == 403


def test_approving_twice_posts_once(village, session):
    user, rid = village.add_resident()
    village.rule("volunteer", 10)
    award = village.submit(rid, "volunteer")
    first, second = village.approve(award["id"]), village.approve(award["id"])
    assert first.status_code == second.status_code == 200 and second.json["status"] == "approved"
    assert _postings(session) == 1 and village.my_points(user)["balance"] == 10


def test_32_concurrent_approvals_of_one_award_post_once(app, village, session):
    user, rid = village.add_resident()
    village.rule("volunteer", 10)
    award = village.submit(rid, "volunteer")

    def approve(_):
        response = app.test_client().post(village.url(f"/awards/{award['id']}/approve"),
                                          headers=village.approver.headers)
        return response.status_code, response.json["status"]

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(approve, range(32)))
    assert results == [(200, "approved")] * 32
    assert _postings(session) == 1
    assert village.my_points(user)["balance"] == 10
    assert run_verify(app).exit_code == 0


def test_rejected_awards_post_nothing_and_cannot_be_approved(village, session):
    _, rid = village.add_resident()
    village.rule("volunteer", 10)
    award = village.submit(rid, "volunteer")
    rejected = village.client.post(village.url(f"/awards/{award['id']}/reject"), json={"note": "证据不足"},
                                   headers=village.approver.headers)
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    response = village.approve(award["id"])
    assert response.status_code == 409 and response.json["code"] == "award_not_pending"
    assert _postings(session) == 0


def test_a_deduction_may_take_the_balance_below_zero_and_lowers_the_rating(village):
    user, rid = village.add_resident()
    village.rule("litter", -20, category="违规")
    village.award(rid, "litter")
    mine = village.my_points(user)
    assert (mine["balance"], mine["rating"], mine["stars"]) == (-20, -20, 0)


def test_reversal_posts_a_compensating_transaction_with_its_reason(app, village, session):
    user, rid = village.add_resident()
    village.rule("volunteer", 30)
    award = village.award(rid, "volunteer")
    no_reason = village.client.post(village.url(f"/awards/{award['id']}/reverse"), json={},
                                    headers=village.approver.headers)
    assert no_reason.status_code == 422
    response = village.client.post(village.url(f"/awards/{award['id']}/reverse"), json={"reason": "重复申报"},
                                   headers=village.approver.headers)
    assert response.status_code == 200
    assert response.json["status"] == "reversed" and response.json["reversal_reason"] == "重复申报"
    mine = village.my_points(user)
    assert mine["balance"] == 0 and mine["rating"] == 0
    amounts = sorted(session.scalars(select(PointsEntry.amount).where(PointsEntry.account_id == rid)))
    session.rollback()
    assert amounts == [-30, 30]  # the award's entry is still there: entries are never changed
    again = village.client.post(village.url(f"/awards/{award['id']}/reverse"), json={"reason": "重复申报"},
                                headers=village.approver.headers)
    assert again.status_code == 200 and _postings(session) == 2
    assert run_verify(app).exit_code == 0


def test_a_pending_award_posts_its_submitted_points_and_nothing_once_its_rule_is_retired(village):
    _, rid = village.add_resident()
    village.rule("help", 8)
    repriced, retired = village.submit(rid, "help"), village.submit(rid, "help")
    url = village.url("/rules/help")
    assert village.client.patch(url, json={"points": 80}, headers=village.admin.headers).status_code == 200
    approved = village.approve(repriced["id"])
    assert approved.status_code == 200 and approved.json["points"] == 8  # as submitted
    assert village.client.patch(url, json={"active": False}, headers=village.admin.headers).status_code == 200
    refused = village.approve(retired["id"])
    assert refused.status_code == 409 and refused.json["code"] == "rule_inactive"
    rejected = village.client.post(village.url(f"/awards/{retired['id']}/reject"), json={"note": "规则已停用"},
                                   headers=village.approver.headers)
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"


def test_reversing_a_pending_award_is_409(village):
    _, rid = village.add_resident()
    village.rule("volunteer", 10)
    award = village.submit(rid, "volunteer")
    response = village.client.post(village.url(f"/awards/{award['id']}/reverse"), json={"reason": "x"},
                                   headers=village.approver.headers)
    assert response.status_code == 409 and response.json["code"] == "award_not_approved"


def test_the_period_limit_is_checked_at_submission_and_at_approval(village):
    user, rid = village.add_resident()
    village.rule("daily", 5, limit_per_period=1, period="day")
    first, second = village.submit(rid, "daily"), village.submit(rid, "daily")
    assert village.approve(first["id"]).status_code == 200
    late = village.approve(second["id"])
    assert late.status_code == 409 and late.json["code"] == "rule_limit_reached"
    third = village.client.post(village.url("/awards"), json={"items": [{"resident_id": rid, "rule_code": "daily"}]},
                                headers=village.clerk.headers).json["items"][0]
    assert third["error"]["code"] == "rule_limit_reached"
    assert village.my_points(user)["balance"] == 5


def test_a_reversed_award_frees_its_place_in_the_limit(village):
    _, rid = village.add_resident()
    village.rule("monthly", 5, limit_per_period=1, period="month")
    award = village.award(rid, "monthly")
    village.client.post(village.url(f"/awards/{award['id']}/reverse"), json={"reason": "录错"},
                        headers=village.approver.headers)
    assert village.submit(rid, "monthly")["status"] == "pending"


def test_concurrent_approvals_of_different_awards_respect_the_limit(app, village, session):
    user, rid = village.add_resident()
    village.rule("yearly", 10, limit_per_period=2, period="year")
    awards = [village.submit(rid, "yearly") for _ in range(12)]

    def approve(award):
        return app.test_client().post(village.url(f"/awards/{award['id']}/approve"),
                                      headers=village.approver.headers).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(approve, awards))
    assert statuses.count(200) == 2 and statuses.count(409) == 10
    assert village.my_points(user)["rating"] == 20
    assert _postings(session) == 2


def test_approved_awards_are_public_to_residents_without_evidence(village, factory, session):
    user, rid = village.add_resident()
    village.rule("volunteer", 10)
    village.rule("photo", 5, evidence_required=True)
    village.award(rid, "volunteer")
    village.submit(rid, "photo", evidence=["https://files.example/secret.jpg"])
    public = village.client.get(village.url("/awards?status=approved"), headers=user.headers)
    assert public.status_code == 200
    [item] = public.json["items"]
    assert item["status"] == "approved" and item["evidence"] == [] and item["submitted_by"] is None
    assert item["resident_name_masked"] == "张*"
    assert village.client.get(village.url("/awards"), headers=user.headers).json["items"] == public.json["items"]
    assert village.client.get(village.url("/awards?status=pending"), headers=user.headers).status_code == 403
    outsider = factory.user("resident")
    session.rollback()
    assert village.client.get(village.url("/awards?status=approved"), headers=outsider.headers).status_code == 404


def test_leaderboard_ranks_rating_earned_in_the_month(village):
    import datetime as dt

    from points.ledger import SHANGHAI

    a, rid_a = village.add_resident()
    b, rid_b = village.add_resident()
    village.rule("big", 30)
    village.rule("small", 10)
    village.rule("litter", -5)
    village.award(rid_a, "small")
    village.award(rid_b, "big")
    village.award(rid_b, "litter")
    month = dt.datetime.now(SHANGHAI).strftime("%Y-%m")
    board = village.client.get(village.url(f"/leaderboard?period={month}"), headers=a.headers)
    assert board.status_code == 200
    assert [(r["rank"], r["resident_id"], r["rating"]) for r in board.json["items"]] == [(1, rid_b, 25), (2, rid_a, 10)]
    assert village.client.get(village.url("/leaderboard?period=2001-01"), headers=a.headers).json["items"] == []
    current = village.client.get(village.url("/leaderboard"), headers=a.headers)  # no period: this month
    assert current.status_code == 200 and current.json == board.json and current.json["period"] == month
    bad = village.client.get(village.url("/leaderboard?period=2026-13"), headers=a.headers)
    assert bad.status_code == 422 and bad.json["code"] == "invalid_period"


def test_a_community_runs_its_own_points_economy(client, factory, session):
    community = make_village(client, factory, kind="community")
    session.rollback()
    user, rid = community.add_resident()
    community.rule("volunteer", 10)
    community.award(rid, "volunteer")
    assert community.my_points(user)["balance"] == 10
