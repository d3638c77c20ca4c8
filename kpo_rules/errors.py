"""One error type per failure a user can act on, and the exit codes (docs/exit-codes.md)."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes (docs/exit-codes.md); mirrors pytest's ``ExitCode``."""

    OK = 0  # nothing at or above --fail-on
    FINDINGS = 1  # findings at or above --fail-on
    USAGE = 2  # usage or configuration error, or a plugin that failed to load


class KpoError(Exception):
    """Base of every error kpo-rules raises on purpose."""


class UsageError(KpoError):
    """The command line asks for something that cannot be done."""


class ConfigError(KpoError):
    """A configuration file is invalid; names the file and the key."""

    def __init__(self, file: str, key: str, why: str) -> None:
        super().__init__(f"{file}: {key}: {why}")
        self.file, self.key, self.why = file, key, why


class PluginLoadError(KpoError):
    """A plugin failed to import or register; the others keep working."""

    def __init__(self, name: str, distribution: str | None, cause: BaseException) -> None:
        dist = f" (distribution {distribution})" if distribution else ""
        super().__init__(f"plugin {name!r}{dist} failed to load: {type(cause).__name__}: {cause}")
        self.name, self.distribution, self.cause = name, distribution, cause


class HookApiError(KpoError):
    """A plugin was written for a hook API version this kpo-rules does not support."""

    def __init__(self, wanted: int, supported: frozenset[int]) -> None:
        listed = ", ".join(map(str, sorted(supported)))
        super().__init__(f"written for kpo-rules hook API {wanted}; this kpo-rules supports "
                         f"{listed} - upgrade kpo-rules or the plugin")
        self.wanted, self.supported = wanted, supported


#: What can be wrong with a plugin's rule or catalogue file: a RuleDefinitionError's
#: ``kind``, and the name of the conformance check that reports it.
DEFINITION_KINDS = ("syntax", "schema", "rule", "rule-id", "clash", "examples", "catalogue-id",
                    "template")


class RuleDefinitionError(KpoError):
    """A rule or catalogue file shipped by a plugin is invalid.

    The fields travel to the end (``PluginFailure``, ``kpo-rules test``, the conformance
    checks): nobody parses the message back. ``kind`` says what is wrong, as conformance
    checks name it (:data:`DEFINITION_KINDS`); ``rule`` is the meaning of a rule: facts,
    fields, aliases. ``fix`` is what to do, when the raiser knows better than the
    kind's usual advice; ``other`` names the plugin a clash is with.
    """

    def __init__(self, file: str, line: int, rule: str | None, why: str, *,
                 kind: str = "rule", fix: str = "", other: str | None = None) -> None:
        what = f" rule {rule}:" if rule else ""
        super().__init__(f"{file}:{line}:{what} {why}")
        self.file, self.line, self.rule, self.why = file, line, rule, why
        self.kind, self.fix, self.other = kind, fix, other


class YamlSyntaxError(KpoError):
    """A file is not readable YAML (or not UTF-8); becomes a ``syntax`` finding."""

    #: What the finding tells the user to do, when more specific than the rule's fix.
    remediation: str | None = None

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class OutputError(KpoError):
    """A report or baseline could not be written; names the file and the system's reason."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"cannot write {path}: {why}")
        self.path, self.why = path, why


class FileReadError(YamlSyntaxError):
    """A named file cannot be read: not a regular file, over the size limit, or an I/O error.

    A finding on that file like a syntax error (the other files are still checked), with
    its own remediation: there is no YAML position to fix.
    """

    remediation = (
        "Name a regular YAML file within the size limit (use '-' to read standard input); "
        "the file was not checked."
    )
