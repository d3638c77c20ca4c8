"""``kpo-rules check``: check engagement files and report findings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kpo_rules.cli.color import CHOICES as COLOR_CHOICES
from kpo_rules.cli.color import should_color
from kpo_rules.cli.outputs import check_outputs, write
from kpo_rules.cli.progress import Progress, wanted
from kpo_rules.cli.selection import run_plugins
from kpo_rules.errors import ExitCode, KpoError
from kpo_rules.load.files import STDIN
from kpo_rules.model import Report, Severity
from kpo_rules.report import FORMATS, RenderOptions, renderer

if TYPE_CHECKING:
    from kpo_rules.config import Config

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


def _patterns(values: tuple[str, ...]) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(path_type=Path),
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
              help="Configuration file (default: nearest .kpo-rules.toml or pyproject.toml, "
                   "up to the repository root).")
@click.option("--exclude", multiple=True, metavar="PATTERN",
              help="Gitignore-style patterns not to check (comma-separated, repeatable); "
                   "replaces the config's and the default excludes.")
@click.option("--extend-exclude", multiple=True, metavar="PATTERN",
              help="Patterns not to check, in addition to the excludes.")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None,
              help="Skip files .gitignore and .git/info/exclude ignore [default: respect].")
@click.option("--force-exclude", is_flag=True, default=None,
              help="Apply excludes, and skip files that are not kpo-rules files, even to "
                   "files named explicitly (for pre-commit).")
@click.option("--stdin-filename", metavar="NAME",
              help="The name of standard input ('-') in findings; excludes apply to it.")
@click.option("--show-files", is_flag=True,
              help="Print the files that would be checked, and those skipped with the "
                   "reason, then exit.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0,
              help="Worker processes; 0 = one per available core from 32 files on.  "
                   "[default: 0]")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Report only findings not recorded in this baseline file.")
@click.option("--write-baseline", type=click.Path(path_type=Path),
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
              ignore: tuple[str, ...], config_file: str | None, exclude: tuple[str, ...],
              extend_exclude: tuple[str, ...], respect_gitignore: bool | None,
              force_exclude: bool | None, stdin_filename: str | None, show_files: bool,
              jobs: int, baseline: Path | None, write_baseline: Path | None, no_waivers: bool,
              show_waived: bool, today: dt.date | None, quiet: bool, statistics: bool,
              color: str) -> None:
    """Check engagement files: PATHS are files, directories or '-' for stdin."""
    if not paths and stdin_filename is not None:
        paths = (STDIN,)
    if not paths:
        raise click.UsageError("name at least one file or directory (or '-' for stdin)")
    if statistics and fmt not in STATISTICS_FORMATS:
        raise click.UsageError(f"--statistics prints text or json, not {fmt}")
    targets = [(fmt, output)] if output is not None else []
    targets += reports
    if write_baseline is not None:
        targets.append(("baseline", write_baseline))
    try:
        check_outputs([path for _, path in targets], paths)
        config = _config(paths, config_file, stdin_filename, select=select, ignore=ignore,
                         fail_on=fail_on, exclude=exclude, extend_exclude=extend_exclude,
                         respect_gitignore=respect_gitignore, force_exclude=force_exclude)
        if show_files:
            from kpo_rules.cli.show_files import show_files as show  # noqa: PLC0415

            click.echo(show(paths, config, stdin_filename), nl=False)
            sys.exit(ExitCode.OK)
        plugins = run_plugins(config, flags={"select": bool(select), "ignore": bool(ignore)})
        report = _check(paths, quiet=quiet, plugins=plugins, today=today, config=config,
                        waivers=not no_waivers, jobs=jobs, stdin_filename=stdin_filename,
                        baseline=None if write_baseline is not None else baseline,
                        details=bool({fmt, *(f for f, _ in reports)} & DETAILED_FORMATS))
        check_outputs([path for _, path in targets], [name for name, _ in report.checked])
        if write_baseline is not None:
            from kpo_rules.baseline import write_baseline as record  # noqa: PLC0415

            count = record(write_baseline, report.findings)
            click.echo(f"kpo-rules: wrote {count} findings to {write_baseline}", err=True)
            sys.exit(ExitCode.USAGE if report.plugin_failures else ExitCode.OK)
        plain = RenderOptions(fail_on=config.fail_on, show_waived=show_waived)
        for extra_fmt, path in reports:
            write(path, renderer(extra_fmt)(report, plain))
        options = dataclasses.replace(plain, color=should_color(color, sys.stdout)
                                      if output is None else color == "always")
        text = ""
        if output is not None or not quiet:  # --quiet alone renders nothing
            text = (_statistics(fmt, report, options) if statistics
                    else renderer(fmt)(report, options))
        if output is not None:
            write(output, text)
    except KpoError as exc:
        click.echo(f"kpo-rules: error: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    if output is None and not quiet:
        click.echo(text, nl=False, color=options.color)  # click would strip it from a pipe
    if report.plugin_failures and (quiet or output is not None or fmt not in ("text", "full")):
        for failure in report.plugin_failures:
            click.echo(f"kpo-rules: {failure.line_of_text()}", err=True)
    code = exit_code(report, config.fail_on)
    if report.files == 0:
        code = max(code, _nothing_checked(report, paths, quiet=quiet))
    sys.exit(code)


def _check(paths: Sequence[str], *, quiet: bool, **options: Any) -> Report:
    """:func:`kpo_rules.check`, with a progress line for a person at a terminal."""
    from kpo_rules.api import check  # noqa: PLC0415 - keeps `--help` fast

    progress = _progress(quiet)
    try:
        return check(paths, progress=progress, **options)
    finally:
        if progress is not None:
            progress.clear()


def _nothing_checked(report: Report, paths: Sequence[str], *, quiet: bool) -> ExitCode:
    """An empty check never passes CI, except a changed-files run whose named files were all
    left out on purpose (a commit that touched only a workflow)."""
    skipped = len(report.run.skipped)
    named_files_only = not any(p != STDIN and Path(p).is_dir() for p in paths)
    if named_files_only and skipped:
        if not quiet:
            files = "the file named was" if skipped == 1 else f"the {skipped} files named were"
            click.echo(f"kpo-rules: nothing to check: {files} skipped (--show-files says why)",
                       err=True)
        return ExitCode.OK
    what = (f"{skipped} path{'s' if skipped != 1 else ''} skipped (--show-files lists them)"
            if skipped else "no .yaml or .yml file found")
    click.echo(f"kpo-rules: error: nothing to check: {what}", err=True)
    return ExitCode.USAGE


def _config(paths: Sequence[str], config_file: str | None, stdin_filename: str | None, *,
            select: tuple[str, ...], ignore: tuple[str, ...], fail_on: str | None,
            exclude: tuple[str, ...], extend_exclude: tuple[str, ...],
            respect_gitignore: bool | None, force_exclude: bool | None) -> Config:
    """The project's configuration with the command line's flags over it."""
    from kpo_rules.config import find_config  # noqa: PLC0415

    config = find_config([stdin_filename if p == STDIN and stdin_filename else p
                  for p in paths], config_file)
    return dataclasses.replace(
        config,
        select=_selectors(select) or config.select,
        ignore=_selectors(ignore) or config.ignore,
        fail_on=fail_on or config.fail_on,
        exclude=_patterns(exclude) or config.exclude,
        extend_exclude=config.extend_exclude + (_patterns(extend_exclude) or ()),
        respect_gitignore=config.respect_gitignore if respect_gitignore is None
        else respect_gitignore,
        force_exclude=config.force_exclude if force_exclude is None else force_exclude,
    )


STATISTICS_FORMATS = ("text", "full", "json")
#: Formats that show more of each engagement than its findings (``kpo_rules.check(details=)``).
DETAILED_FORMATS = frozenset({"html"})


def _statistics(fmt: str, report: Report, options: RenderOptions) -> str:
    from kpo_rules.report import statistics  # noqa: PLC0415

    if fmt == "json":
        return statistics.render_json(report, options)
    return statistics.render(report, options)


def _progress(quiet: bool) -> Progress | None:
    """A progress line on standard error, for a person at a terminal only."""
    stream = sys.stderr
    return Progress(stream) if not quiet and wanted(stream) else None
