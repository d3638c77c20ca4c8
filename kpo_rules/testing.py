"""The pytest kit for kpo-rules plugin authors.

Opt in from the project's root ``conftest.py`` (or a test module)::

    pytest_plugins = ["kpo_rules.testing"]

It is deliberately not an auto-loaded ``pytest11`` plugin: projects that merely install
kpo-rules never load it. Fixtures, each fresh per test:

``kpo_plugins``
    A :class:`~kpo_rules.plugins.PluginSet`: the installed plugins plus any registered for
    this test. ``@pytest.mark.kpo_plugins(installed=False, disable=["legal"])`` changes what
    it starts from.
``kpo_register(plugin, name=None)``
    Registers a plugin module, object or source directory (:class:`~pathlib.Path`) for this
    test, replacing an installed plugin of the same name (so a test sees the plugin's source,
    not a stale installed copy). Fails the test at once if the plugin does not register.
``kpo_check(source)``
    Checks an engagement in process, as ``kpo-rules check`` would: ``source`` is YAML text
    (dedented), a mapping, or a path. Returns a :class:`CheckResult` with ``.findings``,
    ``.rules``, ``.assert_findings(...)`` and ``.assert_clean(...)``; a plugin that failed
    to load fails the test, listing why.
``kpo_cli(*args)``
    Runs ``kpo-rules ARGS`` through click's ``CliRunner``, with this test's plugins; returns
    click's ``Result`` (``exit_code``, ``output``, ``stdout``, ``stderr``).

Every rule example of a plugin as a test of its own, with ids like ``NL-LANG-001-fail-0``::

    @pytest.mark.parametrize("example", rule_example_params(plugin, name="country_nl"))
    def test_rule_example(example):
        example.check()

or, ``pytest_generate_tests`` style, any test taking ``kpo_rule_example`` under
``@pytest.mark.kpo_rule_examples(plugin, name=...)``.

(PYTEST_DONT_REWRITE: the kit's failures carry their own messages, so authors may import
this module before pytest registers it without a rewrite warning.)
"""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pluggy
import pytest
from click.testing import CliRunner, Result

from kpo_rules.config import Config
from kpo_rules.engine.rule_model import Example, Rule
from kpo_rules.model import Finding, PluginFailure, Report, Severity
from kpo_rules.plugins import PluginSet, create_plugin_set
from kpo_rules.rule_tests import ExampleOutcome

__all__ = [
    "CheckResult",
    "Registrar",
    "RuleExample",
    "format_findings",
    "kpo_check",
    "kpo_cli",
    "kpo_plugins",
    "kpo_register",
    "rule_example_params",
]

Subject = str | tuple[str | None, str | None] | Mapping[str, str]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kpo_plugins(installed=True, disable=()): what the kpo_plugins fixture "
        "starts from: the installed plugins or none, less the named ones")
    config.addinivalue_line(
        "markers", "kpo_rule_examples(plugin, name=None): parametrize the kpo_rule_example "
        "argument with every rule example of plugin")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kpo_rule_example" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("kpo_rule_examples")
    if marker is None:
        raise ValueError(f"{metafunc.function.__name__} takes kpo_rule_example: mark it "
                         "@pytest.mark.kpo_rule_examples(plugin, name=...)")
    metafunc.parametrize("kpo_rule_example", rule_example_params(*marker.args, **marker.kwargs))


# ------------------------------------------------------------------------ reading findings


def format_findings(findings: Iterable[Finding]) -> str:
    """One line per finding: ``file:line:column RULE severity [subject] message``."""
    lines = []
    for f in findings:
        subject = ", ".join(f"{k}={v}" for k, v in f.subject.as_dict().items())
        lines.append(f"  {f.file}:{f.line}:{f.column}  {f.rule}  {f.severity.value}"
                     f"{f'  [{subject}]' if subject else ''}  {f.message}")
    return "\n".join(lines) or "  (none)"


def _as_list(value: Any, scalars: tuple[type, ...] = (str,)) -> list[Any]:
    return [value] if isinstance(value, scalars) else list(value)


