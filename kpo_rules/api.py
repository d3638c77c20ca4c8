"""``kpo_rules.check``: the whole check behind one function.

It calls the stages of :mod:`kpo_rules.pipeline` in their order, with the files checked
in worker processes (:mod:`kpo_rules.parallel`) or in this one. The CLI is a thin layer
over it, so the library and the CLI give the same answer for the same inputs.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpo_rules.config import Config, run_record
from kpo_rules.load.discovery import Discovery, discover
from kpo_rules.load.files import SourceFile
from kpo_rules.model import Report
from kpo_rules.packed import FindingList, dictionary_for
from kpo_rules.plugins import PluginSet, blocked_from_env, create_plugin_set

if TYPE_CHECKING:
    from kpo_rules import pipeline
    from kpo_rules.filters import Filters
    from kpo_rules.parallel import Progress

#: With ``jobs=0``, files from which more than one worker is used: starting them costs
#: about as much as checking 30 files of the benchmark's size (measured: 32 files take
#: 0.18 s with one process or two).
AUTO_PARALLEL_FILES = 32


def check(
    paths: Iterable[str | Path] = (),
    *,
    sources: Iterable[tuple[str, str | bytes]] = (),
    plugins: PluginSet | None = None,
    today: dt.date | None = None,
    config: Config | None = None,
    waivers: bool = True,
    baseline: str | Path | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    stdin_filename: str | None = None,
    details: bool = False,
) -> Report:
    """Check engagement files and return a :class:`~kpo_rules.model.Report`.

    :param paths: files, directories (searched for ``*.yaml``/``*.yml``) or ``-`` for stdin.
    :param sources: in-memory files as ``(name, text)`` pairs, checked after ``paths``.
    :param plugins: a plugin set from :func:`kpo_rules.plugins.create_plugin_set`; by
        default every installed plugin not disabled by the config or
        ``KPO_RULES_DISABLE_PLUGINS``. Their content is read once per plugin set, and
        remembered for the next call while their files are unchanged
        (:func:`kpo_rules.content.load_content`; ``KPO_RULES_NO_MEMORY_CACHE=1`` turns
        that off).
    :param today: the run date waiver expiry is judged against (default: today).
    :param config: selection, severities, exclusions, plugin requirements
        (:func:`kpo_rules.config.find_config` finds the project's).
    :param waivers: ``False`` is audit mode: nothing is waived.
    :param baseline: a baseline file (``kpo-rules check --write-baseline``): only findings
        it does not record are reported.
    :param jobs: worker processes; ``0`` means one per available core once there are
        enough files for several to pay (:data:`AUTO_PARALLEL_FILES`). With two files or
        more, files are checked in forked workers (where the platform can fork), so a crash
        in the rule engine costs only the file it happened on.
    :param progress: called as ``progress(files checked, files in the run)`` as files are
        checked (the CLI draws a progress line from it).
    :param stdin_filename: the name standard input (``-``) has in findings and excludes.
    :param details: also describe every engagement in ``Report.details`` (services,
        assignees, what each task asks, the overlap of every shift day by day) for the HTML
        report; off by default, since an ordinary run does not need it.
    :raises kpo_rules.errors.UsageError: a named path does not exist, or the baseline
        cannot be read.
    """
    from kpo_rules import pipeline  # noqa: PLC0415 - the pipeline imports the loaders
    from kpo_rules.core_rules import rule_catalogue  # noqa: PLC0415
    from kpo_rules.filters import Filters  # noqa: PLC0415

    config = config or Config()
    found = discover(paths, config, stdin_filename=stdin_filename)
    files = list(found.files)
    files += [
        SourceFile(name=name, content=text.encode() if isinstance(text, str) else text)
        for name, text in sources
    ]
    entries = _baseline(baseline)
    plugin_set = plugins if plugins is not None else create_plugin_set(
        blocked=config.disable_plugins)
    rules = pipeline.load_rules(plugin_set)
    filters = Filters(
        config=config, today=today or dt.date.today(), waivers=waivers,
        known_rules=rules.known,
        baseline=None if entries is None else frozenset(e["fingerprint"] for e in entries))
    run = pipeline.Run(files=files, rules=rules, rosters=pipeline.read_rosters(files, rules),
                       filters=filters, details=details, dictionary=dictionary_for(
                           rule_catalogue(rules.content.rules.rules).values())
                       if len(files) > 1 else b"")
    outcomes = _check_files(run, jobs, progress)
    settled = pipeline.settle(run, outcomes)
    report = pipeline.build_report(run, settled, plugin_set, config, entries or ())
    return _with_run(report, found, filters, plugin_set)


def _with_run(report: Report, found: Discovery, filters: Filters, plugins: PluginSet
              ) -> Report:
    """The report with what discovery found (unlistable directories, paths left out) and
    what was in force."""
    from kpo_rules.filters import apply_filters  # noqa: PLC0415

    run = run_record(filters.config, run_date=filters.today, waivers=filters.waivers,
                     disabled_by_environment=plugins.blocked & blocked_from_env(),
                     skipped=[*found.skipped, *report.run.skipped])
    findings = report.findings
    problems = apply_filters(found.problems, filters).findings
    if problems:
        findings = FindingList.of(findings).plus(problems) if not isinstance(
            findings, FindingList) else findings.plus(problems)
    return replace(report, findings=findings, run=run)


def _check_files(run: pipeline.Run, jobs: int, progress: Progress | None
                 ) -> list[pipeline.FileOutcome]:
    """Every file through :func:`~kpo_rules.pipeline.check_file`: in forked workers
    from two files on (crash isolation), or in this process."""
    from kpo_rules import pipeline  # noqa: PLC0415

    count = len(run.files)
    workers = jobs
    if jobs <= 0:
        workers = available_cores() if count >= AUTO_PARALLEL_FILES else 1
    if count >= 2:
        from kpo_rules import parallel  # noqa: PLC0415 - multiprocessing: 3% of a one-file run

        if parallel.can_fork():
            return parallel.check_in_workers(run, workers, progress)
    outcomes = []
    for index in range(count):
        # Packed, findings wait for the report in a fraction of the memory; one file's
        # have nothing to wait for.
        outcomes.append(pipeline.pack(pipeline.check_file(run, index), run.dictionary,
                                      compress=count > 1))
        if progress is not None:
            progress(index + 1, count)
    return outcomes


def available_cores() -> int:
    """Cores this process may run on (the CPU affinity, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _baseline(path: str | Path | None) -> list[dict[str, Any]] | None:
    if path is None:
        return None
    from kpo_rules.baseline import read_baseline  # noqa: PLC0415

    return read_baseline(Path(path))
