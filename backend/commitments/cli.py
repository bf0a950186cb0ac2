"""CLI commands of commitments: `flask --app backend commitments ...`."""

import click

cli = click.Group("commitments", help="Credit commitments and seals.")
