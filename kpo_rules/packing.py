"""How one file's findings, and its engagements' detail, are packed until the report:
pickled and compressed (:mod:`kpo_rules.packed` reads them back in report order).

The bytes are made by this process or its own forked workers and never leave memory: no
file, cache or input is ever unpickled here.
"""

from __future__ import annotations

import pickle
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from kpo_rules.model import Finding
from kpo_rules.packed import _severities

if TYPE_CHECKING:
    from kpo_rules.details import EngagementDetail


@dataclass(frozen=True, slots=True)
class Packed:
    """The findings of one part of one file, pickled and compressed: sorted and without
    duplicates (:func:`~kpo_rules.model.sort_findings`), which the report relies on."""

    blob: bytes
    count: int
    #: How many are errors, warnings, infos: counted without unpacking.
    severities: tuple[int, int, int]

    @classmethod
    def of(cls, findings: Sequence[Finding], dictionary: bytes = b"") -> Packed:
        data = pickle.dumps(tuple(findings), protocol=pickle.HIGHEST_PROTOCOL)
        compressor = _primed(dictionary).copy()
        return cls(blob=compressor.compress(data) + compressor.flush(), count=len(findings),
                   severities=_severities(findings))

    def unpack(self, dictionary: bytes = b"") -> tuple[Finding, ...]:
        inflate = zlib.decompressobj(_RAW, zdict=dictionary) if dictionary else \
            zlib.decompressobj(_RAW)
        data = inflate.decompress(self.blob) + inflate.flush()
        findings: tuple[Finding, ...] = pickle.loads(data)  # our own bytes: see above
        return findings


#: Raw deflate: no header and no checksum, which bytes that never leave this process's
#: memory do not need, and which cost the parent a checksum of the 32 KB dictionary for
#: every file it unpacked (4 % of its instructions, measured).
_RAW = -zlib.MAX_WBITS


@lru_cache(maxsize=4)
def _primed(dictionary: bytes) -> zlib._Compress:
    """A compressor that has read ``dictionary``, to be copied for each file: reading a
    32 KB dictionary again for every file cost a third of the compression (measured)."""
    if dictionary:
        return zlib.compressobj(6, zlib.DEFLATED, _RAW, zdict=dictionary)
    return zlib.compressobj(6, zlib.DEFLATED, _RAW)


@dataclass(frozen=True, slots=True)
class PackedDetail:
    """One engagement described for the HTML report, pickled and compressed: about 1 KB
    instead of 11 KB as objects (the week-by-week overlap of every assignee)."""

    blob: bytes

    @classmethod
    def of(cls, detail: EngagementDetail) -> PackedDetail:
        return cls(blob=zlib.compress(pickle.dumps(detail, protocol=pickle.HIGHEST_PROTOCOL)))

    def unpack(self) -> EngagementDetail:
        detail: EngagementDetail = pickle.loads(zlib.decompress(self.blob))  # our own bytes
        return detail
