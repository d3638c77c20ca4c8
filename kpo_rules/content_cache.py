"""An on-disk cache of loaded plugin content, so a cold ``kpo-rules check`` skips reading,
validating and compiling every plugin's catalogue and rule files.

The key covers everything the content is made of: the kpo-rules and Python versions, the
stamps of kpo-rules' own modules (an edited loader in a checkout is never served stale
content), and for each plugin its name, distribution and version, the modification time
and size of its module file and of every data file it returns, and whether catalogue ids were
checked (not while plugins are disabled, see :func:`kpo_rules.content._compile`: content read
so must not serve a run that checks them). Only fully installed plugin
sets are cached (an in-process plugin has no stable identity), and content with load
failures never is, so an error is always reported afresh. Entries are kept as
:mod:`kpo_rules.disk_cache` keeps them, one per environment and plugin set: a changed file
replaces the entry rather than adding one.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from kpo_rules import disk_cache
from kpo_rules._version import __version__
from kpo_rules.content import content_codec
from kpo_rules.source_stamp import source_stamp

_FORMAT = 5  # 5: examples read later (4: JSON entries; 3: the full key is stored)


class ContentKey(NamedTuple):
    """The entry a plugin set's content is kept in, and the key it must match."""

    entry: str  # from the environment and the plugins' names: a changed file replaces it
    text: str  # everything the content is made of, compared exactly


def content_key(plugins: Iterable[tuple[str, str | None, str | None, Any, Sequence[Any]]],
                *, ids_checked: bool = True) -> ContentKey | None:
    """A key for (name, distribution, version, module, data files) of every plugin, and
    whether catalogue ids were checked (not when plugins are disabled: the content of
    the same plugins read with the check on may hold failures, and is read afresh).

    None when a plugin has no distribution (registered in-process), or when a file it is
    made of has no modification time and size to compare (a plugin installed as a zip
    archive: its files could change unseen): not cacheable.
    """
    parts: list[Any] = [_FORMAT, __version__, sys.version, source_stamp(), ids_checked]
    for name, dist, version, module, files in sorted(plugins, key=lambda p: p[0]):
        if dist is None:
            return None
        module_file = getattr(module, "__file__", None)  # None: a namespace package
        stamps = [disk_cache.stamp(f) for f in files]
        if module_file is not None:
            stamps.append(disk_cache.stamp(module_file))
        if any(size < 0 for _, _, size in stamps):
            return None
        parts.append((name, dist, version, stamps))
    identity = repr((sys.prefix, __file__, ids_checked, [part[:2] for part in parts[5:]]))
    return ContentKey(f"content-{zlib.crc32(identity.encode()):08x}.json", repr(parts))


def digest(key: ContentKey) -> str:
    """The digest of the rule book read from ``key``'s files. The key names everything the
    book is made of, so hashing it spares hashing the book (7 ms of a cold start, measured),
    and one book gets one compiled plan whether or not it came from the cache."""
    import hashlib  # noqa: PLC0415 - OpenSSL's start-up: only when rules are read

    return hashlib.sha256(key.text.encode()).hexdigest()


def load(key: ContentKey) -> Any | None:
    return disk_cache.read(key.entry, key.text, content_codec())


def store(key: ContentKey, content: Any) -> None:
    disk_cache.write(key.entry, key.text, content, content_codec())
