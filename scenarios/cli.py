"""CLI of 信用+医疗: `flask --app backend medical mark-overdue --as-of DATE` (run daily)."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import with_appcontext

from backend.db import session_scope
from backend.errors import check_job_day, cli_errors
from scenarios.eligibility import local_date

cli = click.Group("medical", help="信用+医疗 (treat first, pay later) jobs.")


@cli.command("mark-overdue")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Asia/Shanghai date to judge due dates against (default: today).")
@with_appcontext
def mark_overdue(as_of: dt.datetime | None) -> None:
    """Mark bills unpaid after their due day overdue and write one default record per bill."""
    from scenarios.service import medical

    today = local_date(dt.datetime.now(dt.UTC))
    day = as_of.date() if as_of else today
    settings = current_app.extensions["settings"]
    with cli_errors(), session_scope(current_app.extensions["session_factory"]) as session:
        check_job_day(day, today)  # a bill is overdue only once its due day has really passed
        marked = medical.mark_overdue(session=session, settings=settings, as_of=day)
    click.echo(f"marked {len(marked)} bill(s) overdue as of {day.isoformat()}")
    for bill_id in marked:
        click.echo(f"  {bill_id}")