def _matches(finding: Finding, subject: Subject) -> bool:
    service, staff = finding.subject.service, finding.subject.staff
    if isinstance(subject, str):
        return subject in (service, staff)
    if isinstance(subject, tuple):
        return (service, staff) == subject
    return all({"service": service, "staff": staff}.get(k) == v for k, v in subject.items())


def _covers(rule: str, selectors: Iterable[str]) -> bool:
    return any(rule == s or rule.startswith(f"{s}-") for s in selectors)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What :func:`kpo_check` found; the assertions print every finding when they fail."""

    report: Report

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(self.report.findings)

    @property
    def rules(self) -> frozenset[str]:
        """The rule ids reported."""
        return frozenset(f.rule for f in self.findings)

    @property
    def plugin_failures(self) -> tuple[PluginFailure, ...]:
        return self.report.plugin_failures

    def assert_findings(self, rules: Iterable[str] | str | None = None, *,
                        subjects: Iterable[Subject] | Subject | None = None,
                        lines: Iterable[int] | int | None = None,
                        exact: bool = False) -> list[Finding]:
        """Assert what was reported and return the findings of ``rules``.

        Every rule of ``rules`` is reported. Of those rules' findings (all findings when
        ``rules`` is None): the subjects are exactly ``subjects`` (a staff or service id, a
        ``(service, staff)`` pair, or a mapping) and the lines exactly ``lines``. ``exact``:
        nothing else is reported either.
        """
        __tracebackhide__ = True
        wanted = set(_as_list(rules)) if rules is not None else None
        chosen = [f for f in self.findings if wanted is None or f.rule in wanted]
        problems = []
        missing = sorted((wanted or set()) - {f.rule for f in chosen})
        if missing:
            problems.append(f"expected {', '.join(missing)} to be reported")
        if exact:
            others = sorted({f.rule for f in self.findings if f not in chosen})
            if others:
                problems.append(f"expected nothing else; also reported {', '.join(others)}")
        if subjects is not None:
            want = _as_list(subjects, (str, tuple, Mapping))
            absent = [s for s in want if not any(_matches(f, s) for f in chosen)]
            extra = [f for f in chosen if not any(_matches(f, s) for s in want)]
            if absent:
                problems.append(f"expected findings about {', '.join(map(repr, absent))}")
            if extra:
                problems.append("findings about other subjects: " + ", ".join(
                    repr(f.subject.as_dict()) for f in extra))
        if lines is not None:
            want_lines, got = set(_as_list(lines, (int,))), {f.line for f in chosen}
            if want_lines != got:
                problems.append(f"expected findings at lines {sorted(want_lines)}; "
                                f"found lines {sorted(got)}")
        if problems:
            raise AssertionError("\n".join(problems) + f"\nfindings ({len(self.findings)}):\n"
                                 + format_findings(self.findings))
        return chosen

    def assert_clean(self, rules: Iterable[str] | str | None = None, *,
                     severity: Severity | str | None = None) -> None:
        """Assert that nothing was reported: of ``rules`` (ids or prefixes such as ``NL``)
        when given, at ``severity`` or above when given."""
        __tracebackhide__ = True
        selectors = _as_list(rules) if rules is not None else None
        floor = Severity(severity).rank if severity is not None else 0
        found = [f for f in self.findings if f.severity.rank >= floor
                 and (selectors is None or _covers(f.rule, selectors))]
        if found:
            scope = f" of {', '.join(selectors)}" if selectors else ""
            level = f" at {Severity(severity).value} or above" if severity is not None else ""
            raise AssertionError(f"expected no findings{scope}{level}; got {len(found)}:\n"
                                 + format_findings(found))


# ------------------------------------------------------------------------ registering


def _options(request: pytest.FixtureRequest) -> tuple[bool, tuple[str, ...]]:
    marker = request.node.get_closest_marker("kpo_plugins")
    kwargs = marker.kwargs if marker else {}
    return bool(kwargs.get("installed", True)), tuple(kwargs.get("disable", ()))


class Registrar:
    """``kpo_register(plugin, name=None)``: add a plugin to this test's plugin set."""

    def __init__(self, plugins: PluginSet) -> None:
        self.plugins = plugins
        #: ``(name, plugin)`` in registration order; ``kpo_cli`` adds them to its runs.
        self.registered: list[tuple[str, object]] = []

    def __call__(self, plugin: object, name: str | None = None, *, strict: bool = True
                 ) -> str:
        """Register ``plugin`` (module, object or source directory); returns its name.

        ``strict=False`` records a plugin that fails to register in
        ``kpo_plugins.failures`` instead of failing the test.
        """
        __tracebackhide__ = True
        from kpo_rules.conformance import plugin_name  # noqa: PLC0415

        if isinstance(plugin, Path):
            from kpo_rules.local_plugin import load_local_plugin  # noqa: PLC0415

            found, plugin = load_local_plugin(plugin)
            name = name or found
        name = name or plugin_name(plugin)
        _replace(self.plugins, name, plugin)
        self.registered = [(n, p) for n, p in self.registered if n != name] + [(name, plugin)]
        failed = [f.error for f in self.plugins.failures if f.name == name]
        if strict and failed:
            pytest.fail(f"plugin {name!r} did not register: {'; '.join(failed)}", pytrace=False)
        return name


