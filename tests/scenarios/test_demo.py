"""The demo seed: offers for the demo merchant and a policy for the demo hospital, idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from backend import demo as core_demo
from scenarios import demo
from scenarios.models import HospitalPolicy, Offer


def test_the_demo_seed_adds_offers_and_a_policy_once(app, session, settings) -> None:
    world = core_demo.seed(session=session, settings=settings, redis=app.extensions["redis"])
    lines = demo.seed(session=session, settings=settings, world=world)
    demo.seed(session=session, settings=settings, world=world)
    assert not session.in_transaction()  # the caller prints the world after closing the session
    assert lines and "信易+" in lines[0]
    merchant, hospital = world.orgs["merchant"].id, world.orgs["hospital"].id
    assert session.scalar(select(func.count()).select_from(Offer).where(Offer.merchant_id == merchant)) == \
        len(demo.DEMO_OFFERS)
    assert session.get(HospitalPolicy, hospital) is not None
    session.commit()
