"""CLI commands of credit: `flask --app backend credit ...`."""

import click

cli = click.Group("credit", help="credit commands.")