def _replace(plugins: PluginSet, name: str, plugin: object) -> None:
    manager = plugins.manager
    for old in (manager.get_plugin(name), plugin if manager.is_registered(plugin) else None):
        old_name = manager.get_name(old) if old is not None else None
        if old_name is not None:
            plugins.unregister(old_name)
    plugins.failures = [f for f in plugins.failures if f.name != name]
    plugins.register(plugin, name)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        plugins.failures.append(PluginFailure(name=name, distribution=None, error=str(exc)))
        plugins.unregister(name)
    plugins.content_cache = None  # catalogues and rules are read again with this plugin


@pytest.fixture
def kpo_plugins(request: pytest.FixtureRequest) -> PluginSet:
    """A fresh plugin set: the installed plugins plus those registered for this test."""
    installed, disable = _options(request)
    return create_plugin_set(load_entrypoints=installed, blocked=disable)


@pytest.fixture
def kpo_register(kpo_plugins: PluginSet) -> Registrar:
    """Register a plugin (module, object or source directory) for this test only."""
    return Registrar(kpo_plugins)


# ------------------------------------------------------------------------ running


class Checker:
    """``kpo_check(source, ...)``: check one engagement in process."""

    def __init__(self, plugins: PluginSet) -> None:
        self.plugins = plugins

    def __call__(self, source: str | os.PathLike[str] | Mapping[str, Any], *,
                 name: str = "engagement.yaml", today: dt.date | None = None,
                 config: Config | None = None, waivers: bool = True,
                 allow_plugin_failures: bool = False) -> CheckResult:
        """Check ``source``: YAML text (dedented), a mapping, or a file or directory path."""
        __tracebackhide__ = True
        import yaml  # noqa: PLC0415

        from kpo_rules.api import check  # noqa: PLC0415

        options: dict[str, Any] = {"plugins": self.plugins, "today": today, "config": config,
                                   "waivers": waivers, "jobs": 1}
        if isinstance(source, Mapping):
            text = yaml.safe_dump(dict(source), sort_keys=False, allow_unicode=True)
            report = check(sources=[(name, text)], **options)
        elif isinstance(source, str):
            report = check(sources=[(name, textwrap.dedent(source))], **options)
        else:
            report = check([Path(source)], **options)
        if report.plugin_failures and not allow_plugin_failures:
            listed = "\n".join(f"  {f.name}: {f.error}" for f in report.plugin_failures)
            pytest.fail(f"plugins failed to load (allow_plugin_failures=True to go on):\n"
                        f"{listed}", pytrace=False)
        return CheckResult(report)


@pytest.fixture
def kpo_check(kpo_plugins: PluginSet) -> Checker:
    """Check an engagement (YAML text, mapping or path) in process with this test's plugins."""
    return Checker(kpo_plugins)


