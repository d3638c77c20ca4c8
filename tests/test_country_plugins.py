"""Country plugins load alone and can be disabled alone: a disabled country's clients get a
clear reference error, and nothing else changes."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT


def findings_by_file(run_cli, env=None) -> dict[str, list[tuple[str, int, int, str]]]:
    result = run_cli("check", "--format", "json", "--jobs", "1", str(ROOT / "examples"), env=env)
    out: dict[str, list[tuple[str, int, int, str]]] = {}
    for f in json.loads(result.stdout)["findings"]:
        out.setdefault(Path(f["file"]).name, []).append((f["rule"], f["line"], f["column"],
                                                         f["message"]))
    return out


def client_country(path: Path) -> set[str]:
    import yaml

    return {doc["client"]["country"] for doc in yaml.safe_load_all(path.read_text())
            if isinstance(doc, dict) and doc.get("kind") == "Engagement"}


def test_disabling_one_country_removes_exactly_that_country(run_cli):
    before = findings_by_file(run_cli)
    after = findings_by_file(run_cli, env={"KPO_RULES_DISABLE_PLUGINS": "country_de"})
    german = {p.name for p in (ROOT / "examples").rglob("*.yaml") if "DE" in client_country(p)}
    assert german, "the examples include German clients"
    for name in german:
        if any(rule.startswith(("KPO-SCH", "KPO-SYN")) for rule, *_ in before.get(name, [])):
            continue  # never reaches the reference stage
        rules = {rule for rule, *_ in after.get(name, [])}
        assert "KPO-REF-010" in rules, name
        (ref,) = [f for f in after[name] if f[0] == "KPO-REF-010"]
        assert "no loaded country plugin covers the client's country 'DE'" in ref[3]
    others = set(before) | set(after)
    for name in others - german:
        assert before.get(name) == after.get(name), name


def test_each_country_is_its_own_plugin(run_cli):
    data = json.loads(run_cli("plugins", "--format", "json").stdout)
    names = {p["name"] for p in data["plugins"]}
    for code in ("us", "de", "in", "gb", "ph", "ie", "fr", "ca", "au", "pl"):
        assert f"country_{code}" in names
    assert all(p["facts_as_of"] for p in data["plugins"] if p["name"].startswith("country_"))


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    from kpo_rules.cli.check import use_color

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Terminal())
    monkeypatch.delenv("NO_COLOR")
    assert not use_color(object())
