"""Which files a run checks, found the way ruff and pre-commit find them.

A file named on the command line is checked as named. A directory is walked in sorted
order for ``*.yaml``/``*.yml`` (any case), following symbolic links to directories once,
and leaving out what :mod:`kpo_rules.load.excludes` says (default excludes, ``.gitignore``,
``exclude`` patterns); the files it finds are checked only if they declare a kpo-rules
document (:mod:`kpo_rules.load.ownership`, decided when a file is read).
``--force-exclude`` treats named files like walked ones, which is what pre-commit needs:
it passes every changed file, workflows included. The config's ``rosters`` are added to
every run.

Nothing is dropped silently: whatever is left out is recorded with its reason
(``--show-files``, the report's run record), and a directory that cannot be listed is a
finding.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kpo_rules.config import Config
from kpo_rules.errors import ConfigError, UsageError
from kpo_rules.load.files import STDIN, STDIN_NAME, SourceFile, read_stdin
from kpo_rules.model import Finding, Severity

if TYPE_CHECKING:
    from kpo_rules.incidents import SkippedPath
    from kpo_rules.load.excludes import Excludes

YAML_SUFFIXES = (".yaml", ".yml")



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


def is_yaml(name: str) -> bool:
    return name.lower().endswith(YAML_SUFFIXES)


def discover(paths: Iterable[str | Path], config: Config, *,
             stdin_filename: str | None = None) -> Discovery:
    """The files to check for ``paths`` (``-`` is standard input) and ``config.rosters``.

    :raises kpo_rules.errors.UsageError: a named path does not exist.
    :raises kpo_rules.errors.ConfigError: a roster path of the config does not exist.
    """
    walker = _Walker(config)
    for raw in map(str, paths):
        if raw == STDIN:
            walker.stdin(stdin_filename)
        elif os.path.lexists(raw):
            walker.named(raw)
        else:
            raise UsageError(f"{raw}: no such file or directory")
    for roster in config.rosters:
        assert config.root is not None and config.file is not None  # rosters come from a file
        path = os.path.join(config.root, roster)
        if not os.path.exists(path):
            raise ConfigError(config.file, "rosters", f"{roster!r}: no such file or directory")
        relative = os.path.relpath(path)  # named as a user would name it, to be seen as one
        walker.named(path if relative.startswith("..") else relative)
    return Discovery(files=tuple(walker.files), skipped=tuple(walker.skipped),
                     pruned=tuple(walker.pruned), problems=tuple(walker.problems))


def _shown(path: str) -> str:
    """How findings name a path: ``/``-separated, without ``./`` (as ``Path`` prints it)."""
    return Path(path).as_posix()


class _Walker:
    """Collects files in order, each once, and the reason for everything left out."""

    def __init__(self, config: Config) -> None:
        self.config, self.force = config, config.force_exclude
        self.files: list[SourceFile] = []
        self.skipped: list[SkippedPath] = []
        self.pruned: list[SkippedPath] = []
        self.problems: list[Finding] = []
        #: (device, inode) of every file and directory taken, and the name taken under.
        self.seen: dict[tuple[int, int], str] = {}
        self._excludes: Excludes | None = None

    @property
    def excludes(self) -> Excludes:
        """Built on first use: a run of named files needs no pattern (nor pathspec)."""
        if self._excludes is None:
            from kpo_rules.load.excludes import Excludes  # noqa: PLC0415

            self._excludes = Excludes(self.config, os.getcwd())
        return self._excludes

    def stdin(self, name: str | None) -> None:
        if name is not None:
            why = self.excludes.reason(os.path.abspath(name), is_dir=False)
            if why is not None:
                self.skip(name, why)
                return
        self.files.append(replace(read_stdin(name or STDIN_NAME), only_ours=self.force))

    def named(self, raw: str) -> None:
        name, absolute = _shown(raw), os.path.abspath(raw)
        is_dir = os.path.isdir(raw)
        if self.force:
            why = self.excludes.reason(absolute, is_dir=is_dir)
            if why is None and not is_dir and not is_yaml(name):
                why = "not a .yaml or .yml file"
            if why is not None:
                self.skip(name + "/" if is_dir else name, why)
                return
        if is_dir:
            # Named although excluded: walked, with the patterns that exclude it set aside.
            excluded = not self.force and self.excludes.reason(absolute, is_dir=True)
            self.walk(name, absolute, floor=absolute if excluded else None)
            return
        try:
            info = os.stat(raw)
        except OSError:  # unreadable or a dangling link: reading it says why, as a finding
            self.files.append(SourceFile(name=name, path=Path(raw), only_ours=self.force))
            return
        if self.take((info.st_dev, info.st_ino), name):
            self.files.append(SourceFile(name=name, path=Path(raw), only_ours=self.force))

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
        from kpo_rules.incidents import SkippedPath  # noqa: PLC0415 - only when one is

        self.skipped.append(SkippedPath(path=name, reason=reason))

    def walk(self, name: str, absolute: str, floor: str | None) -> None:
        """Depth first, entries in name order: the order of ``sorted(root.rglob("*"))``."""
        try:
            info = os.stat(absolute)
        except OSError as exc:
            self.unreadable(name, exc)
            return
        if not self.take((info.st_dev, info.st_ino), _join(name, "")):
            return
        stack: list[tuple[os.DirEntry[str], str, str, int]] = []
        self.push(name, absolute, info.st_dev, stack)
        while stack:
            self.visit(*stack.pop(), floor=floor, stack=stack)

    def push(self, name: str, absolute: str, device: int,
             stack: list[tuple[os.DirEntry[str], str, str, int]]) -> None:
        try:
            with os.scandir(absolute) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            self.unreadable(name, exc)
            return
        stack += [(entry, name, absolute, device) for entry in reversed(entries)]

    def visit(self, entry: os.DirEntry[str], parent: str, parent_absolute: str, device: int,
              *, floor: str | None, stack: list[tuple[os.DirEntry[str], str, str, int]]
              ) -> None:
        name = _join(parent, entry.name)
        absolute = _join(parent_absolute, entry.name)
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            self.enter(entry, name, absolute, floor, stack)
            return
        if not is_yaml(entry.name):
            return
        why = self.excludes.reason(absolute, is_dir=False, floor=floor)
        if why is None and not entry.is_file():
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
        else:  # a regular file is on its directory's device: no stat needed
            identity = (device, entry.inode())
        if self.take(identity, name):
            self.files.append(SourceFile(name=name, path=name, only_ours=True))

    def enter(self, entry: os.DirEntry[str], name: str, absolute: str, floor: str | None,
              stack: list[tuple[os.DirEntry[str], str, str, int]]) -> None:
        from kpo_rules.load.excludes import ROUTINE  # noqa: PLC0415 - loaded with Excludes

        why = self.excludes.reason(absolute, is_dir=True, floor=floor)
        if why is not None:
            from kpo_rules.incidents import SkippedPath  # noqa: PLC0415

            found = SkippedPath(path=_join(name, ""), reason=why)
            (self.pruned if why.startswith(ROUTINE) else self.skipped).append(found)
            return
        try:
            info = entry.stat()
        except OSError as exc:
            self.unreadable(name, exc)
            return
        if self.take((info.st_dev, info.st_ino), _join(name, "")):
            self.push(name, absolute, info.st_dev, stack)

    def unreadable(self, name: str, exc: OSError) -> None:
        self.problems.append(unreadable_directory(name, exc))


def _join(directory: str, name: str) -> str:
    """``directory/name`` as findings show it: no ``./`` in front, no doubled ``/``."""
    if directory == ".":
        return name or "./"
    return directory + name if directory.endswith("/") else f"{directory}/{name}"


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
