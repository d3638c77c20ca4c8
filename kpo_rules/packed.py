"""Findings kept compact between checking a file and writing the report.

A run holds every finding until the report is written (the JSON summary comes before the
findings, and findings are sorted across files). As objects a finding costs about 0.75 KB,
so a portfolio of 20,000 files with seven findings each would hold 110 MB for them alone;
packed (pickled and compressed, about 60 bytes a finding) the run's memory stays flat and
a finding is an object again only while a report is being written.

The bytes are made by this process or its own forked workers and never leave memory: no
file, cache or input is ever unpickled here. Packing is :mod:`kpo_rules.packing`: a
one-file check has nothing to pack and never imports it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby
from typing import TYPE_CHECKING, Any, TypeVar, overload

from kpo_rules.model import Finding, Severity

if TYPE_CHECKING:
    from kpo_rules.details import EngagementDetail
    from kpo_rules.packing import Packed, PackedDetail


def dictionary_for(rules: Iterable[Any]) -> bytes:
    """A zlib dictionary of what findings repeat (rule ids, categories, fixes, references,
    message templates): a file's few findings then pack into half the bytes. Built the
    same way from the same rules in a run's parent and workers."""
    pieces: list[str] = []
    for rule in rules:
        pieces += [rule.id, rule.category, rule.remediation, *rule.references,
                   getattr(rule, "message", "")]
    return "\x00".join(pieces).encode()[-32768:]  # zlib looks back 32 KB at most


Chunk = tuple[str, "Packed | tuple[Finding, ...]"]


_Item = TypeVar("_Item")


class _Unpacked(Sequence[_Item]):
    """A sequence whose items are kept packed and unpacked while looked at; equal to (and
    hashed as) the tuple of its items, so callers can compare it with plain tuples."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (_Unpacked, tuple, list)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))


class FindingList(_Unpacked[Finding]):
    """A run's findings in report order (file, line, column, rule), read from the chunks
    files were checked in: one file's findings are unpacked at a time while iterating.

    Behaves as a read-only sequence (and equals a tuple of the same findings); indexing
    unpacks everything, so renderers iterate.
    """

    __slots__ = ("_chunks", "_dictionary", "_len", "_severities")

    def __init__(self, chunks: Iterable[Chunk], dictionary: bytes = b"") -> None:
        self._dictionary = dictionary
        self._chunks: tuple[Chunk, ...] = tuple(sorted(
            (c for c in chunks if _size(c[1])), key=lambda c: c[0]))
        self._len = sum(_size(found) for _, found in self._chunks)
        counts = [_found_severities(found) for _, found in self._chunks]
        self._severities = tuple(sum(c[i] for c in counts) for i in range(3))

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> FindingList:
        """Loose findings, in any order."""
        ordered = sorted(findings, key=lambda f: f.sort_key)
        return cls((file, tuple(group)) for file, group in groupby(ordered, lambda f: f.file))

    def plus(self, findings: Iterable[Finding]) -> FindingList:
        """These findings and ``findings``."""
        extra = FindingList.of(findings)
        return FindingList((*self._chunks, *extra._chunks), self._dictionary)

    def __iter__(self) -> Iterator[Finding]:
        seen: set[tuple[Any, ...]] = set()
        for _, group in groupby(self._chunks, key=lambda c: c[0]):
            chunks = list(group)
            if len(chunks) == 1 and not isinstance(chunks[0][1], tuple):
                # one packed part (most files): sorted and without duplicates when packed
                yield from chunks[0][1].unpack(self._dictionary)
                continue
            parts = [found if isinstance(found, tuple) else found.unpack(self._dictionary)
                     for _, found in chunks]
            ordered = parts[0] if len(parts) == 1 else heapq.merge(
                *parts, key=lambda f: f.sort_key)
            seen.clear()
            for finding in ordered:
                identity = (*finding.sort_key, finding.severity, finding.category, finding.path)
                if identity not in seen:
                    seen.add(identity)
                    yield finding

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...

    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        return tuple(self)[index]

    def __repr__(self) -> str:
        return f"FindingList({len(self)} findings in {len(self._chunks)} chunks)"

    def severity_count(self, severity: Severity) -> int:
        """How many findings have ``severity``, without unpacking any."""
        return self._severities[_ORDER.index(severity)]


def _size(found: Packed | tuple[Finding, ...]) -> int:
    return len(found) if isinstance(found, tuple) else found.count


_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def _severities(findings: Iterable[Finding]) -> tuple[int, int, int]:
    counts = [0, 0, 0]
    for finding in findings:
        counts[_ORDER.index(finding.severity)] += 1
    return (counts[0], counts[1], counts[2])


def _found_severities(found: Packed | tuple[Finding, ...]) -> tuple[int, int, int]:
    return _severities(found) if isinstance(found, tuple) else found.severities


# ------------------------------------------------- engagement details (html reports only)


class DetailList(_Unpacked["EngagementDetail"]):
    """A run's engagement details in report order (file, engagement id), each unpacked only
    while a renderer looks at it."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[tuple[str, str], PackedDetail]]) -> None:
        self._items = tuple(packed for _, packed in sorted(items, key=lambda i: i[0]))

    def __iter__(self) -> Iterator[EngagementDetail]:
        return (packed.unpack() for packed in self._items)

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> EngagementDetail: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[EngagementDetail]: ...

    def __getitem__(self, index: int | slice) -> EngagementDetail | Sequence[EngagementDetail]:
        if isinstance(index, slice):
            return tuple(packed.unpack() for packed in self._items[index])
        return self._items[index].unpack()

    def __repr__(self) -> str:
        return f"DetailList({len(self)} engagements)"
