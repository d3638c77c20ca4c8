"""``kpo-rules check``: check engagement files and report findings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import click

from kpo_rules.cli.color import CHOICES as COLOR_CHOICES
from kpo_rules.cli.color import should_color
from kpo_rules.cli.progress import Progress, wanted
from kpo_rules.errors import ExitCode, KpoError
from kpo_rules.model import Report, Severity
from kpo_rules.report import FORMATS, RenderOptions, renderer

FAIL_ON = ("error", "warning", "info", "never")


def exit_code(report: Report, fail_on: str) -> ExitCode:
    """A plugin that failed to load makes the run incomplete, so never a pass."""
    if report.plugin_failures:
        return ExitCode.USAGE
    worst = report.worst()
    if fail_on == "never" or worst is None:
        return ExitCode.OK
    return ExitCode.FINDINGS if worst.rank >= Severity(fail_on).rank else ExitCode.OK


def use_color(stream: object) -> bool:
    """``--color auto`` for ``stream`` (see :mod:`kpo_rules.cli.color`)."""
    return should_color("auto", stream)


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None


def _selectors(values: tuple[str, ...]) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(v.strip().upper() for value in values for v in value.split(",") if v.strip())


def _reports(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
             ) -> list[tuple[str, Path]]:
    out = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or fmt not in FORMATS or not path:
            raise click.BadParameter(
                f"{value!r}: expected FORMAT=FILE with FORMAT one of {', '.join(sorted(FORMATS))}")
        out.append((fmt, Path(path)))
    return out


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE instead of standard output.")
@click.option("--report", "reports", multiple=True, callback=_reports, metavar="FORMAT=FILE",
              help="Also write a report in FORMAT to FILE (repeatable), e.g. sarif=kpo.sarif.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
              help="Lowest severity that makes the exit code 1 [default: error].")
@click.option("--select", multiple=True, metavar="RULE-OR-PREFIX",
              help="Report only these rules (comma-separated, repeatable); overrides config.")
@click.option("--ignore", multiple=True, metavar="RULE-OR-PREFIX",
              help="Never report these rules; overrides config.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
              help="Configuration file (default: nearest .kpo-rules.toml or pyproject.toml).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0,
              help="Worker processes; 0 = one per available core from 32 files on.  "
                   "[default: 0]")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Report only findings not recorded in this baseline file.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="Record today's findings in FILE (then exit 0).")
@click.option("--no-waivers", is_flag=True, help="Audit mode: waivers silence nothing.")
@click.option("--show-waived", is_flag=True,
              help="List waived findings in the text and full reports.")
@click.option("--today", callback=_parse_date, metavar="DATE",
              help="Run date for waiver expiry (YYYY-MM-DD), for reproducible CI.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing; only the exit code tells.")
@click.option("--statistics", is_flag=True,
              help="Print how many findings each rule raised instead of the findings "
                   "(with --format text, full or json).")
@click.option("--color", "color", type=click.Choice(COLOR_CHOICES), default="auto",
              show_default=True,
              help="Colour the console output: auto = on a terminal, unless NO_COLOR, "
                   "FORCE_COLOR or TERM=dumb say otherwise.")
def check_cmd(paths: tuple[str, ...], fmt: str, output: Path | None,
              reports: list[tuple[str, Path]], fail_on: str | None, select: tuple[str, ...],
              ignore: tuple[str, ...], config_file: str | None, jobs: int,
              baseline: Path | None, write_baseline: Path | None, no_waivers: bool,
              show_waived: bool, today: dt.date | None, quiet: bool, statistics: bool,
              color: str) -> None:
    """Check engagement files: PATHS are files, directories or '-' for stdin."""
    from kpo_rules.api import check  # noqa: PLC0415 - keeps `--help` fast
    from kpo_rules.config import find_config  # noqa: PLC0415

    if not paths:
        raise click.UsageError("name at least one file or directory (or '-' for stdin)")
    if statistics and fmt not in STATISTICS_FORMATS:
        raise click.UsageError(f"--statistics prints text or json, not {fmt}")
    try:
        config = find_config(paths, config_file)
        config = dataclasses.replace(
            config,
            select=_selectors(select) or config.select,
            ignore=_selectors(ignore) or config.ignore,
        )
        progress = _progress(quiet)
        try:
            report = check(paths, today=today, config=config, waivers=not no_waivers,
                           jobs=jobs, progress=progress,
                           baseline=None if write_baseline is not None else baseline)
        finally:
            if progress is not None:
                progress.clear()
        if write_baseline is not None:
            from kpo_rules.baseline import write_baseline as write  # noqa: PLC0415

            count = write(write_baseline, report.findings)
            click.echo(f"kpo-rules: wrote {count} findings to {write_baseline}", err=True)
            sys.exit(ExitCode.USAGE if report.plugin_failures else ExitCode.OK)
    except KpoError as exc:
        click.echo(f"kpo-rules: error: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    fail_on = fail_on or config.fail_on
    plain = RenderOptions(fail_on=fail_on, show_waived=show_waived)
    for extra_fmt, path in reports:
        path.write_text(renderer(extra_fmt)(report, plain), encoding="utf-8")
    options = dataclasses.replace(
        plain, color=should_color(color, sys.stdout) if output is None else color == "always")
    if output is not None or not quiet:  # --quiet alone renders nothing
        text = (_statistics(fmt, report, options) if statistics
                else renderer(fmt)(report, options))
        if output is not None:
            output.write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False, color=options.color)  # click would strip it from a pipe
    if report.plugin_failures and (quiet or output is not None or fmt not in ("text", "full")):
        for failure in report.plugin_failures:
            click.echo(f"kpo-rules: plugin {failure.name} failed to load: {failure.error}",
                       err=True)
    sys.exit(exit_code(report, fail_on))


STATISTICS_FORMATS = ("text", "full", "json")


def _statistics(fmt: str, report: Report, options: RenderOptions) -> str:
    from kpo_rules.report import statistics  # noqa: PLC0415

    if fmt == "json":
        return statistics.render_json(report, options)
    return statistics.render(report, options)


def _progress(quiet: bool) -> Progress | None:
    """A progress line on standard error, for a person at a terminal only."""
    stream = sys.stderr
    return Progress(stream) if not quiet and wanted(stream) else None
