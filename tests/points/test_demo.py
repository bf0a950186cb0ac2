from sqlalchemy import func, select

from backend import demo as core_demo
from points import demo
from points.models import PointsAward, PointsEntry
from tests.points.conftest import run_verify


def test_demo_seed_is_idempotent_and_leaves_a_balanced_ledger(app, session, settings, redis):
    world = core_demo.seed(session=session, settings=settings, redis=redis)
    demo.seed(session=session, settings=settings, world=world)
    counts = (session.scalar(select(func.count()).select_from(PointsAward)),
              session.scalar(select(func.count()).select_from(PointsEntry)))
    demo.seed(session=session, settings=settings, world=world)
    assert (session.scalar(select(func.count()).select_from(PointsAward)),
            session.scalar(select(func.count()).select_from(PointsEntry))) == counts
    assert counts[1] > 0
    session.rollback()
    login = app.test_client().post("/api/v1/auth/login", json={"phone": "13800000001",
                                                               "password": core_demo.DEMO_PASSWORD})
    mine = app.test_client().get("/api/v1/me/points", headers={"Authorization": f"Bearer {login.json['access_token']}"})
    assert {item["balance"] for item in mine.json["items"]} == {40}
    assert run_verify(app).exit_code == 0
