"""CLI commands of seals and commitments: `flask --app backend seal ...`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from backend.db import session_scope

cli = AppGroup("seal", help="Seal keys (Ed25519) and credit commitments.")


@cli.command("rotate-key")
def rotate_key() -> None:
    """Make a new Ed25519 seal key active; earlier public keys stay in JWKS so old seals verify."""
    from backend.commitments.service import keys

    with session_scope(current_app.extensions["session_factory"]) as session:
        kid = keys.rotate(session=session, settings=current_app.extensions["settings"])
    click.echo(f"active seal key {kid}")


@cli.command("list-keys")
def list_keys() -> None:
    """List seal keys (kid, source, active or retired)."""
    from backend.commitments.service import keys

    with session_scope(current_app.extensions["session_factory"]) as session:
        for row in keys.list_keys(session=session):
            state = "active" if row.active_slot == 1 else f"retired {row.retired_at:%Y-%m-%d}" \
                if row.retired_at else "retired"
            click.echo(f"{row.kid}  {row.source:9}  {state}  created {row.created_at:%Y-%m-%d %H:%M}")


@cli.command("expire-commitments")
def expire_commitments() -> None:
    """Mark signed commitments past their validity as expired."""
    from backend.commitments.service import commitments

    with session_scope(current_app.extensions["session_factory"]) as session:
        count = commitments.expire(session=session)
    click.echo(f"expired {count} commitment(s)")
