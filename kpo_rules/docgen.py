"""Regenerate the generated parts of ``docs/``: one page per rule, the field tables and the
derived fact vocabulary.

``python -m kpo_rules.docgen`` rewrites them in a checkout; ``--check`` only says which
are stale (exit 1), as the test suite does. Rule pages are the text ``kpo-rules rules show
ID`` prints (:mod:`kpo_rules.rule_docs`); field tables come from the JSON Schemas with
examples from the complete example files in ``docs/examples/`` (:mod:`kpo_rules.schema_docs`).
A generated region of a hand-written page sits between ``<!-- generated: NAME -->`` and
``<!-- end: NAME -->``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The ``docs/`` folder of the checkout this runs in: generating is a maintainer's job,
#: done from the repository root whether kpo-rules is installed editable or not.
DOCS = Path("docs")
#: Plugins whose rules get a page: those this distribution ships.
DISTRIBUTION = "kpo-rules"


def shipped_rule_pages() -> dict[str, str]:
    """``rules/ID.md`` -> page, for the core's rules and the shipped plugins' rules."""
    from kpo_rules.content import load_content  # noqa: PLC0415
    from kpo_rules.core_rules import CORE_RULES  # noqa: PLC0415
    from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415
    from kpo_rules.rule_docs import core_rule_page, plugin_rule_page  # noqa: PLC0415

    plugins = create_plugin_set()
    ours = {info.name for info in plugins.infos if info.distribution == DISTRIBUTION}
    rules = [r for r in load_content(plugins).rules.rules if r.plugin in ours]
    pages = {f"rules/{rule.id}.md": core_rule_page(rule) for rule in CORE_RULES}
    pages |= {f"rules/{rule.id}.md": plugin_rule_page(rule) for rule in rules}
    pages["rules/index.md"] = _rule_index(
        [(r.id, r.title, r.severity.value, r.category, "core") for r in CORE_RULES]
        + [(r.id, r.title, r.severity.value, r.category, r.plugin) for r in rules])
    return pages


def _rule_index(rows: list[tuple[str, str, str, str, str]]) -> str:
    out = ["# Rules", "",
           "Every rule kpo-rules ships, by plugin. `kpo-rules rules show ID` prints the same "
           "page in a terminal, for the rules of any installed plugin; `kpo-rules rules list` "
           "lists them.", ""]
    plugins = sorted({row[4] for row in rows}, key=lambda p: (p != "core", p))
    for plugin in plugins:
        heading = "The core" if plugin == "core" else f"Plugin `{plugin}`"
        out += [f"## {heading}", "", "| Rule | Title | Severity | Category |",
                "|---|---|---|---|"]
        out += [f"| [{rid}]({rid}.md) | {title} | {severity} | {category} |"
                for rid, title, severity, category, owner in sorted(rows) if owner == plugin]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- regions


def _document(docs: Path, name: str) -> object:
    from kpo_rules.load.yaml12 import parse_yaml  # noqa: PLC0415

    path = docs / "examples" / name
    return parse_yaml(path.read_bytes(), str(path))[0].data


def _fields(schema_name: str, example: str) -> Callable[[Path], str]:
    def make(docs: Path) -> str:
        from kpo_rules.schema_docs import field_table  # noqa: PLC0415
        from kpo_rules.schemas import get_schema  # noqa: PLC0415

        try:
            return field_table(get_schema(schema_name), _document(docs, example))
        except LookupError as exc:
            raise SystemExit(f"docs/examples/{example} has no example of: {exc}; add one") \
                from None

    return make


def _config_fields(docs: Path) -> str:
    from kpo_rules.config import config_schema  # noqa: PLC0415
    from kpo_rules.schema_docs import field_table  # noqa: PLC0415

    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover - the oldest supported Python
        import tomli as tomllib  # noqa: PLC0415

    example = tomllib.loads((docs / "examples" / "kpo-rules.toml").read_text(encoding="utf-8"))
    try:
        return field_table(config_schema(""), example)
    except LookupError as exc:
        raise SystemExit(f"docs/examples/kpo-rules.toml has no example of: {exc}; add one") \
            from None


def _example(name: str, language: str) -> Callable[[Path], str]:
    def make(docs: Path) -> str:
        text = (docs / "examples" / name).read_text(encoding="utf-8")
        return f"```{language}\n{text.rstrip()}\n```\n"

    return make


def derived_facts(docs: Path) -> str:
    """The fact types the shipped plugins' derivations assert: fields, derivations, meaning
    (from the plugins, not from ``docs``)."""
    from kpo_rules.content import load_content  # noqa: PLC0415
    from kpo_rules.plugins import create_plugin_set  # noqa: PLC0415

    plugins = create_plugin_set()
    ours = {info.name for info in plugins.infos if info.distribution == DISTRIBUTION}
    by_type: dict[str, list[Any]] = {}
    for derivation in load_content(plugins).rules.derivations:
        if derivation.plugin in ours:
            by_type.setdefault(derivation.fact, []).append(derivation)
    out = []
    for fact, derivations in sorted(by_type.items()):
        fields = sorted({name for d in derivations for name in d.fields})
        plugin = derivations[0].plugin
        out.append(f"- **`{fact}`** (plugin `{plugin}`): "
                   + ", ".join(f"`{name}`" for name in fields))
        out += [f"    - `{d.id}`: {' '.join(d.description.split())}" for d in derivations]
    return "\n".join(out) + "\n"


#: page -> region name -> what the region holds
REGIONS: dict[str, dict[str, Callable[[Path], str]]] = {
    "rule-files.md": {"derived facts": derived_facts},
    "engagement-file.md": {
        "engagement example": _example("engagement.yaml", "yaml"),
        "engagement fields": _fields("engagement", "engagement.yaml"),
        "roster example": _example("roster.yaml", "yaml"),
        "roster fields": _fields("roster", "roster.yaml"),
    },
    "configuration.md": {
        "config example": _example("kpo-rules.toml", "toml"),
        "config fields": _config_fields,
    },
}


def fill_regions(text: str, regions: dict[str, Callable[[Path], str]], docs: Path) -> str:
    for name, make in regions.items():
        pattern = re.compile(rf"(<!-- generated: {re.escape(name)} -->\n).*?(<!-- end: "
                             rf"{re.escape(name)} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"no region '<!-- generated: {name} -->' to fill")
        content = make(docs)

        def fill(match: re.Match[str], content: str = content) -> str:
            return match.group(1) + content + match.group(2)

        text = pattern.sub(fill, text)
    return text


def expected_files(docs: Path = DOCS) -> dict[Path, str]:
    """Every generated file and every page with generated regions, as they should be."""
    files = {docs / name: text for name, text in shipped_rule_pages().items()}
    for page, regions in REGIONS.items():
        path = docs / page
        files[path] = fill_regions(path.read_text(encoding="utf-8"), regions, docs)
    return files


def stale(docs: Path = DOCS) -> list[Path]:
    """Generated files that differ from what the code and data say, and stray rule pages."""
    files = expected_files(docs)
    out = [path for path, text in files.items()
           if not path.is_file() or path.read_text(encoding="utf-8") != text]
    out += [path for path in sorted((docs / "rules").glob("*.md")) if path not in files]
    return out


def write(docs: Path = DOCS) -> list[Path]:
    files = expected_files(docs)
    written = []
    for path, text in files.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for path in sorted((docs / "rules").glob("*.md")):
        if path not in files:  # the page of a rule that no longer exists
            path.unlink()
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not (DOCS / "examples").is_dir():
        print("kpo_rules.docgen: no docs/examples/ here; run it from the repository root",
              file=sys.stderr)
        return 2
    if args == ["--check"]:
        paths = stale()
        for path in paths:
            print(f"stale: {path}")
        if paths:
            print("run `python -m kpo_rules.docgen` to regenerate")
        return 1 if paths else 0
    if args:
        print("usage: python -m kpo_rules.docgen [--check]", file=sys.stderr)
        return 2
    for path in write():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
