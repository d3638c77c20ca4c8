"""Plugin content built with the package, so that the first check on a fresh machine reads
no plugin YAML and compiles no rule.

Building kpo-rules (``setup.py``, when a wheel is made) loads the distribution's own
plugins as a check loads installed ones, and writes their content and compiled rule set
into the package as ``_shipped_content.json``. Like a ``.pyc`` checked by hash, it is used
only for the very plugin set it was built from: the same plugins (names, distributions,
versions), the same size and CRC-32 of every plugin module and data file, and the same
kpo-rules version. Another plugin installed, one disabled, an edited file, a damaged or
truncated entry: each is a miss, and the content is read as usual (then kept in the
per-user cache, :mod:`kpo_rules.content_cache`).

It is data only (JSON read by :mod:`kpo_rules.cache_codec`), never written at run time,
and it lives beside the code it was built with, trusted no more than that code: whoever
can change it can change the code. So, as in a zip archive, a size and a CRC-32 detect an
edit or damage by accident; SHA-256 (as the per-user cache, which others might plant
entries in, uses) would cost 10 % of a one-file check here, measured. The content records
where each rule was defined; the build's paths are replaced by the installed files'
paths when it is read. kpo-rules' own modules are not in the key: they are the build's by
construction (an editable install, where they change, ships nothing); an installed copy
edited in place is not noticed, and needs a reinstall.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kpo_rules._version import __version__

FILE_NAME = "_shipped_content.json"
_MAGIC = b"kpo-rules-shipped-content 1 "  # then the size and CRC-32 of the rest
_FORMAT = 1
#: The entry is a few hundred kilobytes; anything far larger is not ours.
_MAX_BYTES = 32 * 1024 * 1024

#: (entry-point name, distribution, version, plugin module, data files) of one plugin.
Described = tuple[str, "str | None", "str | None", Any, Sequence[Any]]

#: Compiled rule sets of the shipped content read in this process, by rule-book digest.
_plans: dict[str, bytes] = {}


def shipped_file() -> Path:
    return Path(__file__).with_name(FILE_NAME)


def key_of(plugins: Iterable[Described]) -> str | None:
    """What the shipped content must have been built from, or None when a plugin has no
    distribution (registered in-process) or a file cannot be read."""
    def digest(data: bytes) -> str:
        return f"{len(data)}:{zlib.crc32(data):08x}"

    parts: list[Any] = [_FORMAT, __version__]
    try:
        for name, dist, version, module, files in sorted(plugins, key=lambda p: p[0]):
            if dist is None:
                return None
            source = getattr(module, "__file__", None)
            parts.append([name, dist, version,
                          digest(Path(source).read_bytes()) if source else None,
                          [digest(file.read_bytes()) for file in files]])
    except OSError:
        return None
    return json.dumps(parts)


def book_digest(key: str) -> str:
    """The digest of the shipped rule book: it names the compiled rule set too."""
    import hashlib  # noqa: PLC0415 - at build time

    return hashlib.sha256(b"shipped " + key.encode()).hexdigest()


def load(plugins: Sequence[Described], path: Path | None = None) -> Any | None:
    """The shipped :class:`~kpo_rules.content.Content` of exactly ``plugins``, else None."""
    path = path or shipped_file()
    if not path.is_file():  # a checkout or an editable install: nothing was built
        return None
    key = key_of(plugins)
    if key is None:
        return None
    parts = _read(path)
    if parts is None or len(parts) != 5 or parts[0] != json.dumps(key).encode():
        return None
    _, stored_paths, digest, plan, content = parts
    try:
        built = json.loads(stored_paths)
        here = _paths(plugins)
        if not isinstance(built, list) or len(built) != len(here):
            return None
        moved = {old: new for old, new in zip(built, here, strict=True) if old != new}
        loaded = _codec().loads(content, files=moved)
        named = digest.decode("ascii")
    except (ValueError, TypeError, RecursionError):  # not what the build wrote: a miss
        return None
    from kpo_rules.content import Content  # noqa: PLC0415 - content imports this module

    if not isinstance(loaded, Content) or loaded.rules.digest != named:
        return None
    _plans[loaded.rules.digest] = plan
    return loaded


def plan(digest: str) -> Any | None:
    """The compiled rule set shipped with the rule book ``digest``, if one was read."""
    text = _plans.get(digest)
    if text is None:
        return None
    from kpo_rules.engine.plan_cache import CODEC  # noqa: PLC0415

    try:
        return CODEC.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None


def write(path: Path, plugins: Sequence[Described], content: Any, plan_value: Any) -> None:
    """Write the shipped content of ``plugins`` (the build step)."""
    from kpo_rules.engine.plan_cache import CODEC  # noqa: PLC0415

    key = key_of(plugins)
    if key is None:
        raise ValueError("only installed plugins whose files can be read are shipped")
    paths = _paths(plugins)
    # The content last: it ends with lines of its own (the examples, read later).
    body = b"\n".join([json.dumps(key).encode(), json.dumps(paths).encode(),
                       content.rules.digest.encode(), CODEC.dumps(plan_value),
                       _codec().dumps(content)])
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_bytes(_MAGIC + _check_value(body) + b"\n" + body)
    os.replace(partial, path)


def _read(path: Path) -> list[bytes] | None:
    """Key, paths, digest, plan and content, if the header's check value matches."""
    try:
        with path.open("rb") as entry:
            data = entry.read(_MAX_BYTES + 1)
    except OSError:
        return None
    header, _, body = data.partition(b"\n")
    if len(data) > _MAX_BYTES or header != _MAGIC + _check_value(body):
        return None
    return body.split(b"\n", 4)


def _paths(plugins: Sequence[Described]) -> list[str]:
    """Every data file's path, in the order the key lists them: how the build's paths are
    matched with the installed ones."""
    return [str(file) for *_, files in sorted(plugins, key=lambda p: p[0]) for file in files]


def _check_value(body: bytes) -> bytes:
    return f"{len(body)}:{zlib.crc32(body):08x}".encode()


def _codec() -> Any:
    from kpo_rules.content import content_codec  # noqa: PLC0415 - content imports this module

    return content_codec()


def main(argv: Sequence[str] | None = None) -> int:
    """The build step: ``python -m kpo_rules.shipped_content OUT DIST VERSION
    ENTRY_POINTS_TXT`` loads the plugins named in the ``[kpo_rules]`` section of
    ``ENTRY_POINTS_TXT`` as distribution ``DIST`` ``VERSION`` and writes their content to
    ``OUT``. Exits 1 naming the problem when a plugin fails to load."""
    out, dist, version, points_file = argv if argv is not None else sys.argv[1:]
    from kpo_rules.content import load_for_shipping  # noqa: PLC0415
    from kpo_rules.entry_points import EntryPoint, section  # noqa: PLC0415
    from kpo_rules.plugins import ENTRY_POINT_GROUP, create_plugin_set  # noqa: PLC0415

    points = [EntryPoint(name, value, dist, version) for name, value in
              section(Path(points_file).read_text(encoding="utf-8"), ENTRY_POINT_GROUP)]
    plugins = create_plugin_set(installed=sorted(points, key=lambda p: p.name))
    shipped = load_for_shipping(plugins)
    problems = [f.error for f in plugins.failures]
    if shipped is None:
        problems.append("a plugin has no distribution or a file that cannot be read")
    else:
        problems += [f.error for f in shipped[0].failures]
    if problems or shipped is None:
        for problem in problems:
            sys.stderr.write(f"kpo-rules: not shipping plugin content: {problem}\n")
        return 1
    content, described, plan_value = shipped
    write(Path(out), described, content, plan_value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
