"""``kpo-rules explain FILE [--engagement ID] [--rule ID]``: the facts the rule engine saw
for each engagement of FILE and, per rule, whether it fired and what stopped it
(:mod:`kpo_rules.engine.explain`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kpo_rules.errors import ExitCode

if TYPE_CHECKING:
    from kpo_rules.engine.explain import Explanation, RuleTrace
    from kpo_rules.model import Finding

_WIDTH = 60  # characters of one value shown in text


@click.command("explain")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--engagement", "engagement_id", metavar="ID",
              help="Only the engagement with this metadata.id.")
@click.option("--rule", "rule_ids", metavar="ID", multiple=True,
              help="Only this rule (repeatable), with every step of its patterns; the facts "
                   "shown are those of the types it reads.")
@click.option("--roster", "rosters", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A roster file whose staff the engagements name (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def explain_cmd(file: Path, engagement_id: str | None, rule_ids: tuple[str, ...],
                rosters: tuple[Path, ...], fmt: str) -> None:
    """Show what the rule engine saw for each engagement of FILE and why each rule fired
    or not: the facts (from the file and the catalogues), the facts derivations asserted,
    and per rule its findings, or the first pattern or condition nothing matched, or the
    `unless` pattern that blocked every match. Findings are shown before waivers and
    selection. The debugging step of `kpo-rules docs plugins`."""
    import difflib  # noqa: PLC0415

    from kpo_rules import pipeline  # noqa: PLC0415
    from kpo_rules.engine.explain import explain  # noqa: PLC0415
    from kpo_rules.load.files import SourceFile  # noqa: PLC0415
    from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415
    from kpo_rules.references import resolve_engagement, unknown_ids  # noqa: PLC0415

    plugins = create_plugin_set()
    rules = pipeline.load_rules(plugins)
    failures = (*plugins.failures, *rules.content.failures)
    for failure in failures:
        click.echo(f"error: {failure.line_of_text()}", err=True)
    known = {r.id: r for r in rules.content.rules.rules}
    for rule_id in rule_ids:
        if rule_id not in known:
            close = difflib.get_close_matches(rule_id.upper(), known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise click.UsageError(f"no plugin rule '{rule_id}'{hint} (`kpo-rules rules list`)")
    files = [SourceFile(name=str(p), path=p) for p in (file, *rosters)]
    staff = pipeline.read_rosters(files, rules).staff
    result = pipeline.read(files[0])
    documents = [d for d in result.documents if d.data["kind"] == "Engagement"]
    ids = [d.data["metadata"]["id"] for d in documents]
    if engagement_id is not None:
        if engagement_id not in ids:
            raise click.UsageError(f"{file} has no engagement '{engagement_id}' (it has: "
                                   f"{', '.join(ids) or 'none'})")
        documents = [d for d in documents if d.data["metadata"]["id"] == engagement_id]
    explained = []
    problems: list[Finding] = list(result.findings)
    catalogue = rules.content.catalogue
    for doc in documents:
        engagement, findings = resolve_engagement(doc, staff)
        problems += findings + unknown_ids([engagement], [], catalogue)
        explained.append(explain(engagement, catalogue, rules.content.rules, rules.evaluator,
                                 rule_ids or None))
    if fmt == "json":
        click.echo(json.dumps({"engagements": [_as_dict(e) for e in explained],
                               "findings": [f.as_dict() for f in problems],
                               "plugin_errors": [f.as_dict() for f in failures]},
                              indent=2, ensure_ascii=False))
    else:
        for finding in problems:
            click.echo(f"{finding.file}:{finding.line}:{finding.column}: {finding.rule} "
                       f"{finding.message}")
        if problems:
            click.echo("")
        for explanation in explained:
            click.echo(_text(explanation, bool(rule_ids)))
        if not explained:
            click.echo(f"{file}: no engagement to explain")
    failed = failures or not explained
    sys.exit(ExitCode.USAGE if failed else ExitCode.OK)


def _read_types(explanation: Explanation) -> set[str]:
    return {p.fact for t in explanation.rules for p in (*t.rule.when, *t.rule.unless)}


def _facts(explanation: Explanation, only_read: bool
           ) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    read = _read_types(explanation) if only_read else None
    facts = [f for f in explanation.facts if read is None or f["t"] in read]
    derived = [f for f in explanation.derived if read is None or f["t"] in read]
    return facts, derived


def _text(explanation: Explanation, only_rules: bool) -> str:
    from kpo_rules.engine.explain import fact_id, shown_fields  # noqa: PLC0415

    engagement = explanation.engagement
    line, _ = engagement.document.locate("/metadata/id")
    out = [f"engagement {engagement.id} ({engagement.file}:{line})", ""]
    facts, derived = _facts(explanation, only_rules)
    which = " of the types the rules read" if only_rules else ""
    out.append(f"facts{which} ({len(facts)}, from the file and the catalogues):")
    for fact in facts:
        out.append(f"  {fact['t']} {fact_id(fact)}  {fact['pointer']}")
        out.append(f"      {_fields(shown_fields(fact))}")
    out += ["", f"derived facts{which} ({len(derived)}, asserted by derivations):"]
    for fact in derived:
        by = ", ".join(explanation.derived_by.get(fact["t"], ()))
        out.append(f"  {fact['t']}  {fact.get('pointer', '')}  (derived by {by})")
        out.append(f"      {_fields(shown_fields(fact))}")
    fired = sum(1 for t in explanation.rules if t.fired)
    out += ["", f"rules ({len(explanation.rules)}): {fired} fired, "
                f"{len(explanation.rules) - fired} did not"]
    for trace in explanation.rules:
        out += _rule_text(trace, detailed=only_rules)
    return "\n".join(out) + "\n"


def _rule_text(trace: RuleTrace, *, detailed: bool) -> list[str]:
    rule = trace.rule
    if trace.fired:
        count = len(trace.findings)
        out = [f"  fired      {rule.id:<14} {count} finding{'' if count == 1 else 's'}"]
        out += [f"      {f.file}:{f.line}:{f.column}: {f.message}" for f in trace.findings]
        return out
    out = [f"  not fired  {rule.id:<14} {trace.stopped_by}"]
    if detailed:
        out.append(f"      {rule.file}:{rule.line}; matches after each step of 'when':")
        out += [f"      {s.matches:>5}  {s.label} (line {s.line})" for s in trace.steps]
        for blocker in trace.unless:
            out.append(f"      unless {blocker.label} (line {blocker.line}) blocks "
                       f"{blocker.blocks} of {trace.matches}")
    return out


def _fields(fields: Mapping[str, Any]) -> str:
    def shown(value: Any) -> str:
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= _WIDTH else text[:_WIDTH - 3] + "..."

    return ", ".join(f"{k}: {shown(v)}" for k, v in fields.items()) or "(no fields)"


def _as_dict(explanation: Explanation) -> dict[str, Any]:
    from kpo_rules.engine.explain import fact_id, shown_fields  # noqa: PLC0415

    engagement = explanation.engagement

    def fact(item: Mapping[str, Any]) -> dict[str, Any]:
        out = {"type": item["t"], "pointer": item.get("pointer"),
               "fields": shown_fields(item)}
        return {"id": fact_id(item), **out} if "id" in item else out

    return {
        "id": engagement.id, "file": engagement.file,
        "facts": [fact(f) for f in explanation.facts],
        "derived": [fact(f) | {"derived_by": list(explanation.derived_by.get(f["t"], ()))}
                    for f in explanation.derived],
        "rules": [{
            "id": t.rule.id, "fired": t.fired, "findings": [f.as_dict() for f in t.findings],
            "stopped_by": t.stopped_by, "matches": t.matches,
            "steps": [{"label": s.label, "line": s.line, "matches": s.matches} for s in t.steps],
            "unless": [{"label": b.label, "line": b.line, "blocks": b.blocks} for b in t.unless],
        } for t in explanation.rules],
    }
