"""The on-disk cache of compiled rule sets: the same rule book compiles once across
processes; a changed book or engine module compiles afresh; a broken cache is a miss."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpo_rules.content import load_content
from kpo_rules.engine import evaluate, plan_cache
from kpo_rules.engine.evaluate import Evaluator
from kpo_rules.load.yaml12 import parse_yaml
from kpo_rules.plugins import create_plugin_set
from kpo_rules.references import resolve

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def book(tmp_path, monkeypatch):
    monkeypatch.setenv("KPO_RULES_CACHE_DIR", str(tmp_path))
    return load_content(create_plugin_set()).rules


def test_a_cached_plan_is_used_and_judges_alike(book, tmp_path, monkeypatch):
    first = Evaluator(book, "plan_cache_a", digest=book.digest)
    assert not list(tmp_path.glob("plan-*.json"))  # the first miss leaves only a note
    Evaluator(book, "plan_cache_a", digest=book.digest)
    (cached,) = tmp_path.glob("plan-*.json")

    def no_compiling(*args, **kwargs):
        raise AssertionError("the cached plan should have been used")

    monkeypatch.setattr(evaluate, "compile_plan", no_compiling)
    second = Evaluator(book, "plan_cache_a", digest=book.digest)
    assert second._runner is not None and first._runner is not None
    assert second._runner._plan == first._runner._plan
    assert cached.exists()
    content = load_content(create_plugin_set())
    text = (ROOT / "examples" / "finance" / "de-bookkeeping-pune.yaml").read_text()
    (engagement,), _ = resolve([parse_yaml(text, "e.yaml")[0]], [])
    findings = first.evaluate(engagement, content.catalogue)
    assert findings and second.evaluate(engagement, content.catalogue) == findings


def test_a_changed_engine_module_or_book_compiles_afresh(book, tmp_path, monkeypatch):
    for _ in range(2):
        Evaluator(book, "plan_cache_b", digest=book.digest)
    key = plan_cache.plan_key(book.digest)
    assert plan_cache.plan_key("another book") != key
    stamps = plan_cache._sources()
    edited = [(stamps[1][0], stamps[1][1] + 1, stamps[1][2]), *stamps[2:]]
    monkeypatch.setattr(plan_cache, "_sources", lambda: (stamps[0], *edited))
    assert plan_cache.plan_key(book.digest) != key
    calls = []
    real = evaluate.compile_plan
    monkeypatch.setattr(evaluate, "compile_plan", lambda *a, **k: calls.append(1) or real(*a, **k))
    for _ in range(3):
        Evaluator(book, "plan_cache_b", digest=book.digest)
    assert calls == [1, 1]  # compiled afresh, and stored in place of the stale entry
    assert len(list(tmp_path.glob("plan-*.json"))) == 1


def test_a_broken_or_disabled_cache_is_a_miss(book, tmp_path, monkeypatch):
    for _ in range(2):
        Evaluator(book, "plan_cache_c", digest=book.digest)
    (cached,) = tmp_path.glob("plan-*.json")
    cached.write_bytes(b"not an entry")
    evaluator = Evaluator(book, "plan_cache_c", digest=book.digest)
    assert evaluator._runner is not None
    for leftover in tmp_path.glob("plan-*"):
        leftover.unlink()
    monkeypatch.setenv("KPO_RULES_NO_CACHE", "1")
    for _ in range(2):
        Evaluator(book, "plan_cache_c", digest=book.digest)
    assert not list(tmp_path.glob("plan-*"))
