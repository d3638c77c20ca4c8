"""Which files a run checks, found the way ruff and pre-commit find them.

A file named on the command line is checked as named. A directory is walked in sorted
order for ``*.yaml``/``*.yml`` (any case), leaving out the default excludes (VCS
directories, virtualenvs, ``node_modules``, caches, build output), what ``.gitignore`` and
``.git/info/exclude`` ignore, and the ``exclude``/``extend-exclude`` patterns; the files it
finds are checked only if they declare a kpo-rules document (:mod:`kpo_rules.load.ownership`).
``--force-exclude`` treats named files like walked ones, which is what pre-commit needs:
it passes every changed file, workflows included. The config's ``rosters`` are added to
every run. Patterns are gitignore patterns (the ``pathspec`` library), relative to the
directory of the configuration file, or the current directory without one.

Nothing is dropped silently: whatever is left out is recorded with its reason
(``--show-files``, the report's run record), and a directory that cannot be listed is a
finding.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pathspec import GitIgnoreSpec

from kpo_rules.config import Config
from kpo_rules.errors import ConfigError, UsageError
from kpo_rules.load.files import STDIN, SourceFile, read_stdin
from kpo_rules.model import Finding, Severity, SkippedPath

YAML_SUFFIXES = (".yaml", ".yml")
#: ruff's default excludes: version control, virtualenvs, caches, build output.
DEFAULT_EXCLUDES = (
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints",
    ".mypy_cache", ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache",
    ".svn", ".tox", ".venv", ".vscode", "__pypackages__", "_build", "buck-out", "build",
    "dist", "node_modules", "site-packages", "venv",
)
#: A directory holding this file is a virtualenv, whatever its name (PEP 405).
VENV_MARKER = "pyvenv.cfg"
STDIN_NAME = "<stdin>"


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    """The files a run reads, and what it left out."""

    files: tuple[SourceFile, ...]
    skipped: tuple[SkippedPath, ...] = ()
    #: Directories left out by the default excludes (.git, .venv, node_modules...): listed
    #: by ``--show-files`` only, since nearly every run has some.
    pruned: tuple[SkippedPath, ...] = ()
    #: Directories that could not be listed: their files went unchecked.
    problems: tuple[Finding, ...] = ()
    #: No directory was named: a changed-files run (pre-commit), where finding nothing of
    #: ours to check is normal.
    named_files_only: bool = False


def is_yaml(name: str) -> bool:
    return name.lower().endswith(YAML_SUFFIXES)


def discover(paths: Iterable[str | Path], config: Config, *,
             stdin_filename: str | None = None, cwd: Path | None = None) -> Discovery:
    """The files to check for ``paths`` (``-`` is standard input) and ``config.rosters``.

    :raises kpo_rules.errors.UsageError: a named path does not exist.
    :raises kpo_rules.errors.ConfigError: a roster path of the config does not exist.
    """
    here = (cwd or Path.cwd()).absolute()
    walker = _Walker(_Excluder(config, here), force=config.force_exclude)
    named = [str(p) for p in paths]
    for raw in named:
        if raw == STDIN:
            walker.stdin(stdin_filename)
        else:
            path = Path(raw)
            if not (path.exists() or path.is_symlink()):
                raise UsageError(f"{raw}: no such file or directory")
            walker.named(path)
    for roster in config.rosters:
        assert config.root is not None and config.file is not None  # rosters come from a file
        path = config.root / roster
        if not path.exists():
            raise ConfigError(config.file, "rosters", f"{roster!r}: no such file or directory")
        walker.named(_shown(path, here))
    return Discovery(
        files=tuple(walker.files), skipped=tuple(walker.skipped), pruned=tuple(walker.pruned),
        problems=tuple(walker.problems),
        named_files_only=not any(raw != STDIN and Path(raw).is_dir() for raw in named),
    )


def _shown(path: Path, cwd: Path) -> Path:
    """``path`` relative to the current directory when below it (as a user would name it)."""
    relative = os.path.relpath(path.absolute(), cwd)
    return Path(relative) if not relative.startswith("..") else path.absolute()


@dataclass(frozen=True, slots=True)
class _Layer:
    """One list of patterns and the directory they are relative to."""

    base: Path
    spec: GitIgnoreSpec
    label: str


class _Excluder:
    """Says why a path is excluded: an exclude pattern, a default exclude, a .gitignore."""

    def __init__(self, config: Config, cwd: Path) -> None:
        anchor = (config.root or cwd).absolute()
        self.defaults = config.exclude is None
        patterns = DEFAULT_EXCLUDES if config.exclude is None else config.exclude
        self.exclude = _Layer(anchor, GitIgnoreSpec.from_lines(
            [*patterns, *config.extend_exclude]), "exclude")
        self.default_count = len(patterns) if self.defaults else 0
        self.gitignore = config.respect_gitignore
        self._repos: dict[Path, Path | None] = {}
        self._ignores: dict[Path, tuple[_Layer, ...]] = {}

    def reason(self, path: Path, *, is_dir: bool, floor: Path | None = None) -> str | None:
        """Why ``path`` (absolute) is left out, or None. ``floor``: a directory named
        explicitly although excluded; patterns above it then match below it only."""
        result = self.exclude.spec.check_file(_relative(path, self.exclude.base, is_dir, floor))
        if result.include:
            pattern = _pattern(self.exclude.spec, result.index)
            kind = "default exclude" if (result.index or 0) < self.default_count \
                else "exclude pattern"
            return f"{kind} '{pattern}'"
        if self.defaults and is_dir and (path / VENV_MARKER).is_file():
            return f"a virtualenv ({VENV_MARKER})"
        if self.gitignore:
            return self._ignored(path, is_dir=is_dir, floor=floor)
        return None

    def _ignored(self, path: Path, *, is_dir: bool, floor: Path | None) -> str | None:
        verdict: tuple[bool, str] | None = None
        for layer in self._layers(path.parent):
            result = layer.spec.check_file(_relative(path, layer.base, is_dir, floor))
            if result.include is not None:  # the deepest, last matching pattern wins (git)
                pattern = _pattern(layer.spec, result.index)
                verdict = (result.include, f"{layer.label} '{pattern}'")
        return verdict[1] if verdict and verdict[0] else None

    def _repo(self, directory: Path) -> Path | None:
        if directory not in self._repos:
            if (directory / ".git").exists():
                self._repos[directory] = directory
            elif directory.parent == directory:
                self._repos[directory] = None
            else:
                self._repos[directory] = self._repo(directory.parent)
        return self._repos[directory]

    def _layers(self, directory: Path) -> tuple[_Layer, ...]:
        """The ignore files that apply in ``directory``, the repository's first."""
        if directory not in self._ignores:
            repo = self._repo(directory)
            if repo is None:
                layers: tuple[_Layer, ...] = ()
            elif directory == repo:
                layers = tuple(_read_layer(f, repo) for f in _info_excludes(repo))
            else:
                layers = self._layers(directory.parent)
            own = directory / ".gitignore"
            if repo is not None and own.is_file():
                layers += (_read_layer(own, directory),)
            self._ignores[directory] = tuple(layer for layer in layers if layer.spec.patterns)
        return self._ignores[directory]


