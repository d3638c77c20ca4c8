"""Nothing that ships cites the team's internal contract ("SPEC"): users cannot read it.
Rules cite the law, the regulator or the practice they rest on; the product cites its own
documentation (`kpo-rules docs PAGE`)."""

from __future__ import annotations

import re

from conftest import ROOT

#: What a pip install or the repository's users get.
SHIPPED = ["kpo_rules", "plugins", "schemas", "docs", "examples", "README.md", "mkdocs.yml"]
TEXT = {".py", ".yaml", ".yml", ".json", ".md", ".toml", ".tmpl", ".txt", ".cfg"}
INTERNAL = re.compile(r"\bSPEC\b")


def shipped_files():
    for name in SHIPPED:
        path = ROOT / name
        if path.is_file():
            yield path
            continue
        for file in sorted(path.rglob("*")):
            if file.is_file() and (file.suffix in TEXT or file.name.endswith(".tmpl")) \
                    and "__pycache__" not in file.parts:
                yield file


def test_nothing_shipped_cites_the_internal_contract():
    cited = [f"{file.relative_to(ROOT)}:{number}: {line.strip()[:100]}"
             for file in shipped_files()
             for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1)
             if INTERNAL.search(line)]
    assert not cited, f"{len(cited)} lines cite SPEC:\n" + "\n".join(cited)


def test_the_check_finds_what_it_looks_for(tmp_path):
    assert INTERNAL.search("see SPEC §3") and INTERNAL.search("(SPEC 5)")
    assert not INTERNAL.search("hookspecs and the YAML 1.2 specification")
