import sqlalchemy as sa
from sqlalchemy import select

from backend.identity.models import Account
from backend.schema import metadata


def _row_counts(app):
    engine = app.extensions["engine"]
    with engine.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in metadata().sorted_tables}


def test_create_admin_creates_then_promotes(app, session, factory):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "--phone", "13700000001", "--password", "Strong#Pass-2026"])
    assert result.exit_code == 0, result.output
    account = session.scalars(select(Account).where(Account.phone == "13700000001")).one()
    assert account.is_admin
    session.rollback()
    existing = factory.account()
    result = runner.invoke(args=["users", "create-admin", "--phone", existing.phone, "--password", "whatever"])
    assert result.exit_code == 0
    session.refresh(existing)
    assert existing.is_admin


def test_create_admin_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "--phone", "13700000002",
                                                "--password", "12345678"])
    assert result.exit_code != 0


def test_demo_seed_is_idempotent_and_prints_the_logins(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "13800000000" in first.output and "Credit@Demo2026" in first.output
    counts = _row_counts(app)
    assert counts["accounts"] >= 20 and counts["organisations"] == 6
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    assert _row_counts(app) == counts


def test_a_refused_cli_command_says_why_in_one_line(app):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["users", "create-admin", "--phone", "13900000001", "--password", "123"])
    assert weak.exit_code == 1 and "weak_password" in weak.output and "Traceback" not in weak.output
    missing = runner.invoke(args=["users", "disable", "--phone", "13999999999"])
    assert missing.exit_code == 1 and "account_not_found" in missing.output


def test_the_development_servers_request_lines_stay_out_of_the_log(app):
    import logging

    assert logging.getLogger("werkzeug").getEffectiveLevel() >= logging.WARNING  # they carry query strings
