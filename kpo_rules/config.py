"""Project configuration: ``[tool.kpo-rules]`` in ``pyproject.toml`` or ``.kpo-rules.toml``.

Found by walking up from the checked paths (like ruff), no further than the repository
root (the directory holding ``.git``), so a file in some parent directory never changes a
project's CI; flags override the file. Every problem is a
:class:`~kpo_rules.errors.ConfigError` naming the file and the key, so CI fails with
something a person can fix (exit 2).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpo_rules.errors import ConfigError
from kpo_rules.model import RunRecord

if TYPE_CHECKING:
    from kpo_rules.incidents import DisabledPlugin, SkippedPath

CONFIG_FILE = ".kpo-rules.toml"
SEVERITIES = ("error", "warning", "info")
FAIL_ON = ("error", "warning", "info", "never")
_SELECTOR = "^(ALL|[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-?)$"


def config_schema(schema_id: str) -> dict[str, Any]:
    """JSON Schema of the configuration table (``kpo-rules schema config``)."""
    selectors = {"type": "array", "items": {"type": "string", "pattern": _SELECTOR},
                 "description": "Rule ids or prefixes (COM, COM-LANG, COM-LANG-001); ALL."}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": "kpo-rules configuration",
        "description": "[tool.kpo-rules] in pyproject.toml, or the top level of "
                       ".kpo-rules.toml. Command-line flags override it.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "select": selectors | {"description": "Report only these rules (default ALL)."},
            "ignore": selectors | {"description": "Never report these rules."},
            "severity": {
                "type": "object", "description": "Severity per rule id or prefix; the most "
                                                 "specific entry wins.",
                "propertyNames": {"pattern": _SELECTOR},
                "additionalProperties": {"enum": list(SEVERITIES)},
            },
            "fail-on": {"enum": list(FAIL_ON), "description": "Lowest severity that fails."},
            "exclude": {"type": "array", "items": {"type": "string"},
                        "description": "Gitignore-style patterns of files and directories "
                                       "not to check, relative to the config file; replaces "
                                       "the default excludes (.git, .venv, node_modules...)."},
            "extend-exclude": {"type": "array", "items": {"type": "string"},
                               "description": "Patterns excluded in addition to 'exclude'."},
            "respect-gitignore": {"type": "boolean",
                                  "description": "Skip files that .gitignore or "
                                                 ".git/info/exclude ignore (default true)."},
            "force-exclude": {"type": "boolean",
                              "description": "Apply excludes and skip files that are not "
                                             "kpo-rules files even when named explicitly "
                                             "(default false; the pre-commit hook sets it)."},
            "rosters": {"type": "array", "items": {"type": "string"},
                        "description": "Roster files or directories, relative to the config "
                                       "file, that every run loads whatever paths it is "
                                       "given (so a changed-files run knows every staff "
                                       "member)."},
            "max-waiver-days": {
                "type": "integer", "minimum": 1,
                "description": "Longest a waiver may run: an 'expires' date more than this "
                               "many days after the run date is a finding (off by default).",
            },
            "disable-plugins": {"type": "array", "items": {"type": "string"},
                                "description": "Plugins not to load (entry-point or "
                                               "distribution names)."},
            "require-plugins": {
                "type": "array", "items": {"type": "string"},
                "description": "Plugins that must be loaded, with optional version ranges "
                               "(PEP 440), e.g. 'kpo-rules>=0.1', 'kpo-country-nl~=1.2'.",
            },
        },
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The effective configuration of a run."""

    file: str | None = None
    root: Path | None = None
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    fail_on: str = "error"
    #: Patterns not to check; None means the default excludes (like ruff's ``exclude``).
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False
    rosters: tuple[str, ...] = ()
    max_waiver_days: int | None = None
    disable_plugins: tuple[str, ...] = ()
    require_plugins: tuple[str, ...] = ()


