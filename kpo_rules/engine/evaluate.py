"""Run the compiled rules over one engagement and turn firings into findings.

One :class:`Evaluator` per rule book and process: durable-rules cannot forget
a ruleset once registered (research note 3.6), so rulesets are compiled once
and reused for every engagement.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from kpo_rules.catalogue import Catalogue
from kpo_rules.core_rules import core_finding
from kpo_rules.engagement import Engagement
from kpo_rules.engine.durable import Copy, Derive, DurableRunner, SessionResult
from kpo_rules.engine.durable.plan import RulesetPlan, compile_plan
from kpo_rules.engine.durable_compile import (
    TYPE_FIELD,
    derivation_body,
    engine_field,
    field_name,
    from_engine,
    rule_body,
)
from kpo_rules.engine.facts import build_facts
from kpo_rules.engine.plan_cache import cached_plan
from kpo_rules.engine.rule_model import Derivation, Ref, Rule, RuleBook
from kpo_rules.engine.template import Filler, compile_template
from kpo_rules.model import Finding, Subject

ENGINE_ERROR = "KPO-ENG-001"
_EMPTY: Mapping[str, Any] = {}  # the bindings of an alias that has none (never changed)


def _lookup(value: Any, bindings: Mapping[str, Mapping[str, Any]]) -> Any:
    if isinstance(value, Ref):
        return bindings.get(value.alias, {}).get(field_name(value.name))
    return value


def _recipe(derivation: Derivation) -> Derive:
    """How the runner builds the derivation's fact from the engine-form facts it matched
    (type-prefixed fields: :func:`~.durable_compile.to_engine`): the fields as the rule
    file gives them, and the ``pointer`` of the first ``when`` fact, where findings about
    the derived fact point."""
    types = {p.alias: p.fact for p in derivation.when}
    first = derivation.when[0]
    copies: list[Copy] = []
    constants: dict[str, Any] = {}
    if "pointer" not in derivation.fields:
        copies.append(Copy(engine_field(derivation.fact, "pointer"), first.alias,
                           engine_field(first.fact, "pointer"), ""))
    for name, value in derivation.fields.items():
        target = engine_field(derivation.fact, name)
        if isinstance(value, Ref):
            copies.append(Copy(target, value.alias, engine_field(types[value.alias], value.name)))
        elif value is not None:
            constants[target] = value
    return Derive(derivation.fact, constants, tuple(copies))


def plan_parts(book: RuleBook) -> tuple[dict[str, Any], dict[str, Derive]]:
    """The durable rule bodies of every rule and derivation of ``book``, and the recipes
    of the derivations: what a rule set is compiled from (``kpo-rules explain`` adds its
    own rules to them)."""
    bodies: dict[str, Any] = {r.id: rule_body(r) for r in book.rules}
    bodies |= {d.id: derivation_body(d) for d in book.derivations}
    return bodies, {d.id: _recipe(d) for d in book.derivations}


def _plan(book: RuleBook, name: str) -> RulesetPlan:
    """The durable rule set of ``book``: every rule and derivation, with recipes."""
    bodies, recipes = plan_parts(book)
    return compile_plan(name, bodies, recipes=recipes)


def plan_of(book: RuleBook) -> RulesetPlan:
    """The compiled rule set of ``book`` (which has a digest), as :func:`evaluator_for`
    registers it: what the package build ships beside the content."""
    if not book.digest:
        raise ValueError("a rule book without a digest has no shipped plan")
    return _plan(book, _ruleset_name(book.digest))


def _ruleset_name(digest: str) -> str:
    return f"kpo_{digest[:24]}"


def _read_fields(book: RuleBook) -> dict[str, tuple[tuple[str, str], ...]]:
    """Per fact type: (fact field, engine field) of every field a pattern reads, or a
    derivation copies into its fact. Fact types no pattern reads are left out."""
    read: dict[str, set[str]] = {}
    items: list[Rule | Derivation] = [*book.rules, *book.derivations]
    for item in items:
        types = {p.alias: p.fact for p in item.when}
        for pattern in (*item.when, *item.unless):
            names = read.setdefault(pattern.fact, set())
            for cond in (*pattern.conditions, *(c for alt in pattern.any_of for c in alt)):
                names.add(cond.name)
                if isinstance(cond.value, Ref):
                    read.setdefault(types[cond.value.alias], set()).add(cond.value.name)
    for derivation in book.derivations:
        types = {p.alias: p.fact for p in derivation.when}
        read[derivation.when[0].fact].add("pointer")
        for value in derivation.fields.values():
            if isinstance(value, Ref):
                read[types[value.alias]].add(value.name)
    return {
        fact: tuple((field_name(n), engine_field(fact, n)) for n in sorted(names))
        for fact, names in read.items()
    }


class Evaluator:
    """Evaluates a :class:`RuleBook` engagement by engagement.

    Each derivation declares the fact type it derives, so the runner evaluates negation
    over derived facts in strata, in one session per engagement. The engine receives each
    fact with only the fields some pattern reads or a derivation copies (a fact type no
    pattern reads not at all); findings are written from the whole facts, found by id.
    """

    def __init__(self, book: RuleBook, name: str, *, digest: str | None = None) -> None:
        self.book = book
        self._rules = {r.id: r for r in book.rules}
        self._derivations = {d.id: d for d in book.derivations}
        self._runner: DurableRunner | None = None
        if book.rules or book.derivations:
            build = functools.partial(_plan, book, name)
            plan = build() if digest is None else cached_plan(digest, build)
            self._runner = DurableRunner(plan)
        self._read = _read_fields(book)
        #: Message templates compiled when their rule first fires (most never do in a run).
        self._fillers: dict[str, Filler] = {}

    def _filler(self, rule: str) -> Filler:
        found = self._fillers.get(rule)
        if found is None:
            found = self._fillers[rule] = compile_template(self._rules[rule].message)
        return found

    def engine_facts(
        self, engagement: Engagement, catalogue: Catalogue
    ) -> tuple[list[dict[str, Any]], dict[Any, Mapping[str, Any]]]:
        """The facts the engine receives for ``engagement`` (only the fields some pattern
        reads, engine names), and the whole facts by id, which findings are written from."""
        whole: dict[Any, Mapping[str, Any]] = {}
        given: list[dict[str, Any]] = []
        read = self._read
        for fact in build_facts(engagement, catalogue):
            fields = read.get(fact[TYPE_FIELD])
            if fields is None:
                continue  # no pattern matches this type of fact
            whole[fact["id"]] = fact
            engine = {dst: fact[src] for src, dst in fields if src in fact}
            engine[TYPE_FIELD] = fact[TYPE_FIELD]
            engine["id"] = fact["id"]
            given.append(engine)
        return given, whole

    def run_engine(self, facts: list[dict[str, Any]]) -> SessionResult | None:
        """The durable-rules session of one engagement's engine facts (None: no rules).
        Raises ValueError or RuntimeError when durable refuses the session as a whole."""
        return None if self._runner is None else self._runner.run(facts)

    def evaluate(self, engagement: Engagement, catalogue: Catalogue) -> list[Finding]:
        """Findings of every rule for one engagement; engine failures become findings."""
        if self._runner is None:
            return []
        given, whole = self.engine_facts(engagement, catalogue)
        try:
            result = self._runner.run(given)
        except (ValueError, RuntimeError) as exc:
            # The engine refused the session as a whole (a durable-rules limit): the
            # engagement is unjudged, which must show as an error, never as a pass.
            line, column = engagement.document.locate("/metadata/id")
            return [core_finding(
                ENGINE_ERROR, message=f"the rule engine could not check this engagement: {exc}",
                file=engagement.file, line=line, column=column, engagement=engagement.id,
                path="/metadata/id",
                remediation="Report this to the kpo-rules maintainers with the file.",
            )]
        findings = [
            self._finding(self._rules[f.rule], self._filler(f.rule),
                          {alias: whole.get(fact.get("id")) or from_engine(fact)
                           for alias, fact in f.bindings.items()},
                          engagement)
            for f in result.firings
            if f.rule in self._rules
        ]
        for failure in result.failures:
            owner = self._rules.get(failure.rule) or self._derivations.get(failure.rule)
            plugin = owner.plugin if owner else "?"
            line, column = engagement.document.locate("/metadata/id")
            findings.append(core_finding(
                ENGINE_ERROR,
                message=f"rule {failure.rule} of plugin '{plugin}' failed while checking this "
                        f"engagement: {failure.error}",
                file=engagement.file, line=line, column=column, engagement=engagement.id,
                path="/metadata/id", plugin=plugin,
            ))
        return findings

    @staticmethod
    def _finding(rule: Rule, filler: Filler, bindings: Mapping[str, Mapping[str, Any]],
                 engagement: Engagement) -> Finding:
        pointer = str(bindings.get(rule.at, {}).get("pointer", ""))
        line, column = engagement.document.locate(pointer)
        service = _lookup(rule.subject.get("service"), bindings)
        staff = _lookup(rule.subject.get("staff"), bindings)
        return Finding(
            rule=rule.id, severity=rule.severity, category=rule.category,
            message=filler(bindings), file=engagement.file, line=line,
            column=column, engagement=engagement.id,
            subject=Subject(service=service if isinstance(service, str) else None,
                            staff=staff if isinstance(staff, str) else None),
            path=pointer, remediation=rule.remediation,
            references=_cited(rule, bindings) or rule.references, plugin=rule.plugin,
        )


def _cited(rule: Rule, bindings: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """What this finding cites when the rule says so (``report.references``): its literal
    citations and those of the facts that produced it, each once, in order."""
    out: dict[str, None] = {}
    for item in rule.cites:
        value = _lookup(item, bindings)
        for text in ([value] if isinstance(value, str) else value or ()):
            if isinstance(text, str) and text.strip():
                out[text] = None
    return tuple(out)


_EVALUATORS: dict[str, Evaluator] = {}


def book_digest(book: RuleBook) -> str:
    """A key that changes whenever any rule or derivation of ``book`` does."""
    import hashlib  # noqa: PLC0415 - only on a content-cache miss: not on a cold start

    return hashlib.sha256(repr((book.rules, book.derivations)).encode()).hexdigest()


def evaluator_for(book: RuleBook) -> Evaluator:
    """The process-wide evaluator of ``book``: durable rulesets are registered once per process.

    Keyed by the book's full text, so the same rules loaded twice (as tests do) share one
    registered ruleset, and a changed rule gets its own.
    """
    key = book.digest or book_digest(book)
    found = _EVALUATORS.get(key)
    if found is None:
        found = _EVALUATORS[key] = Evaluator(book, _ruleset_name(key), digest=key)
    return found
