"""Demo data: a template of each type from the demo department and one signed commitment; idempotent."""

from sqlalchemy import func, select

from backend import demo as core_demo
from backend.commitments import demo
from backend.commitments.models import Commitment, CommitmentTemplate


def test_demo_seed_is_idempotent_and_its_commitment_verifies(app, client, session, settings, redis):
    lines = []
    for _ in range(2):
        world = core_demo.seed(session=session, settings=settings, redis=redis)
        lines = demo.seed(session=session, settings=settings, world=world)
    assert session.scalar(select(func.count()).select_from(CommitmentTemplate)) == 4
    assert session.scalar(select(func.count()).select_from(Commitment)) == 1
    kinds = set(session.scalars(select(CommitmentTemplate.type)))
    assert kinds == {"public_disclosure", "industry_self_discipline", "approval_substitute", "credit_repair"}
    session.rollback()
    public_id = lines[-1].rsplit("/v/", 1)[1]
    view = client.get(f"/api/v1/public/commitments/{public_id}").json
    assert view["valid"] is True and view["subject"]["name"] == "张*"
    assert "张三" not in client.get(f"/api/v1/public/commitments/{public_id}").get_data(as_text=True)
    assert "张三" not in client.get(f"/v/{public_id}").get_data(as_text=True)  # the public page names no one in full