def _specificity(selector: str, rule: str) -> int:
    """Length of ``selector`` if it selects ``rule``, else -1 (``ALL`` matches with 0)."""
    if selector == "ALL":
        return 0
    stem = selector.rstrip("-")
    if rule == stem or rule.startswith(stem + "-"):
        return len(stem)
    return -1


def is_selected(config: Config, rule: str) -> bool:
    """The most specific matching entry decides; ``ignore`` wins a tie (like ruff)."""
    best_select = max((_specificity(s, rule) for s in config.select), default=-1)
    best_ignore = max((_specificity(s, rule) for s in config.ignore), default=-1)
    return best_select >= 0 and best_select > best_ignore


def unknown_selector(selector: str, rule_ids: Iterable[str]) -> str | None:
    """Why ``selector`` names no rule of ``rule_ids`` (with a suggestion), or None if it does.

    A selector that matches nothing silently checks nothing (``--select NOPE``) or ignores
    nothing (a mistyped ``ignore``), so a run must refuse it rather than pass.
    """
    ids = list(rule_ids)
    if selector == "ALL" or any(_specificity(selector, rule) >= 0 for rule in ids):
        return None
    import difflib  # noqa: PLC0415 - only for a selector that names nothing

    prefixes = sorted({"-".join(parts[:n]) for parts in (rule.split("-") for rule in ids)
                       for n in range(1, len(parts) + 1)})
    close = difflib.get_close_matches(selector.rstrip("-"), prefixes, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else "`kpo-rules rules list` shows every rule"
    return f"unknown rule or prefix '{selector}'; {hint}"


def severity_for(config: Config, rule: str) -> str | None:
    """The configured severity of ``rule`` (most specific entry), or None."""
    matches = [(_specificity(s, rule), level) for s, level in config.severity.items()]
    matches = [m for m in matches if m[0] >= 0]
    return max(matches)[1] if matches else None


def find_config(paths: Sequence[str | Path], explicit: str | Path | None = None) -> Config:
    """Load ``explicit``, or the nearest config file above the checked paths, or defaults.

    The search stops at the repository root (the directory holding ``.git``).
    """
    if explicit is not None:
        return load_config(Path(explicit))
    starts = [Path(p).resolve() for p in paths if str(p) != "-"] or [Path.cwd()]
    for start in starts:
        directory = start if start.is_dir() else start.parent
        for folder in (directory, *directory.parents):
            for candidate in (folder / CONFIG_FILE, folder / "pyproject.toml"):
                if candidate.is_file() and _has_config(candidate):
                    return load_config(candidate)
            if (folder / ".git").exists():
                break
    return Config()


#: Where [tool.kpo-rules] can be spelt: a header or dotted key ``tool.kpo-rules`` (quotes and
#: spaces allowed), or a key under a ``[tool]`` header or in ``tool = {...}``.
_UNDER_TOOL = (rb"""tool["']?\s*\.\s*["']?kpo-rules"""
               rb"""|^\s*(\[\s*["']?tool["']?\s*\]|["']?tool["']?\s*=)""")


def _has_config(path: Path) -> bool:
    if path.name != "pyproject.toml":
        return True
    try:
        raw = path.read_bytes()
    except OSError:
        return False
    # Most projects' pyproject.toml has no [tool.kpo-rules]; spare them the TOML parser.
    # Without the name spelt out or any escape that could spell it, the table is absent;
    # so it is when the name only appears as a dependency or a script, not under ``tool``.
    if b"\\" not in raw and (b"kpo-rules" not in raw or not re.search(_UNDER_TOOL, raw, re.M)):
        return False
    try:
        return "kpo-rules" in _read_toml(path).get("tool", {})
    except ConfigError:
        return False


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415 - only when a config file exists
    else:
        import tomli as tomllib  # noqa: PLC0415
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except OSError as exc:
        raise ConfigError(str(path), "-", f"cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "-", f"not valid TOML: {exc}") from None


def load_config(path: Path) -> Config:
    """Read and validate one config file."""
    data = _read_toml(path)
    table = data.get("tool", {}).get("kpo-rules", {}) if path.name == "pyproject.toml" else data
    prefix = "tool.kpo-rules." if path.name == "pyproject.toml" else ""
    _validate(table, str(path), prefix)
    for spec in table.get("require-plugins", ()):
        _requirement(spec, str(path), prefix)
    return Config(
        file=str(path),
        root=path.parent,
        select=tuple(table.get("select", ("ALL",))),
        ignore=tuple(table.get("ignore", ())),
        severity=dict(table.get("severity", {})),
        fail_on=table.get("fail-on", "error"),
        exclude=tuple(table["exclude"]) if "exclude" in table else None,
        extend_exclude=tuple(table.get("extend-exclude", ())),
        respect_gitignore=table.get("respect-gitignore", True),
        force_exclude=table.get("force-exclude", False),
        rosters=tuple(table.get("rosters", ())),
        max_waiver_days=table.get("max-waiver-days"),
        disable_plugins=tuple(table.get("disable-plugins", ())),
        require_plugins=tuple(table.get("require-plugins", ())),
    )


def _validate(table: Any, file: str, prefix: str) -> None:
    from jsonschema import (  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
        Draft202012Validator,
    )

    validator = Draft202012Validator(config_schema("config"))
    errors = sorted(validator.iter_errors(table), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    error = errors[0]
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        known = ", ".join(sorted(config_schema("config")["properties"]))
        unknown = sorted(set(table) - set(config_schema("config")["properties"]))
        raise ConfigError(file, prefix + (unknown[0] if unknown else "?"),
                          f"unknown key; known keys: {known}")
    key = prefix + ".".join(path) if path else prefix.rstrip(".") or "(top level)"
    raise ConfigError(file, key, error.message)


def _requirement(spec: str, file: str, prefix: str) -> Any:
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

    try:
        return Requirement(spec)
    except InvalidRequirement as exc:
        raise ConfigError(file, prefix + "require-plugins", f"{spec!r}: {exc}") from None


def missing_plugins(config: Config, loaded: Iterable[tuple[str, str | None, str | None]]
                    ) -> list[str]:
    """Required plugins that are absent or of a version outside the range, as messages.

    ``loaded`` gives (plugin name, distribution, version) of each loaded plugin; a
    requirement names either.
    """
    found = list(loaded)
    problems = []
    for spec in config.require_plugins:
        requirement = _requirement(spec, config.file or "-", "require-plugins")
        versions = [version for name, dist, version in found
                    if requirement.name in (name, dist)]
        if not versions:
            problems.append(f"required plugin '{requirement.name}' is not loaded")
        elif requirement.specifier and not any(
                v is not None and requirement.specifier.contains(v, prereleases=True)
                for v in versions):
            problems.append(f"required plugin '{spec}' is loaded in version "
                            f"{', '.join(str(v) for v in versions)}")
    return problems


def run_record(config: Config, *, run_date: dt.date | None, waivers: bool,
               disabled_by_environment: Iterable[str],
               skipped: Iterable[SkippedPath] = ()) -> RunRecord:
    """What a run had in force, for every report format to show."""
    by_environment = sorted(disabled_by_environment)
    disabled: list[DisabledPlugin] = []
    if config.disable_plugins or by_environment:
        from kpo_rules.incidents import DisabledPlugin  # noqa: PLC0415 - only when any

        disabled = [DisabledPlugin(name=name, by="config") for name in config.disable_plugins]
        disabled += [DisabledPlugin(name=name, by="environment") for name in by_environment]
    return RunRecord(
        config_file=_shown(config.file) if config.file else None,
        disabled_plugins=tuple(disabled),
        select=tuple(config.select),
        ignore=tuple(config.ignore),
        fail_on=config.fail_on,
        run_date=run_date.isoformat() if run_date else None,
        waivers=waivers,
        skipped=tuple(sorted(skipped, key=lambda s: s.path)),
    )


def _shown(file: str) -> str:
    """A path as a person would name it: relative to the current directory when below it."""
    relative = os.path.relpath(file)
    return file if relative.startswith("..") else Path(relative).as_posix()
