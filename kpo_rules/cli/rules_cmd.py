"""``kpo-rules rules list|show ID``: the rule catalogue, like ``ruff rule``."""

from __future__ import annotations

import json
import sys

import click

from kpo_rules.core_rules import CoreRule
from kpo_rules.engine.model import Rule
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


def render_rule(rule: Rule) -> str:
    """A rule's documentation: what it checks, why, the fix, sources, examples."""
    import yaml  # noqa: PLC0415

    effective = ""
    if rule.effective_from or rule.effective_until:
        start = rule.effective_from.isoformat() if rule.effective_from else "always"
        end = rule.effective_until.isoformat() if rule.effective_until else "open"
        effective = f"\nIn force: {start} to {end} (judged at the engagement period)"
    out = [
        f"{rule.id}: {rule.title}",
        "",
        f"Plugin: {rule.plugin}   Category: {rule.category}   Severity: {rule.severity.value}"
        f"   Rests on: {rule.basis}{effective}",
        f"Defined in: {rule.file}:{rule.line}",
        "",
        "## What it checks", rule.checks, "",
        "## Why", rule.why, "",
    ]
    if rule.unverified:
        out += ["## Not verified", rule.unverified, ""]
    out += ["## Fix", rule.remediation, "", "## References"]
    out += [f"- {ref}" for ref in rule.references]
    for example in rule.examples:
        title = f" - {example.name}" if example.name else ""
        out += ["", f"## Example ({example.expect}){title}", ""]
        out += ["  " + line for line in yaml.safe_dump(
            dict(example.document), sort_keys=False, allow_unicode=True).splitlines()]
    return "\n".join(out) + "\n"


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
@click.argument("rule_id")
def show_cmd(rule_id: str) -> None:
    """Print the documentation of rule RULE_ID."""
    import difflib  # noqa: PLC0415

    from kpo_rules.core_rules import CORE_RULES  # noqa: PLC0415

    rules, _ = _rules()
    found = {r.id: r for r in rules}
    core = {r.id: r for r in CORE_RULES}
    wanted = rule_id.upper()
    if wanted in core:
        click.echo(render_core_rule(core[wanted]), nl=False)
        return
    rule = found.get(rule_id) or found.get(wanted)
    if rule is None:
        close = difflib.get_close_matches(wanted, [*found, *core], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `kpo-rules rules list`"
        raise click.UsageError(f"unknown rule '{rule_id}'{hint}")
    click.echo(render_rule(rule), nl=False)


def render_core_rule(rule: CoreRule) -> str:
    """Documentation of a rule the core itself reports (no rule file, no examples)."""
    out = [f"{rule.id}: {rule.title}", "",
           f"Reported by the kpo-rules core   Category: {rule.category}   "
           f"Severity: {rule.severity.value}", "",
           "## What it checks", rule.checks, "", "## Why", rule.why, "",
           "## Fix", rule.remediation, "", "## References"]
    out += [f"- {ref}" for ref in rule.references] or ["- SPEC"]
    return "\n".join(out) + "\n"
