"""``kpo-rules staff``: who could staff each service (:func:`kpo_rules.staff`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from typing import TYPE_CHECKING, Any

import click

from kpo_rules.cli.progress import Progress, wanted
from kpo_rules.cli.selection import run_plugins
from kpo_rules.errors import ExitCode, KpoError, UsageError

if TYPE_CHECKING:
    from kpo_rules.config import Config
    from kpo_rules.staffing import ServiceSpec

#: Options that describe a service instead of naming one in a file.
DESCRIBING = ("task", "client_country", "client_subdivision", "client_type", "client_timezone",
              "client_language", "business_hours", "business_days", "regulator",
              "size_class", "relationship", "period", "delivery_centre", "language",
              "decision_level", "hours_overlap", "software", "personal_data", "data_category",
              "transfer_mechanism", "safeguard", "supervisor")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _listed(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _period(value: str) -> tuple[dt.date, dt.date]:
    first, sep, last = value.partition("..")
    try:
        if not sep:
            raise ValueError
        return dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    except ValueError:
        raise UsageError(f"--period {value}: expected START..END as dates, e.g. "
                         "2027-01-01..2027-04-15") from None


def _hours(value: str) -> tuple[str, str]:
    start, sep, end = value.partition("-")
    if not sep:
        raise UsageError(f"--business-hours {value}: expected START-END, e.g. 09:00-17:00")
    return start, end


def _days(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for item in _listed(values):
        first, sep, last = item.lower().partition("-")
        if sep and first in DAYS and last in DAYS and DAYS.index(first) <= DAYS.index(last):
            out += DAYS[DAYS.index(first):DAYS.index(last) + 1]
        elif not sep and first in DAYS:
            out.append(first)
        else:
            raise UsageError(f"--business-days {item}: expected days among "
                             f"{', '.join(DAYS)} or a range of them, e.g. mon-fri")
    return tuple(out)


def _spec(given: dict[str, Any]) -> ServiceSpec:
    """The service the options describe."""
    from kpo_rules.staffing import ServiceSpec  # noqa: PLC0415

    missing = [f"--{name.replace('_', '-')}" for name in
               ("task", "client_country", "period", "delivery_centre") if not given[name]]
    if missing:
        raise UsageError(f"a described service needs {', '.join(missing)} (where the work is "
                         "delivered from decides which data transfer rules apply)")
    if given["business_days"] and not given["business_hours"]:
        raise UsageError("--business-days needs --business-hours (the days are those of "
                         "the hours given; without both, the country profile's apply)")
    optional = {
        "client_subdivision": given["client_subdivision"],
        "client_type": given["client_type"],
        "client_timezone": given["client_timezone"],
        "client_languages": _listed(given["client_language"]),
        "business_hours": _hours(given["business_hours"]) if given["business_hours"] else None,
        "business_days": _days(given["business_days"]),
        "client_regulators": _listed(given["regulator"]),
        "client_size_class": given["size_class"],
        "relationship": given["relationship"],
        "language": given["language"],
        "decision_level": given["decision_level"],
        "hours_overlap": given["hours_overlap"],
        "software": _listed(given["software"]),
        "personal_data": given["personal_data"],
        "data_categories": _listed(given["data_category"]),
        "transfer_mechanism": given["transfer_mechanism"],
        "safeguards": _listed(given["safeguard"]),
        "supervisor": given["supervisor"],
    }
    return ServiceSpec(task=given["task"], client_country=given["client_country"],
                       period=_period(given["period"]),
                       delivery_centre=given["delivery_centre"],
                       **{k: v for k, v in optional.items() if v not in (None, ())})


@click.command("staff")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--service", metavar="ENGAGEMENT/SERVICE",
              help="Only this service (metadata.id/services[].id).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format (json: `kpo-rules schema staffing`).")
@click.option("--limit", type=click.IntRange(min=0), default=10, show_default=True,
              help="Most candidates and near misses listed per service.")
@click.option("--all", "everyone", is_flag=True, help="List every staff member (no limit).")
@click.option("--select", multiple=True, metavar="RULE-OR-PREFIX",
              help="Judge by these rules only (comma-separated, repeatable).")
@click.option("--ignore", multiple=True, metavar="RULE-OR-PREFIX",
              help="Do not judge by these rules.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
              help="Configuration file (default: the nearest one, as for check).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0,
              help="Worker processes; 0 = one per available core for large rosters.  "
                   "[default: 0]")
@click.option("--task", help="Describe a service: its task (e.g. finance.tax_preparation).")
@click.option("--client-country", help="... the client's country (ISO 3166-1, e.g. US).")
@click.option("--client-subdivision", help="... its subdivision (ISO 3166-2, e.g. US-NY).")
@click.option("--client-type", help="... its type (corporate, tax_practice, law_firm, ...).")
@click.option("--client-timezone", help="... its IANA zone [default: the country's].")
@click.option("--client-language", multiple=True,
              help="... its business languages [default: the country's].")
@click.option("--business-hours", metavar="START-END",
              help="... its business hours, e.g. 09:00-17:00 [default: the country's].")
@click.option("--business-days", multiple=True, metavar="DAYS",
              help="... the days of those hours, e.g. mon-fri [default: mon-fri].")
@click.option("--regulator", multiple=True, help="... its regulators (e.g. rbi, bafin).")
@click.option("--size-class", help="... its size class (small, medium, large).")
@click.option("--relationship", help="... third_party or captive [default: third_party].")
@click.option("--period", metavar="START..END",
              help="... the period, e.g. 2027-01-01..2027-04-15.")
@click.option("--delivery-centre", metavar="PLACE[@ZONE]",
              help="... where the work is delivered from: a country or subdivision, e.g. "
                   "IN or IN-MH@Asia/Kolkata.")
@click.option("--language", help="... the working language [default: the client's first].")
@click.option("--decision-level", help="... preparer, reviewer or decision_maker.")
@click.option("--hours-overlap", type=click.FloatRange(min=0, max=24), default=0.0,
              help="... hours of overlap with the client's business hours each working day.")
@click.option("--software", multiple=True, help="... the tools the work needs.")
@click.option("--personal-data/--no-personal-data", default=None,
              help="... whether personal data is handled [default: not said].")
@click.option("--data-category", multiple=True,
              help="... personal data categories handled (e.g. tax_return_information).")
@click.option("--transfer-mechanism", help="... the basis of a transfer abroad (scc, ...).")
@click.option("--safeguard", multiple=True, help="... safeguards in place (client_consent...).")
@click.option("--supervisor", metavar="STAFF", help="... a roster member supervising.")
def staff_cmd(paths: tuple[str, ...], service: str | None, fmt: str, limit: int,
              everyone: bool, select: tuple[str, ...], ignore: tuple[str, ...],
              config_file: str | None, jobs: int, **described: Any) -> None:
    """Who could staff each service of PATHS: every roster and inline staff member, judged
    by the rules `check` runs as if they were its only assignee (candidates), those who
    nearly could with what would stop them (near misses), and what the service draws
    whoever is assigned (conditions).

    Instead of a service in a file, --task, --client-country, --period and
    --delivery-centre (and the options after them) describe one, to staff from the
    rosters in PATHS.
    """
    try:
        spec = _spec(described) if _describing() else None
        config = _config(paths, config_file, select, ignore)
        plugins = run_plugins(config, flags={"select": bool(select), "ignore": bool(ignore)})
        answer = _staff(paths, service=service, describe=spec, config=config,
                        plugins=plugins, jobs=jobs, limit=None if everyone else limit)
    except KpoError as exc:
        click.echo(f"kpo-rules: error: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    from kpo_rules.staffing.render import problems, render_json, render_text  # noqa: PLC0415

    for line in problems(answer):
        click.echo(f"kpo-rules: warning: {line}", err=True)
    click.echo(render_json(answer) if fmt == "json" else render_text(answer), nl=False)
    if answer.plugin_failures:  # an answer without some rules is never a pass
        if fmt == "json":  # the text says it at its top
            for failure in answer.plugin_failures:
                click.echo(f"kpo-rules: {failure.line_of_text()}", err=True)
        sys.exit(ExitCode.USAGE)
    sys.exit(ExitCode.FINDINGS if answer.unstaffable() else ExitCode.OK)


def _describing() -> bool:
    """Whether the command line describes a service (any of its options is given)."""
    context = click.get_current_context()
    return any(context.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
               for name in DESCRIBING)


def _staff(paths: tuple[str, ...], **options: Any) -> Any:
    """:func:`kpo_rules.staff`, with a progress line for a person at a terminal."""
    from kpo_rules.staffing import staff  # noqa: PLC0415

    progress = (Progress(sys.stderr, label="judged {done}/{total} staff assignments")
                if wanted(sys.stderr) else None)
    try:
        return staff(paths, progress=progress, **options)
    finally:
        if progress is not None:
            progress.clear()


def _config(paths: tuple[str, ...], config_file: str | None, select: tuple[str, ...],
            ignore: tuple[str, ...]) -> Config:
    from kpo_rules.config import find_config  # noqa: PLC0415

    config = find_config(list(paths), config_file)
    return dataclasses.replace(
        config,
        select=tuple(s.upper() for s in _listed(select)) or config.select,
        ignore=tuple(s.upper() for s in _listed(ignore)) or config.ignore)
