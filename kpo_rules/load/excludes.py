"""Why a path is left out of a run: the default excludes, the ``exclude``/``extend-exclude``
patterns, a virtualenv, ``.gitignore`` or ``.git/info/exclude``.

Patterns have gitignore semantics (the ``pathspec`` library), relative to the directory of
the configuration file, or the current directory without one. Plain names (``.venv``,
``node_modules``: every default exclude) are looked up in a set, which is what gitignore
makes of a name without a slash or a wildcard; the walk asks once per file, so this keeps
a 100,000-file walk from matching every file against every pattern.

Paths here are absolute, normalised, ``/``-separated strings: the walk builds them by
joining names, cheaper than a ``Path`` per entry.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from kpo_rules.config import Config

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

#: ruff's default excludes: version control, virtualenvs, caches, build output.
DEFAULT_EXCLUDES = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints",
    ".mypy_cache", ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache",
    ".svn", ".tox", ".venv", ".vscode", "__pypackages__", "_build", "buck-out", "build",
    "dist", "node_modules", "site-packages", "venv",
)
#: A directory holding this file is a virtualenv, whatever its name (PEP 405).
VENV_MARKER = "pyvenv.cfg"
#: Reasons that say a directory was left out as routine, not by the project's choice.
ROUTINE = ("default exclude", "a virtualenv")
_GLOB = frozenset("*?[]\\/!#")


def join(directory: str, name: str) -> str:
    return directory + name if directory.endswith("/") else f"{directory}/{name}"


class _Layer:
    """One ignore file's patterns and the directory they are relative to."""

    __slots__ = ("base", "label", "spec")

    def __init__(self, base: str, spec: GitIgnoreSpec, label: str) -> None:
        self.base, self.spec, self.label = base, spec, label


class Excludes:
    """Says why a path is left out, or nothing."""

    def __init__(self, config: Config, cwd: str) -> None:
        from pathspec import GitIgnoreSpec  # noqa: PLC0415 - a run of named files needs none

        self.anchor = os.path.abspath(config.root) if config.root else cwd
        self.defaults = config.exclude is None
        own = DEFAULT_EXCLUDES if config.exclude is None else config.exclude
        patterns = [*own, *config.extend_exclude]
        kinds = ["default exclude" if self.defaults else "exclude pattern"] * len(own)
        kinds += ["exclude pattern"] * len(config.extend_exclude)
        # A negation may re-include a name, so then every pattern goes through pathspec.
        negated = any(p.startswith("!") for p in patterns)
        plain = [] if negated else [(p, k) for p, k in zip(patterns, kinds, strict=True)
                                    if p and not _GLOB & set(p)]
        self.names = dict(plain)
        rest = [(p, k) for p, k in zip(patterns, kinds, strict=True) if p not in self.names]
        self.spec = GitIgnoreSpec.from_lines([p for p, _ in rest]) if rest else None
        self.kinds = [k for _, k in rest]
        self.gitignore = config.respect_gitignore
        self._repos: dict[str, str | None] = {}
        self._layers: dict[str, tuple[_Layer, ...]] = {}

    def reason(self, path: str, *, is_dir: bool, floor: str | None = None) -> str | None:
        """Why ``path`` is left out, or None. ``floor``: a directory named explicitly although
        excluded; patterns from above it then match only what lies below it."""
        relative = _below(path, self.anchor, floor)
        for part in relative.split("/"):
            if part in self.names:
                return f"{self.names[part]} '{part}'"
        if self.spec is not None:
            result = self.spec.check_file(relative + "/" if is_dir else relative)
            if result.include:
                assert result.index is not None
                return f"{self.kinds[result.index]} '{_pattern(self.spec, result.index)}'"
        if self.defaults and is_dir and os.path.isfile(join(path, VENV_MARKER)):
            return f"a virtualenv ({VENV_MARKER})"
        if self.gitignore:
            return self._ignored(path, is_dir=is_dir, floor=floor)
        return None

    def _ignored(self, path: str, *, is_dir: bool, floor: str | None) -> str | None:
        verdict: tuple[bool, str] | None = None
        for layer in self.layers(os.path.dirname(path)):
            relative = _below(path, layer.base, floor)
            result = layer.spec.check_file(relative + "/" if is_dir else relative)
            if result.include is not None:  # the deepest, last matching pattern wins (git)
                verdict = (result.include, f"{layer.label} '{_pattern(layer.spec, result.index)}'")
        return verdict[1] if verdict and verdict[0] else None

    def repository(self, directory: str) -> str | None:
        """The root of the git repository holding ``directory`` (it holds ``.git``)."""
        if directory not in self._repos:
            parent = os.path.dirname(directory)
            if os.path.lexists(join(directory, ".git")):
                self._repos[directory] = directory
            elif parent == directory:
                self._repos[directory] = None
            else:
                self._repos[directory] = self.repository(parent)
        return self._repos[directory]

    def layers(self, directory: str) -> tuple[_Layer, ...]:
        """The ignore files in force in ``directory``, the repository's first."""
        if directory not in self._layers:
            repo = self.repository(directory)
            if repo is None:
                layers: tuple[_Layer, ...] = ()
            elif directory == repo:
                layers = tuple(_layer(f, repo, ".git/info/exclude") for f in _info_excludes(repo))
            else:
                layers = self.layers(os.path.dirname(directory))
            own = join(directory, ".gitignore")
            if repo is not None and os.path.isfile(own):
                layers += (_layer(own, directory, _shown(own)),)
            self._layers[directory] = tuple(layer for layer in layers if layer.spec.patterns)
        return self._layers[directory]


def _below(path: str, base: str, floor: str | None) -> str:
    """``path`` relative to ``base`` (to ``floor`` when that lies below ``base``); a path
    outside ``base`` is matched by its name."""
    start = base
    if floor is not None and (floor == base or floor.startswith(join(base, ""))):
        start = floor
    prefix = join(start, "")
    return path[len(prefix):] if path.startswith(prefix) else os.path.basename(path)


def _pattern(spec: GitIgnoreSpec, index: int | None) -> str:
    assert index is not None  # a pattern matched
    text = spec.patterns[index].pattern
    return text.decode(errors="replace") if isinstance(text, bytes) else str(text)


def _info_excludes(repo: str) -> list[str]:
    """``.git/info/exclude``; for a worktree (``.git`` is a file), its main repository's."""
    git = join(repo, ".git")
    if os.path.isfile(git):
        try:
            with open(git, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            if not text.startswith("gitdir:"):
                return []
            git = os.path.realpath(os.path.join(repo, text.partition(":")[2].strip()))
            common = join(git, "commondir")
            if os.path.isfile(common):
                with open(common, encoding="utf-8", errors="replace") as handle:
                    git = os.path.realpath(os.path.join(git, handle.read().strip()))
        except OSError:
            return []
    exclude = join(git, "info/exclude")
    return [exclude] if os.path.isfile(exclude) else []


def _layer(path: str, base: str, label: str) -> _Layer:
    from pathspec import GitIgnoreSpec  # noqa: PLC0415

    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        lines = []
    return _Layer(base, GitIgnoreSpec.from_lines(lines), label)


def _shown(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative
