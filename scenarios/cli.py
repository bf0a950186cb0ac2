"""CLI commands of scenarios: `flask --app backend scenarios ...`."""

import click

cli = click.Group("scenarios", help="scenarios commands.")
