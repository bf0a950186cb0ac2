"""CLI commands of points: `flask --app backend points ...`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from backend.db import session_scope

cli = click.Group("points", help="厚德积分 points ledger.")


@cli.command("verify")
@with_appcontext
def verify() -> None:
    """Check that all entries sum to zero and every balance and rating equals its entries."""
    from points.service import verify as verify_ledger

    with session_scope(current_app.extensions["session_factory"]) as session:
        problems = verify_ledger(session=session)
    if problems:
        for line in problems:
            click.echo(line, err=True)
        raise click.ClickException(f"points ledger: {len(problems)} difference(s)")
    click.echo("points ledger OK: entries sum to 0, balances and ratings match their entries")
