"""`kpo-rules catalogue`: the shipped ids, read from the plugins' own catalogue files."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import ROOT


def shipped(kind: str) -> list[dict]:
    """The entries of every shipped catalogue document of ``kind``, from the files."""
    out = []
    for path in sorted((ROOT / "plugins").glob("**/catalogue/*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc["kind"] != kind:
                continue
            key = {"TaskCatalogue": "tasks", "FrameworkCatalogue": "frameworks",
                   "CredentialCatalogue": "credentials"}.get(kind)
            out += doc[key] if key else [doc]
    return out


@pytest.mark.parametrize(("section", "kind", "key"), [
    ("tasks", "TaskCatalogue", "id"), ("frameworks", "FrameworkCatalogue", "id"),
    ("credentials", "CredentialCatalogue", "id"), ("countries", "CountryProfile", "country"),
])
def test_each_section_lists_the_shipped_ids_with_names_and_plugins(run_cli, section, kind, key):
    entries = shipped(kind)
    result = run_cli("catalogue", section)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{section} ({len(entries)})"
    listed = [line.split()[0] for line in lines[1:] if line.startswith("  ") and
              not line.startswith("    ")]
    assert listed == sorted(e[key] for e in entries)
    data = json.loads(run_cli("catalogue", section, "--format", "json").stdout)
    assert [e["id"] for e in data[section]] == sorted(e[key] for e in entries)
    names = {e[key]: e.get("name") or e.get("title") for e in entries}
    assert all(e["name"] == names[e["id"]] and e["plugin"] for e in data[section])
    assert data["errors"] == []


def test_tasks_show_framework_degree_and_credentials_per_country(run_cli):
    data = json.loads(run_cli("catalogue", "tasks", "--format", "json").stdout)
    tasks = {t["id"]: t for t in data["tasks"]}
    for task in shipped("TaskCatalogue"):
        listed = tasks[task["id"]]
        assert listed["framework"] == task.get("framework")
        assert listed["degree"] == (task.get("education") and {
            "level": task["education"]["level"], "fields": task["education"].get("fields", [])})
        assert listed["plugin"] == task["id"].split(".")[0]  # finance., legal.
    reserved = {(p["country"], r["task"]): r["credentials"]
                for p in shipped("CountryProfile") for r in p.get("reserved") or ()}
    assert reserved  # the full profiles reserve tasks
    for (country, task), credentials in reserved.items():
        assert tasks[task]["credentials"][country]["credentials"] == credentials
    text = run_cli("catalogue", "tasks").stdout
    country, task = next(iter(reserved))
    block = text.split(f"  {task} ", 1)[1].split("\n  finance.", 1)[0].split("\n  legal.", 1)[0]
    assert f"{country} reserves it to: {', '.join(reserved[country, task])}" in block
    assert "framework: " in block and "degree: " in block


def test_without_a_section_every_section_is_listed(run_cli):
    data = json.loads(run_cli("catalogue", "--format", "json").stdout)
    assert set(data) == {"tasks", "credentials", "frameworks", "countries", "errors"}
    frameworks = {f["id"]: f for f in data["frameworks"]}
    for profile in data["countries"]:
        for framework in profile["frameworks"]:
            assert frameworks[framework]["country"] == profile["id"]
    assert run_cli("catalogue", "nope").exit_code == 2
