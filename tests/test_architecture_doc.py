"""The architecture page a new contributor reads first names modules that exist, and the
pipeline stages it lists are the public functions of ``kpo_rules.pipeline`` in that order."""

from __future__ import annotations

import re

from conftest import ROOT

from kpo_rules import pipeline

PAGE = ROOT / "docs" / "architecture.md"


def test_every_path_the_architecture_page_names_exists():
    text = PAGE.read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:kpo_rules|plugins|vendor|tests|docs)/[\w./-]*)`", text))
    assert len(paths) > 30
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_the_stages_the_page_lists_are_the_pipeline_in_order():
    text = PAGE.read_text(encoding="utf-8")
    stages = re.findall(r"^\| \w+ \| `(\w+)\(", text, re.M)
    assert stages == ["load_rules", "read", "read_rosters", "check_file", "settle",
                      "build_report"]
    source = (ROOT / "kpo_rules" / "pipeline.py").read_text(encoding="utf-8")
    positions = [source.index(f"\ndef {name}(") for name in stages]
    assert positions == sorted(positions)
    assert all(callable(getattr(pipeline, name)) for name in stages)


def test_the_page_is_in_the_site_navigation():
    assert "architecture.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