@pytest.fixture
def kpo_cli(request: pytest.FixtureRequest, kpo_register: Registrar,
            monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``kpo-rules ARGS`` in process (click's CliRunner) with this test's plugins."""
    import kpo_rules.api  # noqa: PLC0415
    import kpo_rules.plugins  # noqa: PLC0415
    from kpo_rules.cli import cli  # noqa: PLC0415

    installed, disable = _options(request)
    original = kpo_rules.plugins.create_plugin_set

    # Commands build their plugin set through this factory; add the test's plugins to it.
    def factory(*, load_entrypoints: bool = True, blocked: Iterable[str] = (),
                extra: Iterable[tuple[str, object]] = ()) -> PluginSet:
        extra = list(extra)
        own = {name for name, _ in extra}
        mine = [(n, p) for n, p in kpo_register.registered if n not in own]
        return original(load_entrypoints=load_entrypoints and installed,
                        blocked=[*blocked, *disable], extra=[*mine, *extra])

    monkeypatch.setattr(kpo_rules.plugins, "create_plugin_set", factory)
    monkeypatch.setattr(kpo_rules.api, "create_plugin_set", factory)

    def run(*args: str, input: str | bytes | None = None,
            env: Mapping[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, env=env,
                                  catch_exceptions=False)

    return run


# ------------------------------------------------------------------------ rule examples


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleExample:
    """One example of one rule of a plugin, as a pytest parameter."""

    plugin: str
    rule: Rule | None
    example: Example | None
    index: int
    plugins: PluginSet | None
    problem: str = ""  # why the plugin's examples cannot run (it failed to load)

    @property
    def id(self) -> str:
        if self.rule is None or self.example is None:
            return f"{self.plugin}-load"
        return f"{self.rule.id}-{self.example.expect}-{self.index}"

    def run(self) -> ExampleOutcome:
        """Check the example as ``kpo-rules test`` does."""
        from kpo_rules.rule_tests import example_findings, judge  # noqa: PLC0415

        if self.rule is None or self.example is None or self.plugins is None:
            raise RuntimeError(self.problem)
        return judge(self.rule, self.example, example_findings(self.example, self.plugins),
                     self.plugins)

    def check(self) -> None:
        """Fail the test, showing the findings, when the example does not hold."""
        __tracebackhide__ = True
        if self.problem:
            pytest.fail(self.problem, pytrace=False)
        outcome = self.run()
        if not outcome.ok:
            pytest.fail(f"{outcome.label}\n{outcome.problem}\nfindings of the example:\n"
                        f"{format_findings(outcome.findings)}", pytrace=False)


def rule_example_params(plugin: object, *, name: str | None = None) -> list[object]:
    """``pytest.param`` for every example of every rule of ``plugin``, id ``RULE-pass-0``.

    ``plugin`` takes the forms of :func:`kpo_rules.conformance.check_plugin`: an installed
    plugin's name, a source directory, or a plugin module or object. The examples run with
    the installed plugins, as ``kpo-rules test`` runs them. A plugin that fails to load
    gives one failing parameter that says why.
    """
    from kpo_rules.conformance import plugin_set_for  # noqa: PLC0415
    from kpo_rules.content import load_content  # noqa: PLC0415

    name, plugins = plugin_set_for(plugin, name)
    content = load_content(plugins)
    failures = [f for f in (*plugins.failures, *content.failures) if f.name == name]
    if failures:
        why = "\n".join(f"  {f.error}" for f in failures)
        broken = RuleExample(plugin=name, rule=None, example=None, index=0, plugins=None,
                             problem=f"plugin {name!r} did not load:\n{why}")
        return [pytest.param(broken, id=broken.id)]
    params: list[object] = [pytest.param(example, id=example.id)
                            for example in _examples(name, content.rules.rules, plugins)]
    if not params:
        return [pytest.param(None, id=f"{name}-no-rules",
                             marks=pytest.mark.skip(reason=f"plugin {name!r} has no rules"))]
    return params


def _examples(name: str, rules: Iterable[Rule], plugins: PluginSet) -> Iterator[RuleExample]:
    for rule in rules:
        if rule.plugin != name:
            continue
        seen: Counter[str] = Counter()
        for example in rule.examples:
            yield RuleExample(plugin=name, rule=rule, example=example,
                              index=seen[example.expect], plugins=plugins)
            seen[example.expect] += 1
