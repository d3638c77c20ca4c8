"""``kpo-rules check``: check engagement files and report findings."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from kpo_rules.errors import ExitCode, KpoError
from kpo_rules.model import Report, Severity
from kpo_rules.report import FORMATS, renderer

FAIL_ON = ("error", "warning", "info", "never")


def exit_code(report: Report, fail_on: str) -> ExitCode:
    """SPEC 5: a plugin that failed to load makes the run incomplete, so never a pass."""
    if report.plugin_failures:
        return ExitCode.USAGE
    worst = report.worst()
    if fail_on == "never" or worst is None:
        return ExitCode.OK
    return ExitCode.FINDINGS if worst.rank >= Severity(fail_on).rank else ExitCode.OK


def use_color(stream: object) -> bool:
    """Colour only for a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS)),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE instead of standard output.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="error",
    show_default=True,
    help="Lowest severity that makes the exit code 1.",
)
@click.option(
    "--today",
    callback=_parse_date,
    metavar="DATE",
    help="Run date for waiver expiry (YYYY-MM-DD), for reproducible CI.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing; only the exit code tells.")
def check_cmd(
    paths: tuple[str, ...],
    fmt: str,
    output: Path | None,
    fail_on: str,
    today: dt.date | None,
    quiet: bool,
) -> None:
    """Check engagement files: PATHS are files, directories or '-' for stdin."""
    from kpo_rules.api import check  # noqa: PLC0415 - keeps `--help` fast

    if not paths:
        raise click.UsageError("name at least one file or directory (or '-' for stdin)")
    try:
        report = check(paths, today=today)
    except KpoError as exc:
        click.echo(f"kpo-rules: error: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    stream = sys.stdout
    text = renderer(fmt)(report, color=output is None and use_color(stream))
    if output is not None:
        output.write_text(text, encoding="utf-8")
    elif not quiet:
        click.echo(text, nl=False)
    if report.plugin_failures and (quiet or output is not None or fmt != "text"):
        for failure in report.plugin_failures:
            click.echo(
                f"kpo-rules: plugin {failure.name} failed to load: {failure.error}", err=True
            )
    sys.exit(exit_code(report, fail_on))
