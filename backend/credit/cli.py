"""CLI commands of credit: `flask --app backend credit recompute|expire`."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup

from backend.credit import scoring
from backend.db import session_scope
from backend.errors import check_job_day, cli_errors

cli = AppGroup("credit", help="Personal and enterprise credit.")


@cli.command("recompute")
@click.option("--subject", "subject", default=None, help="a person id (per_...) or organisation id (org_...)")
def recompute(subject: str | None) -> None:
    """Recompute and store the score of one subject, or of every subject."""
    from backend.credit import service

    with session_scope(current_app.extensions["session_factory"]) as session, cli_errors():
        count = service.recompute_all(session=session, subject_id=subject)
    click.echo(f"recomputed {count} subject(s)")


@cli.command("expire")
@click.option("--as-of", "as_of", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="end publicity periods due by the end of this day (Beijing time)")
def expire(as_of: dt.datetime) -> None:
    """End the publicity periods due by a date and recompute the subjects concerned."""
    from backend.credit import service

    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(scoring.SHANGHAI).date()
    with cli_errors():
        check_job_day(as_of.date(), today)  # expired early cannot be undone
    # the end of that day, but never later than now: no period ends before it has
    moment = min(dt.datetime.combine(as_of.date() + dt.timedelta(days=1), dt.time(), tzinfo=scoring.SHANGHAI), now)
    with session_scope(current_app.extensions["session_factory"]) as session:
        records, subjects = service.expire(session=session, as_of=moment.astimezone(dt.UTC))
    click.echo(f"expired {records} record(s); recomputed {subjects} subject(s)")
