"""``kpo-rules schema NAME``: print a JSON Schema, e.g. for editors."""

from __future__ import annotations

import json

import click

from kpo_rules.schemas import SCHEMA_NAMES, get_schema


@click.command("schema")
@click.argument("name", type=click.Choice(sorted(SCHEMA_NAMES)))
def schema_cmd(name: str) -> None:
    """Print the JSON Schema NAME (draft 2020-12)."""
    click.echo(json.dumps(get_schema(name), indent=2, ensure_ascii=False))
