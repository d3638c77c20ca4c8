"""The user documentation, readable after a plain ``pip install``.

The pages are the Markdown files of ``docs/`` in the repository (built into a site with
MkDocs). A wheel carries them as package data in ``kpo_rules/_docs/``, so ``kpo-rules docs
PAGE`` prints the same text anywhere, offline, and the CLI can point to a page by a name
that works whether kpo-rules came from PyPI or a checkout: ``kpo-rules docs plugins``.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def docs_root() -> Path | None:
    """The folder of the pages: package data in a wheel, ``docs/`` in a checkout."""
    for folder in (_HERE / "_docs", _HERE.parent / "docs"):
        if (folder / "index.md").is_file():
            return folder
    return None


def pages() -> dict[str, Path]:
    """Page name (``getting-started``, ``rules/COM-ELIG-001``) -> file."""
    root = docs_root()
    if root is None:
        return {}
    return {path.relative_to(root).with_suffix("").as_posix(): path
            for path in sorted(root.rglob("*.md"))}


def title(path: Path) -> str:
    """The page's first heading."""
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("# "):
                return line[2:].strip()
    return path.stem
