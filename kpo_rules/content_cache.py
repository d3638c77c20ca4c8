"""An on-disk cache of loaded plugin content, so a cold ``kpo-rules check`` skips re-reading
every plugin's catalogue and rule files (two thirds of its start-up, measured).

The key covers everything the content is made of: the kpo-rules and Python versions, the
stamps of kpo-rules' own modules (an edited loader in a checkout is never served stale
content), and for each plugin its name, distribution and version, the modification time
and size of its module file and of every data file it returns. Only fully installed plugin
sets are cached (an in-process plugin has no stable identity), and content with load
failures never is, so an error is always reported afresh. ``KPO_RULES_NO_CACHE=1`` turns
the cache off; ``KPO_RULES_CACHE_DIR`` moves it (default: ``$XDG_CACHE_HOME/kpo-rules``).
A cache that cannot be read or written is ignored, never an error.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterable
from typing import Any

from kpo_rules import disk_cache
from kpo_rules._version import __version__
from kpo_rules.source_stamp import source_stamp

_FORMAT = 3  # 2: the rule model lost __slots__; 3: the full key is stored and compared


def content_key(plugins: Iterable[tuple[str, str | None, str | None, Any, list[Any]]]
                ) -> str | None:
    """A key for (name, distribution, version, module, data files) of every plugin.

    The key is the whole description, compared exactly on load (no hash to trust, and no
    hashlib to import: OpenSSL's start-up alone costs 2 ms). None when a plugin has no
    distribution (registered in-process): not cacheable.
    """
    parts: list[Any] = [_FORMAT, __version__, sys.version, source_stamp()]
    for name, dist, version, module, files in sorted(plugins, key=lambda p: p[0]):
        if dist is None:
            return None
        parts.append((name, dist, version, disk_cache.stamp(getattr(module, "__file__", None)),
                      [disk_cache.stamp(f) for f in files]))
    return repr(parts)


def _name(key: str) -> str:
    # The name only spreads keys over files; the key stored inside decides a hit.
    return f"content-{zlib.crc32(key.encode()):08x}.pickle"


def load(key: str) -> Any | None:
    return disk_cache.read(_name(key), key)


def store(key: str, content: Any) -> None:
    disk_cache.write(_name(key), key, content)
