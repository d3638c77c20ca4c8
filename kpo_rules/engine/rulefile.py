"""Rule files (YAML, already schema-valid) -> engine-neutral :mod:`.rule_model` values.

The schema checks shapes (:mod:`.rule_shape` first, for the mistakes it reports badly);
this module checks meaning, with the file and line of the offending node: references only
to aliases bound earlier in the rule, known fact types and fields, templates that parse and
read bound facts only, catalogue ids (tasks, credentials, frameworks) that a loaded plugin
defines, rule ids with the plugin's own prefix. Durable would otherwise answer with a bare
numeric code, or silently never fire. Where a name is close to a known one, the error
says "did you mean".
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from kpo_rules.catalogue import Catalogue
from kpo_rules.engine.rule_model import (
    OPERATORS,
    Condition,
    Derivation,
    Example,
    Pattern,
    Ref,
    Rule,
)
from kpo_rules.engine.template import TemplateError, placeholders
from kpo_rules.errors import RuleDefinitionError
from kpo_rules.model import Document, Severity

_T = TypeVar("_T")

_REF = re.compile(r"^\$([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)$")
_PERIOD_ALIAS = "_period"
#: Fact fields that hold catalogue ids: (fact type, field) -> catalogue table. A literal
#: compared with one must be an id some loaded plugin defines.
CATALOGUE_FIELDS: dict[tuple[str, str], str] = {
    ("service", "task"): "tasks", ("task", "id"): "tasks", ("task_field", "task"): "tasks",
    ("reserved_task", "task"): "tasks", ("reservation", "task"): "tasks",
    ("reserved_task", "credentials"): "credentials", ("reservation", "credential"): "credentials",
    ("credential", "credential"): "credentials", ("credential_area", "credential"): "credentials",
    ("service", "framework"): "frameworks", ("familiar", "framework"): "frameworks",
}
_LABELS = {"tasks": "task", "credentials": "credential", "frameworks": "framework"}


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the known name closest to ``name``, or nothing."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Context:
    """Where we are in a rule file, to raise errors with a line number."""

    def __init__(
        self, doc: Document, plugin: str, vocabulary: Mapping[str, frozenset[str]],
        catalogue: Catalogue | None = None,
    ) -> None:
        self.doc, self.plugin, self.vocabulary = doc, plugin, vocabulary
        self.catalogue = catalogue
        self.rule: str | None = None
        self._namespaces: set[str] | None = None

    def fail(self, pointer: str, why: str, *, kind: str = "rule", fix: str = ""
             ) -> RuleDefinitionError:
        line, _ = self.doc.locate(pointer)
        return RuleDefinitionError(self.doc.file, line, self.rule, why, kind=kind, fix=fix)

    def check_id(self, table: str, value: Any, pointer: str) -> None:
        """Refuse a literal that should be an id of catalogue ``table`` but is none.

        An id of a country no loaded plugin profiles (``de.stb`` without the German
        plugin), or in a namespace no loaded plugin uses, belongs to a plugin that is not
        installed: the condition cannot match, and the plugin is not broken for it. A
        namespace close to a used one is a typo.
        """
        if self.catalogue is None or not isinstance(value, str):
            return
        known: Mapping[str, Any] = getattr(self.catalogue, table)
        if value not in known and not self._elsewhere(value):
            label = _LABELS[table]
            raise self.fail(
                pointer, f"{label} '{value}' is not defined by any loaded plugin"
                         f"{did_you_mean(value, known)}", kind="catalogue-id",
                fix=f"use a {label} id that `kpo-rules catalogue {table}` lists, or install "
                    "the plugin that defines it")


    def _elsewhere(self, value: str) -> bool:
        """Whether ``value`` is an id of a country without a loaded profile, or in a
        namespace (``finance.``) no loaded plugin uses nor one close to it."""
        from kpo_rules.scaffold.countries import country_codes  # noqa: PLC0415

        if self.catalogue is None or "." not in value:
            return False
        namespace = value.split(".", 1)[0]
        if namespace.upper() in country_codes():
            return namespace.upper() not in self.catalogue.countries
        if self._namespaces is None:
            catalogue = self.catalogue
            self._namespaces = {key.split(".", 1)[0] for table in (
                catalogue.tasks, catalogue.credentials, catalogue.frameworks) for key in table}
        return namespace not in self._namespaces and not difflib.get_close_matches(
            namespace, self._namespaces, n=1)


def _value(raw: Any, bound: Sequence[str], ctx: _Context, pointer: str) -> Any:
    if isinstance(raw, str) and raw.startswith("$"):
        if raw.startswith("$$"):
            return raw[1:]  # "$$5" is the literal string "$5"
        match = _REF.match(raw)
        if not match:
            raise ctx.fail(pointer, f"'{raw}' is not a reference of the form $alias.field")
        alias, name = match.groups()
        if alias not in bound:
            raise ctx.fail(
                pointer,
                f"'{raw}' refers to '{alias}', which is not bound by an earlier pattern "
                f"(bound so far: {', '.join(b for b in bound if b != _PERIOD_ALIAS) or 'none'})",
            )
        return Ref(alias, name)
    return raw


def _conditions(
    spec: Mapping[str, Any], bound: Sequence[str], ctx: _Context, pointer: str, fact: str
) -> tuple[Condition, ...]:
    out: list[Condition] = []
    fields = ctx.vocabulary.get(fact, frozenset()) | {"id", "pointer"}
    for name, raw in spec.items():
        here = f"{pointer}/{name}"
        if name not in fields:
            raise ctx.fail(
                here, f"fact '{fact}' has no field '{name}'{did_you_mean(name, fields)} "
                      f"(fields: {', '.join(sorted(fields))})",
                fix="use a field of the fact: `kpo-rules docs rule-files` lists them")
        table = CATALOGUE_FIELDS.get((fact, name))
        if isinstance(raw, Mapping):
            for op, operand in raw.items():
                if op not in OPERATORS:
                    raise ctx.fail(f"{here}/{op}", f"unknown operator '{op}'"
                                                   f"{did_you_mean(str(op), OPERATORS)}; valid "
                                                   f"operators: {', '.join(OPERATORS)}",
                                   kind="schema")
                if op in ("in", "not_in", "contains", "not_contains", "exists") and (
                    isinstance(operand, str) and operand.startswith("$")
                ):
                    # durable cannot compare list items with another fact (error 102).
                    raise ctx.fail(f"{here}/{op}", f"'{op}' takes literal values, not a reference")
                value = operand if op in ("in", "not_in") else _value(operand, bound, ctx, here)
                if table and op != "exists":
                    for item in value if isinstance(value, list) else [value]:
                        ctx.check_id(table, item, f"{here}/{op}")
                out.append(Condition(name=name, op=op, value=value))
        else:
            value = _value(raw, bound, ctx, here)
            if table:
                ctx.check_id(table, value, here)
            out.append(Condition(name=name, op="eq", value=value))
    return tuple(out)


def _patterns(
    items: Sequence[Mapping[str, Any]], bound: list[str], ctx: _Context, pointer: str,
    *, binds: bool,
) -> tuple[Pattern, ...]:
    out: list[Pattern] = []
    for i, item in enumerate(items):
        ((alias, spec),) = item.items()
        here = f"{pointer}/{i}/{alias}"
        if alias in bound:
            raise ctx.fail(here, f"alias '{alias}' is bound twice in this rule")
        fact = spec["fact"]
        if fact not in ctx.vocabulary:
            known = ", ".join(sorted(ctx.vocabulary))
            raise ctx.fail(f"{here}/fact", f"unknown fact type '{fact}'"
                                           f"{did_you_mean(fact, ctx.vocabulary)} (known: {known})",
                           fix="use a fact type `kpo-rules docs rule-files` lists, or one a "
                               "loaded plugin derives")
        fields = {k: v for k, v in spec.items() if k not in ("fact", "any")}
        any_of = tuple(
            _conditions(group, bound, ctx, f"{here}/any/{j}", fact)
            for j, group in enumerate(spec.get("any", ()))
        )
        out.append(
            Pattern(
                alias=alias,
                fact=fact,
                conditions=_conditions(fields, bound, ctx, here, fact),
                any_of=any_of,
                line=ctx.doc.locate(here)[0],
            )
        )
        if binds:
            bound.append(alias)
    return tuple(out)


def _check_unless(when: Sequence[Pattern], unless: Sequence[Pattern], ctx: _Context,
                  pointer: str) -> None:
    """Refuse an ``unless`` that can only mean the fact a ``when`` pattern already bound.

    durable-rules never lets one fact match two patterns of a rule, so such a negation
    could never block and the rule would fire anyway: a wrong verdict without an error.
    """
    types = {p.alias: p.fact for p in when}
    for i, pattern in enumerate(unless):
        for cond in pattern.conditions:
            value = cond.value
            if (cond.name == "id" and cond.op == "eq" and isinstance(value, Ref)
                    and value.name == "id" and types.get(value.alias) == pattern.fact):
                raise ctx.fail(
                    f"{pointer}/{i}/{pattern.alias}",
                    f"'unless' pattern '{pattern.alias}' re-tests the {pattern.fact} bound to "
                    f"'{value.alias}'; one fact never matches two patterns of a rule, so it "
                    f"could never block. Put the condition on '{value.alias}' instead (use "
                    "'not_contains', 'ne', 'exists: false' or 'any').")


def _period_pattern(effective: Mapping[str, str]) -> Pattern | None:
    """A rule in force from/until a date applies to engagements whose period overlaps it."""
    conditions = []
    if "from" in effective:
        start = dt.date.fromisoformat(effective["from"]).toordinal()
        conditions.append(Condition(name="period_end", op="gte", value=start))
    if "until" in effective:
        end = dt.date.fromisoformat(effective["until"]).toordinal()
        conditions.append(Condition(name="period_start", op="lte", value=end))
    if not conditions:
        return None
    return Pattern(alias=_PERIOD_ALIAS, fact="engagement", conditions=tuple(conditions))


def _with_period(when: tuple[Pattern, ...], period: Pattern | None) -> tuple[Pattern, ...]:
    """Add the effective-date conditions to the rule's ``engagement`` pattern.

    durable-rules never lets one fact match two patterns of a rule, so a separate hidden
    ``engagement`` pattern would make a rule that also matches the engagement never fire.
    """
    if period is None:
        return when
    for i, pattern in enumerate(when):
        if pattern.fact == "engagement":
            merged = replace(pattern, conditions=pattern.conditions + period.conditions)
            return (*when[:i], merged, *when[i + 1:])
    return (period, *when)


def _check_template(text: str, bound: Sequence[str], ctx: _Context, pointer: str,
                    facts: Mapping[str, str]) -> None:
    """A message must parse and read only fields of facts its ``when`` patterns bind."""
    fix = ("write placeholders as {alias.field} of a 'when' alias, and literal braces as "
           "'{{' and '}}' (`kpo-rules docs rule-files`, \"Messages\")")
    try:
        found = placeholders(text)
    except TemplateError as exc:
        raise ctx.fail(pointer, f"message: {exc.why}", kind="template", fix=fix) from None
    shown = [b for b in bound if b != _PERIOD_ALIAS]
    for alias, name in found:
        if alias not in bound:
            raise ctx.fail(pointer, f"message: '{{{alias}.{name}}}' names '{alias}', which the "
                                    f"rule does not bind{did_you_mean(alias, shown)} (only "
                                    f"'when' aliases can be shown: {', '.join(shown)})",
                           kind="template", fix=fix)
        fields = ctx.vocabulary[facts[alias]] | {"id", "pointer"}
        if name not in fields:
            raise ctx.fail(pointer, f"message: '{{{alias}.{name}}}': fact '{facts[alias]}' has "
                                    f"no field '{name}'{did_you_mean(name, fields)}",
                           kind="template", fix=fix)


def _examples(raw: Iterable[Mapping[str, Any]], rule_id: str, bases: Mapping[str, Any],
              ctx: _Context, pointer: str) -> tuple[Example, ...]:
    out = []
    for i, example in enumerate(raw):
        here = f"{pointer}/{i}"
        if "base" in example:
            if example["base"] not in bases:
                raise ctx.fail(f"{here}/base", f"unknown example base '{example['base']}' "
                                               f"(bases: {', '.join(sorted(bases)) or 'none'})")
            document = merge_patch(bases[example["base"]], example.get("patch", {}))
        else:
            document = example["document"]
        rules = tuple(example.get("rules", (rule_id,)))
        if not any(r.startswith("KPO-REF-") for r in rules):  # unless it tests unknown ids
            _check_example_ids(document, example, here, ctx)
        out.append(Example(
            expect=example["expect"], document=document, rules=rules,
            name=example.get("name", ""), line=ctx.doc.locate(here)[0],
        ))
    expects = {e.expect for e in out}
    if expects != {"pass", "fail"}:
        raise ctx.fail(pointer, "a rule needs at least one 'pass' and one 'fail' example",
                       kind="examples",
                       fix="give the rule at least one example with expect: pass and one "
                           "with expect: fail")
    return tuple(out)


def _check_example_ids(document: Any, example: Mapping[str, Any], pointer: str,
                       ctx: _Context) -> None:
    """The catalogue ids an example engagement uses (tasks, credentials, frameworks) exist.

    Points at the id where the example writes it: its ``document``, its ``patch``, or the
    base the patch leaves it in.
    """
    if ctx.catalogue is None or not isinstance(document, Mapping):
        return
    sources = [f"{pointer}/document"] if "document" in example else [
        f"{pointer}/patch", f"/bases/{example.get('base')}"]

    def where(path: str) -> str:
        return next((f"{s}{path}" for s in sources if f"{s}{path}" in ctx.doc.source.values),
                    sources[0])

    def items(key: str) -> list[tuple[int, Any]]:
        found = document.get(key)
        return list(enumerate(found)) if isinstance(found, list) else []

    for i, service in items("services"):
        if isinstance(service, Mapping):
            ctx.check_id("tasks", service.get("task"), where(f"/services/{i}/task"))
    for i, member in items("staff"):
        if not isinstance(member, Mapping):
            continue
        for j, held in enumerate(member.get("credentials") or ()):
            if isinstance(held, Mapping):
                ctx.check_id("credentials", held.get("id"),
                             where(f"/staff/{i}/credentials/{j}/id"))
        for j, framework in enumerate(member.get("familiar_with") or ()):
            ctx.check_id("frameworks", framework, where(f"/staff/{i}/familiar_with/{j}"))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: mappings merge, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def parse_rule_file(
    doc: Document, plugin: str, prefixes: Sequence[str], vocabulary: Mapping[str, frozenset[str]],
    catalogue: Catalogue | None = None, errors: list[RuleDefinitionError] | None = None,
) -> tuple[list[Rule], list[Derivation], dict[str, frozenset[str]]]:
    """Rules and derivations of one schema-valid rule file, plus the fact types it derives.

    With ``catalogue``, every catalogue id a condition or an example names must be in it.
    The first broken rule or derivation raises; with ``errors``, each one's error goes
    there instead and the others are still read, so that an author sees every cause at once
    (the fact types the file derives are known whatever its derivations say).
    """
    ctx = _Context(doc, plugin, dict(vocabulary), catalogue)
    data = doc.data
    derived: dict[str, frozenset[str]] = {}
    for item in data.get("derive", ()):
        fact = item["fact"]
        derived[fact["type"]] = derived.get(fact["type"], frozenset()) | set(fact["fields"])
    ctx.vocabulary = {**ctx.vocabulary, **{
        fact: ctx.vocabulary.get(fact, frozenset()) | fields for fact, fields in derived.items()}}
    derivations = [d for i, item in enumerate(data.get("derive", ()))
                   if (d := _each(errors, _derivation, item, i, ctx, prefixes)) is not None]
    rules = [r for i, item in enumerate(data.get("rules", ()))
             if (r := _each(errors, _rule, item, i, ctx, prefixes, data.get("bases", {})))
             is not None]
    return rules, derivations, derived


def _each(errors: list[RuleDefinitionError] | None, read: Callable[..., _T], *args: Any
          ) -> _T | None:
    """``read(*args)``, or None with its error in ``errors`` (raised without a list).

    A rule id without the plugin's prefix is raised all the same: every other rule of the
    plugin would say the same.
    """
    if errors is None:
        return read(*args)
    try:
        return read(*args)
    except RuleDefinitionError as exc:
        if exc.kind == "rule-id":
            raise
        errors.append(exc)
        return None


def _check_id(rule_id: str, ctx: _Context, pointer: str, prefixes: Sequence[str]) -> None:
    ctx.rule = rule_id
    if not any(rule_id.startswith(f"{p}-") for p in prefixes):
        owned = ", ".join(prefixes) or (
            "none it may use: declare rule_prefixes in PluginMeta, and check that no other "
            "plugin owns them (kpo-rules plugin check)")
        raise ctx.fail(pointer, f"rule id '{rule_id}' does not start with a prefix plugin "
                                f"'{ctx.plugin}' owns ({owned})", kind="rule-id",
                       fix="start every rule id with a prefix the plugin owns "
                           "(PluginMeta.rule_prefixes) and a '-', e.g. NL-LANG-001")


def _derivation(item: Mapping[str, Any], i: int, ctx: _Context,
                prefixes: Sequence[str]) -> Derivation:
    pointer = f"/derive/{i}"
    _check_id(item["id"], ctx, f"{pointer}/id", prefixes)
    bound: list[str] = []
    when = _patterns(item["when"], bound, ctx, f"{pointer}/when", binds=True)
    unless = _patterns(item.get("unless", ()), list(bound), ctx, f"{pointer}/unless", binds=False)
    _check_unless(when, unless, ctx, f"{pointer}/unless")
    fields = {
        name: _value(raw, bound, ctx, f"{pointer}/fact/fields/{name}")
        for name, raw in item["fact"]["fields"].items()
    }
    return Derivation(
        id=item["id"], plugin=ctx.plugin, file=ctx.doc.file, line=ctx.doc.locate(pointer)[0],
        description=item.get("description", ""), when=when, unless=unless,
        fact=item["fact"]["type"], fields=fields,
    )


def _rule(item: Mapping[str, Any], i: int, ctx: _Context, prefixes: Sequence[str],
          bases: Mapping[str, Any]) -> Rule:
    pointer = f"/rules/{i}"
    _check_id(item["id"], ctx, f"{pointer}/id", prefixes)
    effective = item.get("effective", {})
    bound: list[str] = []
    when = _with_period(_patterns(item["when"], bound, ctx, f"{pointer}/when", binds=True),
                        _period_pattern(effective))
    unless = _patterns(item.get("unless", ()), list(bound), ctx, f"{pointer}/unless",
                       binds=False)
    _check_unless(when, unless, ctx, f"{pointer}/unless")
    facts = {p.alias: p.fact for p in when}
    _check_template(item["message"], bound, ctx, f"{pointer}/message", facts)
    report = item.get("report", {})
    at = report.get("at", when[-1].alias)
    if at not in bound:
        raise ctx.fail(f"{pointer}/report/at", f"'at: {at}' names an alias the rule does not bind")
    subject = {
        key: _value(report[key], bound, ctx, f"{pointer}/report/{key}")
        for key in ("service", "staff") if key in report
    }
    cites = _cites(report.get("references", ()), bound, ctx, f"{pointer}/report/references",
                   facts)
    return Rule(
        id=item["id"], plugin=ctx.plugin, file=ctx.doc.file, line=ctx.doc.locate(pointer)[0],
        category=item["category"], severity=Severity(item["severity"]), basis=item["basis"],
        title=item["title"], checks=item["checks"], why=item["why"], message=item["message"],
        remediation=item["remediation"], references=tuple(item["references"]),
        when=when, unless=unless, at=at, subject=subject,
        effective_from=dt.date.fromisoformat(effective["from"]) if "from" in effective else None,
        effective_until=(dt.date.fromisoformat(effective["until"])
                         if "until" in effective else None),
        examples=_examples(item.get("examples", ()), item["id"], bases, ctx,
                           f"{pointer}/examples"),
        unverified=item.get("unverified", ""),
        cites=cites,
    )


def _cites(raw: Sequence[str], bound: Sequence[str], ctx: _Context, pointer: str,
           facts: Mapping[str, str]) -> tuple[str | Ref, ...]:
    """``report.references``: literal citations, and ``$alias.field`` of a bound fact whose
    field holds citations (a string or a list of them, e.g. ``$reserved.references``)."""
    out: list[str | Ref] = []
    for i, item in enumerate(raw):
        value = _value(item, bound, ctx, f"{pointer}/{i}")
        if isinstance(value, Ref) and value.name not in ctx.vocabulary[facts[value.alias]]:
            raise ctx.fail(f"{pointer}/{i}", f"'{item}': fact '{facts[value.alias]}' has no "
                                             f"field '{value.name}'")
        out.append(value)
    return tuple(out)
