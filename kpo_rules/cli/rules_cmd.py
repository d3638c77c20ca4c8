"""``kpo-rules rules list|show ID...``: the rule catalogue, like ``ruff rule``."""

from __future__ import annotations

import json
import sys

import click

from kpo_rules.engine.rule_model import Rule
from kpo_rules.errors import ExitCode


def _rules() -> tuple[list[Rule], list[str]]:
    from kpo_rules.content import load_content  # noqa: PLC0415
    from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415

    plugins = create_plugin_set()
    content = load_content(plugins)
    errors = [f"{f.name}: {f.error}" for f in (*plugins.failures, *content.failures)]
    return list(content.rules.rules), errors


def rule_summary(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id, "title": rule.title, "plugin": rule.plugin, "category": rule.category,
        "severity": rule.severity.value, "basis": rule.basis,
        "effective": {"from": rule.effective_from.isoformat() if rule.effective_from else None,
                      "until": rule.effective_until.isoformat() if rule.effective_until else None},
        "references": list(rule.references), "file": rule.file, "line": rule.line,
        "examples": len(rule.examples),
    }


@click.group("rules")
def rules_cmd() -> None:
    """The rules of the loaded plugins."""


@rules_cmd.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def list_cmd(fmt: str) -> None:
    """One line per rule: id, severity, category, basis, plugin, title."""
    rules, errors = _rules()
    if fmt == "json":
        click.echo(json.dumps({"rules": [rule_summary(r) for r in rules], "errors": errors},
                              indent=2, ensure_ascii=False))
    else:
        for r in rules:
            click.echo(f"{r.id:<16} {r.severity.value:<8} {r.category:<16} {r.basis:<9} "
                       f"{r.plugin:<12} {r.title}")
        for error in errors:
            click.echo(f"error: {error}", err=True)
    sys.exit(ExitCode.USAGE if errors else ExitCode.OK)


@rules_cmd.command("show")
@click.argument("rule_ids", metavar="ID...", nargs=-1, required=True)
def show_cmd(rule_ids: tuple[str, ...]) -> None:
    """Print the documentation of each rule ID: what it checks, why, how to fix it, its
    sources and examples (the page docs/rules/ID.md holds the same text). Several pages are
    printed in the order given, a blank line between two; if any ID is unknown, none is."""
    import difflib  # noqa: PLC0415

    from kpo_rules.core_rules import CORE_RULES  # noqa: PLC0415
    from kpo_rules.rule_docs import core_rule_page, plugin_rule_page  # noqa: PLC0415

    core = {r.id: r for r in CORE_RULES}
    found: dict[str, Rule] = {}
    if any(rule_id.upper() not in core for rule_id in rule_ids):
        found = {r.id: r for r in _rules()[0]}
    pages: list[str] = []
    unknown: list[str] = []
    for rule_id in rule_ids:
        wanted = rule_id.upper()
        rule = found.get(rule_id) or found.get(wanted)
        if wanted in core:
            pages.append(core_rule_page(core[wanted]))
        elif rule is not None:
            pages.append(plugin_rule_page(rule))
        else:
            close = difflib.get_close_matches(wanted, [*found, *core], n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else \
                "; see `kpo-rules rules list`"
            unknown.append(f"unknown rule '{rule_id}'{hint}")
    if unknown:
        raise click.UsageError("\n".join(unknown))
    click.echo("\n".join(pages), nl=False)
