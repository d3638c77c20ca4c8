"""``kpo-rules plugin new|check``: write a third-party plugin, and keep it honest."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kpo_rules.errors import ExitCode, KpoError

if TYPE_CHECKING:
    from kpo_rules.conformance import Problem


@click.group("plugin")
def plugin_cmd() -> None:
    """Scaffold and check third-party plugins (tutorial: `kpo-rules docs plugins`)."""


@plugin_cmd.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(["country", "domain"]),
              help="country: a country profile; domain: a task catalogue  "
                   "[default: country for names like kpo-country-nl, else domain]")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=Path),
              default=Path(), show_default=True, help="Directory to create NAME/ in.")
@click.option("--country", metavar="CC", help="ISO 3166 code, when NAME does not end in "
                                              "country-CC.")
@click.option("--prefix", metavar="PREFIX", help="Rule-id prefix [default: the country code, "
                                                 "or the domain's first letters].")
def new_cmd(name: str, kind: str | None, parent: Path, country: str | None,
            prefix: str | None) -> None:
    """Scaffold the installable plugin package NAME (a distribution name, e.g. kpo-country-nl).

    It passes its own tests as generated: `kpo-rules test NAME`, and pytest inside it.
    """
    from kpo_rules.scaffold import plan, write  # noqa: PLC0415

    try:
        chosen = plan(name, kind, country=country, prefix=prefix)
        parent.mkdir(parents=True, exist_ok=True)
        written = write(chosen, parent)
    except (KpoError, OSError) as exc:
        click.echo(f"kpo-rules: error: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    # "./NAME", never "NAME": `pip install NAME` would look NAME up on the package index.
    target = str(parent / name)
    target = target if os.path.isabs(target) else os.path.join(".", target)
    click.echo(f"created {target}: {chosen.kind} plugin '{chosen.entry_name}' "
               f"(import {chosen.import_name}, rule prefix {chosen.prefix})")
    for path in written:
        click.echo(f"  {path.relative_to(parent)}")
    click.echo("next:")
    click.echo(f"  kpo-rules test {target}        # conformance and rule examples")
    click.echo(f"  cd {target} && python -m pytest")
    click.echo(f"  python -m pip install {target}")


@plugin_cmd.command("check")
@click.argument("target")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def check_cmd(target: str, fmt: str) -> None:
    """Conformance checks of the plugin at TARGET (a source directory) or of the installed
    plugin named TARGET: rule ids and prefixes, metadata, documentation, examples,
    references, schemas, hook implementations, clashes with installed plugins.

    Exit codes: 0 conforms, 1 problems, 2 the plugin cannot be found or imported.
    """
    from kpo_rules.conformance import check_plugin  # noqa: PLC0415

    path = Path(target)
    try:
        problems = check_plugin(path if path.exists() else target)
    except KpoError as exc:
        click.echo(f"kpo-rules: error: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    if fmt == "json":
        click.echo(json.dumps({"problems": [p.as_dict() for p in problems]}, indent=2))
    else:
        for problem in problems:
            click.echo(render_problem(problem))
        click.echo(f"{len(problems)} problem{'' if len(problems) == 1 else 's'}")
    sys.exit(ExitCode.FINDINGS if problems else ExitCode.OK)


def render_problem(problem: Problem) -> str:
    """A conformance problem, its file relative to the working directory when inside it."""
    file = problem.file
    try:
        relative = os.path.relpath(file)
    except ValueError:  # another drive (Windows)
        relative = file
    if not relative.startswith(".."):
        file = relative
    where = f"{file}:{problem.line}" if problem.line else file
    return f"{where}: {problem.what} [{problem.check}]\n    fix: {problem.fix}"