def _pattern(spec: GitIgnoreSpec, index: int | None) -> str:
    assert index is not None  # a pattern matched
    text = spec.patterns[index].pattern
    return text.decode(errors="replace") if isinstance(text, bytes) else str(text)


def _relative(path: Path, base: Path, is_dir: bool, floor: Path | None) -> str:
    start = floor if floor is not None and floor.is_relative_to(base) else base
    relative = os.path.relpath(path, start)
    if relative.startswith(".."):  # outside the project: match what lies below the walk
        relative = path.name
    relative = Path(relative).as_posix()
    return relative + "/" if is_dir else relative


def _info_excludes(repo: Path) -> list[Path]:
    """``.git/info/exclude``; for a worktree (``.git`` is a file) the one of its main
    repository."""
    git = repo / ".git"
    if git.is_file():
        try:
            text = git.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        if not text.startswith("gitdir:"):
            return []
        git = (repo / text.partition(":")[2].strip()).resolve()
        common = git / "commondir"
        if common.is_file():
            try:
                git = (git / common.read_text(encoding="utf-8").strip()).resolve()
            except OSError:
                return []
    exclude = git / "info" / "exclude"
    return [exclude] if exclude.is_file() else []


def _read_layer(path: Path, base: Path) -> _Layer:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    label = ".git/info/exclude" if path.name == "exclude" else _posix(path)
    return _Layer(base, GitIgnoreSpec.from_lines(lines), label)


def _posix(path: Path) -> str:
    return Path(os.path.relpath(path)).as_posix() if not os.path.relpath(path).startswith(
        "..") else path.as_posix()


