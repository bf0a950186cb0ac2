from tests.points.conftest import make_village


def _welfare(client, user):
    credit = client.get("/api/v1/me/credit", headers=user.headers)
    assert credit.status_code == 200, credit.json
    return next(d for d in credit.json["dimensions"] if d["code"] == "public_welfare"), credit.json["score"]


def test_village_rating_moves_the_public_welfare_dimension_of_the_credit_score(client, factory, village, session):
    community = make_village(client, factory, kind="community")
    session.rollback()
    user, rid = village.add_resident()
    community.add_resident(user)
    cid = community.residents[str(user.person_id)]
    before, score_before = _welfare(client, user)
    village.rule("volunteer", 200)
    community.rule("volunteer", 150)
    award = village.award(rid, "volunteer")
    after, score_after = _welfare(client, user)
    assert after["rating_points"] == 20 and score_after == score_before + 20  # rating 200 / 10
    community.award(cid, "volunteer")
    total, _ = _welfare(client, user)
    assert total["rating_points"] == 35  # the rating across all villages: (200 + 150) / 10
    village.client.post(village.url(f"/awards/{award['id']}/reverse"), json={"reason": "录错"},
                        headers=village.approver.headers)
    reversed_, _ = _welfare(client, user)
    assert reversed_["rating_points"] == 15 and before["rating_points"] == 0


def test_spending_at_the_store_does_not_lower_the_credit_score(client, village):
    user, rid = village.add_resident()
    village.rule("volunteer", 100)
    village.award(rid, "volunteer")
    _, score = _welfare(client, user)
    item = village.item(price=50, stock=5)
    response = client.post(village.url("/store-redemptions"), json={"code": village.code(user), "item_id": item["id"]},
                           headers=village.cashier.headers)
    assert response.status_code == 201
    assert _welfare(client, user)[1] == score
