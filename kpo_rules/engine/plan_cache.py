"""An on-disk cache of compiled rule sets, so a cold ``kpo-rules check`` only registers
the rule set with durable instead of compiling every rule again.

The key covers what a plan is made of: the rule book's digest (every rule and
derivation), the kpo-rules and Python versions, and the modification time and size of
kpo-rules' own modules and of durable's extension, so an edited compiler never gets a
stale plan. Entries are kept as :mod:`kpo_rules.disk_cache` keeps them, one per
environment: another rule book replaces the entry rather than adding one.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable

from kpo_rules._version import __version__
from kpo_rules.cache_codec import Codec
from kpo_rules.engine.durable import _engine
from kpo_rules.engine.durable.derive import Copy, Derive
from kpo_rules.engine.durable.plan import RulesetPlan

_FORMAT = 2  # 2: JSON entries
CODEC = Codec([RulesetPlan, Derive, Copy])


def _sources() -> tuple[object, ...]:
    """The stamps of kpo-rules' modules and of durable's extension."""
    from kpo_rules import disk_cache  # noqa: PLC0415 - not for a shipped plan
    from kpo_rules.source_stamp import source_stamp  # noqa: PLC0415

    return (disk_cache.stamp(_engine.__file__), *source_stamp())


def plan_key(digest: str) -> str:
    """Everything a cached plan must match, compared in full when it is read."""
    return repr((_FORMAT, __version__, sys.version, digest, _sources()))


def cached_plan(digest: str, build: Callable[[], RulesetPlan]) -> RulesetPlan:
    """The plan of the rule book with ``digest``: shipped with the package, from the
    cache, or from ``build``."""
    from kpo_rules import shipped_content  # noqa: PLC0415

    shipped = shipped_content.plan(digest)
    if isinstance(shipped, RulesetPlan):
        return shipped
    from kpo_rules import disk_cache  # noqa: PLC0415 - not for a shipped plan

    if disk_cache.cache_dir() is None:
        return build()
    key = plan_key(digest)
    name = f"plan-{zlib.crc32(repr((sys.prefix, __file__)).encode()):08x}.json"
    found = disk_cache.read(name, key, CODEC)
    if isinstance(found, RulesetPlan):
        return found
    plan = build()
    disk_cache.write(name, key, plan, CODEC)
    return plan
