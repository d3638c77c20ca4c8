"""``kpo-rules test [PATH]``: run every rule's pass/fail examples and report per rule."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kpo_rules.errors import ExitCode


@click.command("test")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--verbose", "-v", is_flag=True, help="List passing examples too.")
def test_cmd(path: Path | None, verbose: bool) -> None:
    """Run the rule examples of the installed plugins, or of the plugin at PATH."""
    from kpo_rules.content import load_content  # noqa: PLC0415
    from kpo_rules.local_plugin import load_local_plugin  # noqa: PLC0415
    from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415
    from kpo_rules.rule_tests import run_examples  # noqa: PLC0415

    only: frozenset[str] | None = None
    if path is not None:
        name, module = load_local_plugin(path)
        plugins = create_plugin_set(extra=[(name, module)])
        only = frozenset({name})
    else:
        plugins = create_plugin_set()
    failures = [*plugins.failures, *load_content(plugins).failures]
    for failure in failures:
        click.echo(f"error: plugin {failure.name}: {failure.error}", err=True)
    passed = failed = 0
    for outcome in run_examples(plugins, only):
        if outcome.ok:
            passed += 1
            if verbose:
                click.echo(f"ok    {outcome.label}")
        else:
            failed += 1
            click.echo(f"FAIL  {outcome.label}\n      {outcome.problem}")
    click.echo(f"{passed} passed, {failed} failed")
    if failures:
        sys.exit(ExitCode.USAGE)
    sys.exit(ExitCode.FINDINGS if failed or not passed else ExitCode.OK)
