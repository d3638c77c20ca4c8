"""``kpo-rules test [PATH]``: conformance checks, then every rule's pass/fail examples."""

from __future__ import annotations

import sys
from itertools import groupby
from pathlib import Path

import click

from kpo_rules.errors import ExitCode, KpoError


@click.command("test")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--verbose", "-v", is_flag=True, help="List passing examples too.")
def test_cmd(path: Path | None, verbose: bool) -> None:
    """Run the rule examples of the installed plugins, or of the plugin at PATH.

    The plugins' conformance checks (`kpo-rules plugin check`) run first; a problem fails
    the run as a failed example does.
    """
    from kpo_rules.cli.plugin_cmd import render_problem  # noqa: PLC0415
    from kpo_rules.conformance import check_plugins  # noqa: PLC0415
    from kpo_rules.content import load_content  # noqa: PLC0415
    from kpo_rules.local_plugin import load_local_plugin  # noqa: PLC0415
    from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415
    from kpo_rules.rule_tests import run_examples  # noqa: PLC0415

    only: frozenset[str] | None = None
    try:
        if path is not None:
            name, module = load_local_plugin(path)
            plugins = create_plugin_set(extra=[(name, module)])
            only = frozenset({name})
        else:
            plugins = create_plugin_set()
    except KpoError as exc:
        click.echo(f"kpo-rules: error: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    failures = [*plugins.failures, *load_content(plugins).failures]
    # The checked plugins' own failures are conformance problems, shown with their fix.
    for failure in failures:
        if only is not None and failure.name not in only:
            click.echo(f"error: plugin {failure.name}: {failure.error}", err=True)
    problems = check_plugins(plugins, only)
    for problem in problems:
        click.echo(f"PROBLEM {render_problem(problem)}")
    passed = failed = 0
    for rule_id, outcomes in groupby(run_examples(plugins, only), key=lambda o: o.rule.id):
        results = list(outcomes)
        bad = [o for o in results if not o.ok]
        passed += len(results) - len(bad)
        failed += len(bad)
        verdict = "FAIL" if bad else "ok  "
        click.echo(f"{verdict}  {rule_id:<16} {len(results) - len(bad)}/{len(results)} examples")
        for outcome in results:
            if not outcome.ok:
                click.echo(f"      FAIL {outcome.label}\n           {outcome.problem}")
            elif verbose:
                click.echo(f"      ok   {outcome.label}")
    checked = len(only) if only is not None else len({*plugins.names(),
                                                       *(f.name for f in plugins.failures)})
    click.echo(f"conformance: {len(problems)} problem{'' if len(problems) == 1 else 's'} "
               f"in {checked} plugin{'' if checked == 1 else 's'}")
    click.echo(f"{passed} passed, {failed} failed")
    unloaded = sorted({f.name for f in failures if only is None or f.name in only})
    if unloaded:
        click.echo(f"examples not run: {', '.join(unloaded)} failed to load (all or nothing: "
                   "fix the problems above)")
    if failures:
        sys.exit(ExitCode.USAGE)
    sys.exit(ExitCode.FINDINGS if failed or problems or not passed else ExitCode.OK)
