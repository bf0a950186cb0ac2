"""CLI commands of points: `flask --app backend points ...`."""

import click

cli = click.Group("points", help="points commands.")
