"""``kpo-rules catalogue [tasks|credentials|frameworks|countries]``: the ids rules and
engagements may use, with their names and the plugin that defines each.

For tasks also what an assignee needs: the framework kind (in the client's country), the
degree, the working-language level, and the credentials each country reserves the task to
(from the country profiles' ``reserved`` entries).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

import click

from kpo_rules.catalogue import Catalogue
from kpo_rules.errors import ExitCode

SECTIONS = ("tasks", "credentials", "frameworks", "countries")


def _tasks(catalogue: Catalogue) -> list[dict[str, Any]]:
    reserved: dict[str, dict[str, dict[str, Any]]] = {}
    for code, profile in sorted(catalogue.countries.items()):
        for entry in profile.get("reserved") or ():
            held = {"credentials": list(entry["credentials"])}
            if entry.get("except_relationship"):
                held["except_relationship"] = entry["except_relationship"]
            reserved.setdefault(entry["task"], {})[code] = held
    out = []
    for task_id, task in sorted(catalogue.tasks.items()):
        education = task.get("education")
        out.append({
            "id": task_id, "name": task["title"], "plugin": catalogue.owners[f"tasks:{task_id}"],
            "framework": task.get("framework"),
            "degree": ({"level": education["level"], "fields": list(education.get("fields", ()))}
                       if education else None),
            "language_level": task.get("language_level"),
            "supervision": task.get("supervision"),
            "mechanical": bool(task.get("mechanical", False)),
            "credentials": reserved.get(task_id, {}),
        })
    return out


def _credentials(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [{"id": cid, "name": c["name"], "plugin": catalogue.owners[f"credentials:{cid}"],
             "country": c["country"], "domain": c["domain"],
             "professional": c.get("professional", True),
             "subdivisions": list(c.get("subdivisions", ()))}
            for cid, c in sorted(catalogue.credentials.items())]


def _frameworks(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [{"id": fid, "name": f["name"], "plugin": catalogue.owners[f"frameworks:{fid}"],
             "country": fid.split(".", 1)[0].upper(), "kind": fid.split(".", 1)[1]}
            for fid, f in sorted(catalogue.frameworks.items())]


def _countries(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [{"id": code, "name": p["name"], "plugin": catalogue.owners[f"countries:{code}"],
             "profile": p["profile"], "languages": list(p["languages"]),
             "timezone": p["timezone"], "frameworks": list(p.get("frameworks", ())),
             "reserved_tasks": [r["task"] for r in p.get("reserved") or ()]}
            for code, p in sorted(catalogue.countries.items())]


LISTINGS = {"tasks": _tasks, "credentials": _credentials, "frameworks": _frameworks,
            "countries": _countries}


def listing(catalogue: Catalogue, sections: tuple[str, ...] = SECTIONS
            ) -> dict[str, list[dict[str, Any]]]:
    """The entries of each section of ``catalogue``, sorted by id (``--format json``)."""
    return {section: LISTINGS[section](catalogue) for section in sections}


def _details(section: str, entry: Mapping[str, Any]) -> list[str]:
    if section == "tasks":
        degree = entry["degree"]
        shown = degree["level"] if degree else "none"
        if degree and degree["fields"]:
            fields = degree["fields"]
            more = f", +{len(fields) - 3} more" if len(fields) > 3 else ""
            shown += f" ({', '.join(fields[:3])}{more})"
        lines = [f"framework: {entry['framework'] or 'none'}; degree: {shown}; "
                 f"language: {entry['language_level']}"]
        for code, held in entry["credentials"].items():
            unless = (f" (not for {held['except_relationship']} providers)"
                      if "except_relationship" in held else "")
            lines.append(f"{code} reserves it to: {', '.join(held['credentials'])}{unless}")
        return lines
    if section == "credentials":
        where = f" ({', '.join(entry['subdivisions'])})" if entry["subdivisions"] else ""
        return [f"{entry['country']}{where}, {entry['domain']}"]
    if section == "frameworks":
        return [f"{entry['kind']} framework of {entry['country']}"]
    frameworks = ", ".join(entry["frameworks"]) or "none"
    return [f"{entry['profile']} profile; languages: {', '.join(entry['languages'])}; "
            f"frameworks: {frameworks}"]


def render_text(listed: Mapping[str, list[dict[str, Any]]]) -> str:
    out: list[str] = []
    for section, entries in listed.items():
        out.append(f"{section} ({len(entries)})")
        width = max((len(e["id"]) for e in entries), default=0)
        for entry in entries:
            out.append(f"  {entry['id']:<{width}}  {entry['name']}  [{entry['plugin']}]")
            out += [f"  {'':<{width}}    {line}" for line in _details(section, entry)]
        out.append("")
    return "\n".join(out)


@click.command("catalogue")
@click.argument("section", required=False, type=click.Choice(SECTIONS))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def catalogue_cmd(section: str | None, fmt: str) -> None:
    """List the catalogue ids the loaded plugins define: tasks, credentials, frameworks and
    countries (all four without SECTION), with their names and plugin. For tasks: the
    framework kind assignees need in the client's country, the degree, the language level,
    and the credentials each country reserves the task to."""
    from kpo_rules.content import load_content  # noqa: PLC0415
    from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415

    plugins = create_plugin_set()
    content = load_content(plugins)
    failures = (*plugins.failures, *content.failures)
    listed = listing(content.catalogue, (section,) if section else SECTIONS)
    if fmt == "json":
        click.echo(json.dumps({**listed, "errors": [f.as_dict() for f in failures]}, indent=2,
                              ensure_ascii=False))
    else:
        click.echo(render_text(listed), nl=False)
        for failure in failures:
            click.echo(f"error: plugin {failure.name}: {failure.error}", err=True)
    sys.exit(ExitCode.USAGE if failures else ExitCode.OK)
