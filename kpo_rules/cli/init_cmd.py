"""``kpo-rules init [DIR]``: a starter engagement, a config file and a CI workflow that pass."""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

import click

from kpo_rules._version import __version__
from kpo_rules.errors import ExitCode

#: Replaced by the version of kpo-rules writing the starter, so the workflow pins it.
VERSION_MARK = "@KPO_RULES_VERSION@"

#: starter resource -> where it goes in the project
STARTER = {
    "engagement.yaml": "engagements/example.yaml",
    "kpo-rules.toml": ".kpo-rules.toml",
    "github-workflow.yml": ".github/workflows/kpo-rules.yml",
}
#: JSON Schemas for editors, named by the starter engagement's modeline (docs/editors.md).
SCHEMAS = {"engagement": ".kpo-rules/engagement.schema.json",
           "roster": ".kpo-rules/roster.schema.json"}


@click.command("init")
@click.argument("directory", required=False, default=".",
                type=click.Path(file_okay=False, path_type=Path))
def init_cmd(directory: Path) -> None:
    """Write a starter engagement, its JSON Schemas for editors, .kpo-rules.toml and a GitHub
    Actions workflow to DIRECTORY."""
    from kpo_rules.schemas import dump_schema  # noqa: PLC0415

    targets = {name: directory / target for name, target in STARTER.items()}
    schemas = {name: directory / target for name, target in SCHEMAS.items()}
    existing = [str(t) for t in (*targets.values(), *schemas.values()) if t.exists()]
    if existing:
        click.echo(f"kpo-rules: error: not overwriting {', '.join(existing)}", err=True)
        sys.exit(ExitCode.USAGE)
    source = files("kpo_rules") / "starter"
    for name, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (source / name).read_text(encoding="utf-8").replace(VERSION_MARK, __version__)
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}")
    for name, target in schemas.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump_schema(name), encoding="utf-8")
        click.echo(f"wrote {target}")
    click.echo(f"next: kpo-rules check {directory}")