@dataclass(slots=True)
class _Walker:
    """Collects files in order, each once, and the reason for everything left out."""

    excluder: _Excluder
    force: bool
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[SkippedPath] = field(default_factory=list)
    pruned: list[SkippedPath] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    #: (device, inode) of every file and directory taken, and the name it was taken under.
    seen: dict[tuple[int, int], str] = field(default_factory=dict)

    def stdin(self, name: str | None) -> None:
        if name is not None:
            why = self.excluder.reason(Path(name).absolute(), is_dir=False)
            if why is not None:
                self.skip(name, why)
                return
        self.files.append(replace(read_stdin(name or STDIN_NAME), only_ours=self.force))

    def named(self, path: Path) -> None:
        name = path.as_posix()
        absolute = path.absolute()
        is_dir = path.is_dir()
        if self.force:
            why = self.excluder.reason(absolute, is_dir=is_dir)
            if why is None and not is_dir and not is_yaml(name):
                why = "not a .yaml or .yml file"
            if why is not None:
                self.skip(name, why)
                return
        if is_dir:
            floor = None if self.force or self.excluder.reason(absolute, is_dir=True) is None \
                else absolute
            self.walk(path, floor)
            return
        try:
            info = path.stat()
        except OSError:  # unreadable or a dangling link: reading it says why, as a finding
            self.files.append(SourceFile(name=name, path=path, only_ours=self.force))
            return
        if self.take((info.st_dev, info.st_ino), name):
            self.files.append(SourceFile(name=name, path=path, only_ours=self.force))

    def take(self, identity: tuple[int, int], name: str) -> bool:
        """Whether this file or directory is new; one taken before under another name is
        recorded as skipped (a symbolic link to it, or a loop)."""
        first = self.seen.get(identity)
        if first is None:
            self.seen[identity] = name
            return True
        if first != name:  # the same name twice needs no word: it is checked once
            self.skip(name, f"same {'directory' if name.endswith('/') else 'file'} as {first}")
        return False

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append(SkippedPath(path=name, reason=reason))

    def walk(self, root: Path, floor: Path | None) -> None:
        """Depth first, entries in name order: the order of ``sorted(root.rglob("*"))``."""
        try:
            info = root.stat()
        except OSError as exc:
            self.unreadable(root, exc)
            return
        if not self.take((info.st_dev, info.st_ino), root.as_posix() + "/"):
            return
        stack: list[tuple[os.DirEntry[str], int]] = []
        self.push(root, info.st_dev, stack)
        while stack:
            entry, device = stack.pop()
            self.visit(entry, device, floor, stack)

    def push(self, directory: Path, device: int,
             stack: list[tuple[os.DirEntry[str], int]]) -> None:
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            self.unreadable(directory, exc)
            return
        stack += [(entry, device) for entry in reversed(entries)]

    def visit(self, entry: os.DirEntry[str], device: int, floor: Path | None,
              stack: list[tuple[os.DirEntry[str], int]]) -> None:
        name = Path(entry.path).as_posix()
        absolute = Path(os.path.abspath(entry.path))
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError:
            is_dir = is_file = False
        if is_dir:
            why = self.excluder.reason(absolute, is_dir=True, floor=floor)
            if why is not None:
                routine = why.startswith(("default exclude", "a virtualenv"))
                (self.pruned if routine else self.skipped).append(
                    SkippedPath(path=name + "/", reason=why))
                return
            try:
                info = entry.stat()
            except OSError as exc:
                self.unreadable(Path(entry.path), exc)
                return
            if self.take((info.st_dev, info.st_ino), name + "/"):
                self.push(Path(entry.path), info.st_dev, stack)
            return
        if not is_yaml(entry.name):
            return
        why = self.excluder.reason(absolute, is_dir=False, floor=floor)
        if why is None and not is_file:
            why = "a dangling symbolic link" if entry.is_symlink() else "not a regular file"
        if why is not None:
            self.skip(name, why)
            return
        if entry.is_symlink():
            try:
                target = entry.stat()
            except OSError:
                self.skip(name, "a dangling symbolic link")
                return
            identity = (target.st_dev, target.st_ino)
        else:
            identity = (device, entry.inode())
        if self.take(identity, name):
            self.files.append(SourceFile(name=name, path=Path(entry.path), only_ours=True))

    def unreadable(self, directory: Path, exc: OSError) -> None:
        self.problems.append(unreadable_directory(directory.as_posix(), exc))


def unreadable_directory(name: str, exc: OSError) -> Finding:
    """A directory the walk could not list: its files went unchecked, so it is an error."""
    return Finding(
        rule="KPO-SYN-001",
        severity=Severity.ERROR,
        category="syntax",
        message=f"cannot list the directory: {exc.strerror or exc}; the files in it were "
                "not checked",
        file=name,
        line=1,
        column=1,
        remediation="Make the directory readable to the user running kpo-rules, or exclude "
                    "it (extend-exclude in the configuration).",
    )
