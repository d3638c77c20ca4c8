"""kpo_rules.engine.durable: durable-rules behind a wrapper that hides its pitfalls."""

from __future__ import annotations

import copy
import gc
import itertools
import json
import multiprocessing
import random
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from kpo_rules.engine.durable import (
    ActionFailure,
    Copy,
    Derive,
    DurableRunner,
    SessionResult,
    _engine,
    compile_plan,
    strata,
)
from kpo_rules.engine.durable import session as durable_session
from kpo_rules.engine.durable.fact_records import _fact_problem, _fnv1a
from kpo_rules.engine.durable.rules import _compile_rule
from kpo_rules.engine.durable.strata import _negation_cycle, _stages

ROOT = Path(__file__).resolve().parent.parent


def runner_of(name: str, rules: dict, recipes: dict | None = None) -> DurableRunner:
    """A runner as kpo-rules builds one: a compiled plan, with recipes for derivations."""
    return DurableRunner(compile_plan(name, rules, recipes=recipes))


def rounds_of(name: str, rules: dict, recipes: dict) -> DurableRunner:
    """The same rule set evaluated in rounds until the derived facts settle, the way a
    cycle through negation is: the reference a stratified pass must agree with."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(strata, "_negation_cycle", lambda infos, declared: ("forced",))
        runner = runner_of(name, rules, recipes)
    assert not runner.stratified
    return runner


def fired(result: SessionResult) -> list[tuple[str, dict]]:
    """(rule, {alias: name-or-type}) per firing, for readable assertions."""
    return [
        (f.rule, {a: fact.get("name", fact.get("t")) for a, fact in f.bindings.items()})
        for f in result.firings
    ]


def rules_fired(result: SessionResult) -> set[str]:
    return {f.rule for f in result.firings}


def staff(name, **fields):
    return {"t": "staff", "id": f"staff:{name}", "name": name, **fields}


CLIENT_DE = {"t": "client", "id": "client:acme", "name": "acme", "country": "DE"}
ANN = staff(
    "ann",
    grade="senior",
    rate=90,
    country="US",
    tz="America/New_York",
    langs=[{"lang": "de", "level": "B2"}],
    quals=["CPA"],
)
BOB = staff(
    "bob", grade="junior", rate=50, country="DE", langs=[{"lang": "en", "level": "C2"}], quals=[]
)
CY = staff(
    "cy",
    grade="senior",
    rate=150,
    country="DE",
    tz="Europe/Berlin",
    langs=[{"lang": "de", "level": "C1"}],
    quals=["ACCA"],
)
TASK = {"t": "task", "id": "task:audit", "name": "audit", "requires": "StB"}
FACTS = [CLIENT_DE, ANN, BOB, CY, TASK]

GERMAN_C1 = {"$iany": {"langs": {"$and": [{"$i.lang": "de"}, {"$i.level": "C1"}]}}}
RULES = {
    "rate_floor": {
        "all": [{"st": {"$and": [{"t": "staff"}, {"grade": "senior"}, {"$lt": {"rate": 100}}]}}]
    },
    "rate_ceiling": {"all": [{"st": {"$and": [{"t": "staff"}, {"$gte": {"rate": 150}}]}}]},
    "tz_america": {"all": [{"st": {"$and": [{"t": "staff"}, {"$mt": {"tz": "America/.*"}}]}}]},
    "no_tz": {"all": [{"st": {"$and": [{"t": "staff"}, {"$nex": {"tz": 1}}]}}]},
    "german_c1": {"all": [{"st": {"$and": [{"t": "staff"}, GERMAN_C1]}}]},
    "foreign_staff": {
        "all": [
            {"cl": {"t": "client"}},
            {"st": {"$and": [{"t": "staff"}, {"$neq": {"country": {"cl": "country"}}}]}},
        ]
    },
    "no_german_speaker": {
        "all": [
            {"cl": {"$and": [{"t": "client"}, {"country": "DE"}]}},
            {"nobody$not": {"$and": [{"t": "staff"}, GERMAN_C1]}},
        ]
    },
    "task_unqualified": {
        "all": [
            {"tk": {"t": "task"}},
            {"q$not": {"$and": [{"t": "staff"}, {"$iany": {"quals": {"$i": "StB"}}}]}},
        ]
    },
}


@pytest.fixture(scope="module")
def runner():
    return runner_of("test_checks", RULES)


# --------------------------------------------------------------------------- matching


def test_field_comparisons(runner):
    result = runner.run(FACTS)
    got = fired(result)
    assert ("rate_floor", {"st": "ann"}) in got
    assert ("rate_ceiling", {"st": "cy"}) in got
    assert ("tz_america", {"st": "ann"}) in got
    assert ("no_tz", {"st": "bob"}) in got
    assert {r for r, b in got if b.get("st") == "bob"} == {"no_tz"}


def test_iany_on_an_array_of_objects(runner):
    assert [b for r, b in fired(runner.run(FACTS)) if r == "german_c1"] == [{"st": "cy"}]


def test_join_between_facts(runner):
    got = [b for r, b in fired(runner.run(FACTS)) if r == "foreign_staff"]
    assert got == [{"cl": "acme", "st": "ann"}]


def test_bindings_are_the_facts_as_given(runner):
    (firing,) = [f for f in runner.run(FACTS).firings if f.rule == "foreign_staff"]
    assert firing.bindings == {"cl": CLIENT_DE, "st": ANN}  # no sid, no sentinel


def test_negation_is_independent_of_fact_order(runner):
    baseline = runner.run(FACTS)
    assert "no_german_speaker" not in rules_fired(baseline)  # cy speaks German at C1
    assert "task_unqualified" in rules_fired(baseline)
    assert "foreign_staff" in rules_fired(baseline)
    rnd = random.Random(7)
    for _ in range(20):
        shuffled = FACTS[:]
        rnd.shuffle(shuffled)
        assert runner.run(shuffled) == baseline, [f["name"] for f in shuffled]
    without_cy = [f for f in FACTS if f is not CY]
    for order in (without_cy, without_cy[::-1]):
        assert "no_german_speaker" in rules_fired(runner.run(order))


def test_unicode_literals_match(runner):
    umlaut = runner_of("test_unicode", {"m": {"all": [{"c": {"city": "München"}}]}})
    assert fired(umlaut.run([{"city": "München", "name": "x"}])) == [("m", {"c": "x"})]


def test_firings_are_deduplicated_and_sorted():
    runner = runner_of(
        "test_sorted",
        {"b": {"all": [{"m": {"t": "x"}}]}, "a": {"all": [{"m": {"t": "x"}}]}},
    )
    # two identical facts without ids: two durable facts, one firing per rule
    result = runner.run([{"t": "x", "v": 2}, {"t": "x", "v": 1}, {"t": "x", "v": 2}])
    keys = [(f.rule, json.dumps(f.bindings, sort_keys=True)) for f in result.firings]
    assert keys == sorted(set(keys))
    assert [(f.rule, f.bindings["m"]["v"]) for f in result.firings] == [
        ("a", 1),
        ("a", 2),
        ("b", 1),
        ("b", 2),
    ]


# durable-rules 2.0.28 evaluates the conditions of a pattern that reads another fact as one
# sequence with defects (conditions after a nested group skipped, literals inside such a
# group ignored, out-of-bounds reads when the last condition is false). The runner
# rearranges such patterns; these tests compare random conditions against Python.

_BITS = ("f0", "f1", "f2", "f3")


def _leaf(rnd, join):
    name = rnd.choice(_BITS)
    op = rnd.choice(("eq", "neq", "lt", "gte"))
    value = {"cl": "one"} if join else 1
    fn = {
        "eq": lambda x, n=name: x[n] == 1,
        "neq": lambda x, n=name: x[n] != 1,
        "lt": lambda x, n=name: x[n] < 1,
        "gte": lambda x, n=name: x[n] >= 1,
    }[op]
    return ({name: value} if op == "eq" else {f"${op}": {name: value}}), fn


def _local(rnd, depth):
    if depth == 0 or rnd.random() < 0.35:
        return _leaf(rnd, join=False)
    op = rnd.choice(("$and", "$or"))
    kids = [_local(rnd, depth - 1) for _ in range(rnd.randint(2, 3))]
    fns = [fn for _, fn in kids]
    combine = all if op == "$and" else any
    return {op: [expr for expr, _ in kids]}, lambda x, f=fns, c=combine: c(g(x) for g in f)


def _random_pattern(rnd):
    """A $and of join leaves and nested local conditions, in random order."""
    parts = [_leaf(rnd, join=True) for _ in range(rnd.randint(1, 3))]
    parts += [_local(rnd, 2) for _ in range(rnd.randint(0, 3))]
    rnd.shuffle(parts)
    fns = [fn for _, fn in parts]
    return {"$and": [{"t": "x"}, *[expr for expr, _ in parts]]}, lambda x: all(g(x) for g in fns)


def test_join_patterns_evaluate_like_python():
    rnd = random.Random(2024)
    rows = [dict(zip(_BITS, bits, strict=True)) for bits in itertools.product((0, 1), repeat=4)]
    facts = [{"t": "client", "id": "c", "one": 1}]
    facts += [{"t": "x", "id": f"x{k}", **row} for k, row in enumerate(rows)]
    for _ in range(6):
        truth = {}
        rules = {}
        for i in range(12):
            expr, fn = _random_pattern(rnd)
            rules[f"r{i}"] = {"all": [{"cl": {"t": "client"}}, {"m": expr}]}
            truth[f"r{i}"] = {f"x{k}" for k, row in enumerate(rows) if fn(row)}
        runner = runner_of("test_logic", rules)
        got = {name: set() for name in rules}
        for firing in runner.run(facts).firings:
            got[firing.rule].add(firing.bindings["m"]["id"])
        runner.close()
        wrong = {name: rules[name] for name in rules if got[name] != truth[name]}
        assert not wrong


def test_literal_groups_next_to_a_join():
    # raw durable-rules fires this for b=1, c=0: the join after the $or is skipped
    runner = runner_of(
        "test_in_join",
        {
            "r": {
                "all": [
                    {"cl": {"t": "client"}},
                    {
                        "m": {
                            "$and": [{"t": "x"}, {"$or": [{"a": 1}, {"b": 1}]}, {"c": {"cl": "k"}}]
                        }
                    },
                ]
            }
        },
    )
    client = {"t": "client", "k": 1}
    assert runner.run([client, {"t": "x", "a": 0, "b": 1, "c": 0}]).firings == ()
    assert rules_fired(runner.run([client, {"t": "x", "a": 0, "b": 1, "c": 1}])) == {"r"}


def test_iany_with_an_and_of_item_conditions():
    item = {"$and": [{"$i.a": 1}, {"$and": [{"$i.b": 1}]}]}  # nested $and is flattened
    pattern = {"m": {"$and": [{"t": "x"}, {"$iany": {"items": item}}]}}
    runner = runner_of("test_iany_and", {"r": {"all": [pattern]}})
    items = [{"a": 1, "b": 0}, {"a": 0, "b": 1}]
    assert runner.run([{"t": "x", "items": items}]).firings == ()
    assert rules_fired(runner.run([{"t": "x", "items": [*items, {"a": 1, "b": 1}]}])) == {"r"}


@pytest.mark.parametrize("op", ["$neq", "$lt"])
def test_joins_on_fields_a_fact_lacks(op):
    # durable aborts the whole session (error 311) when the other fact lacks the field;
    # the runner makes such a comparison false, as durable does for missing fields
    rules = {
        "pos": {
            "all": [
                {"cl": {"t": "client"}},
                {"st": {"$and": [{"t": "staff"}, {op: {"rate": {"cl": "cap"}}}]}},
            ]
        },
        "neg": {
            "all": [
                {"cl": {"t": "client"}},
                {"x$not": {"$and": [{"t": "staff"}, {op: {"rate": {"cl": "cap"}}}]}},
            ]
        },
    }
    runner = runner_of("test_missing", rules)
    staff_fact = {"t": "staff", "rate": 50}
    assert fired(runner.run([{"t": "client", "name": "c"}, staff_fact])) == [("neg", {"cl": "c"})]
    with_cap = fired(runner.run([{"t": "client", "name": "c", "cap": 100}, staff_fact]))
    assert with_cap == [("pos", {"cl": "c", "st": "staff"})]


def test_join_conditions_written_first_keep_the_alpha_network_small():
    # durable builds alpha nodes in condition order; 70 patterns that start with a join
    # would all sit at the root, every fact would pass them all and durable would fail
    # with error 303 (evaluation stack exhausted). The runner puts local conditions first.
    join = {"$neq": {"country": {"cl": "country"}}}
    rules = {
        f"r{i}": {"all": [{"cl": {"t": "client"}}, {"st": {"$and": [join, {"t": f"type{i}"}]}}]}
        for i in range(70)
    }
    runner = runner_of("test_order", rules)
    facts = [{"t": "client", "country": "DE"}, {"t": "type3", "country": "US"}]
    assert rules_fired(runner.run(facts)) == {"r3"}


def test_the_measured_crash_does_not_happen():
    # Without the runner's rearrangement this segfaults (measured): a $neq join whose
    # last condition is false makes durable scan past the end of the sequence.
    code = textwrap.dedent("""
        from kpo_rules.engine.durable import DurableRunner, compile_plan
        c1 = {"$iany": {"langs": {"$and": [{"$i.lang": "de"}, {"$gte": {"$i.rank": 5}}]}}}
        rules = {
            "has_StB": {"all": [{"st": {"$and": [{"t": "staff"},
                                                 {"$iany": {"quals": {"$i": "StB"}}}]}}]},
            "german_c1": {"all": [{"st": {"$and": [{"t": "staff"}, c1]}}]},
            "no_german": {"all": [{"cl": {"$and": [{"t": "client"}, {"country": "DE"}]}},
                                  {"x$not": {"$and": [{"t": "staff"}, c1]}}]},
            "foreign": {"all": [{"cl": {"t": "client"}},
                                {"st": {"$and": [{"t": "staff"},
                                                 {"$neq": {"country": {"cl": "country"}}}]}}]},
        }
        r = DurableRunner(compile_plan("crash", rules))
        facts = [{"t": "client", "id": "c", "country": "DE"},
                 {"t": "staff", "id": "s", "country": "DE", "quals": [], "langs": []}]
        print(sorted(f.rule for f in r.run(facts).firings))
    """)
    proc = _run_python(code)
    assert (proc.returncode, proc.stdout.strip()) == (0, "['no_german']"), proc.stderr


# --------------------------------------------------------------------------- forward chaining

CHAIN_RULES = {
    # derive a flag for sanctioned countries (runs last on purpose: pri does not matter)
    "derive_flag": {"pri": 9, "all": [{"cl": {"$and": [{"t": "client"}, {"country": "IR"}]}}]},
    # derived -> derived
    "derive_review": {"all": [{"f": {"t": "flag"}}]},
    "flagged": {"pri": 1, "all": [{"f": {"t": "flag"}}]},  # matches only a derived fact
    "reviewed_join": {
        "all": [
            {"cl": {"t": "client"}},
            {"r": {"$and": [{"t": "review"}, {"country": {"cl": "country"}}]}},
        ]
    },
    "unflagged": {"pri": 1, "all": [{"cl": {"t": "client"}}, {"x$not": {"t": "flag"}}]},
    # negation inside a derivation: "clear" only while no flag exists
    "derive_clear": {"pri": 1, "all": [{"cl": {"t": "client"}}, {"x$not": {"t": "flag"}}]},
    "cleared": {"all": [{"c": {"t": "clear"}}]},
}
CHAIN_RECIPES = {
    "derive_flag": Derive("flag", {}, (Copy("country", "cl", "country"),)),
    "derive_review": Derive("review", {}, (Copy("country", "f", "country"),)),
    "derive_clear": Derive("clear", {}, (Copy("client", "cl", "name"),)),
}
IRAN = {"t": "client", "id": "c", "name": "iran-co", "country": "IR"}
DAN = {"t": "staff", "id": "s", "name": "dan"}


@pytest.fixture(scope="module")
def chain():
    return runner_of("test_chain", CHAIN_RULES, CHAIN_RECIPES)


def test_forward_chaining_and_negation_over_derived_facts(chain):
    assert chain.stratified and chain.negation_cycle == ()
    for facts in ([IRAN, DAN], [DAN, IRAN]):
        result = chain.run(facts)
        # derivations are not reported: their facts are
        assert rules_fired(result) == {"flagged", "reviewed_join"}
        (flagged,) = [f for f in result.firings if f.rule == "flagged"]
        assert flagged.bindings == {"f": {"t": "flag", "country": "IR"}}
        (joined,) = [f for f in result.firings if f.rule == "reviewed_join"]
        assert joined.bindings == {"cl": IRAN, "r": {"t": "review", "country": "IR"}}
        assert result.failures == ()
    germany = chain.run([CLIENT_DE])
    assert rules_fired(germany) == {"unflagged", "cleared"}
    (cleared,) = germany.firings[:1]
    assert cleared.bindings == {"c": {"t": "clear", "client": "acme"}}


def test_derived_facts_are_shared_by_identical_derivations(chain):
    a = {"t": "client", "id": "a", "name": "a", "country": "IR"}
    b = {"t": "client", "id": "b", "name": "b", "country": "IR"}
    result = chain.run([a, b])
    assert [f.rule for f in result.firings].count("flagged") == 1  # one flag fact, not two
    assert [f.rule for f in result.firings].count("reviewed_join") == 2


def test_negation_over_derived_facts_in_one_stratified_pass(chain):
    rounds = rounds_of("test_chain_rounds", CHAIN_RULES, CHAIN_RECIPES)
    for facts in ([IRAN, DAN], [DAN, IRAN], [CLIENT_DE], [CLIENT_DE, IRAN], [IRAN, CLIENT_DE]):
        assert chain.run(facts) == rounds.run(facts)


def test_derivations_that_never_settle_are_reported(monkeypatch):
    monkeypatch.setattr(durable_session, "_MAX_ROUNDS", 5)
    rules = {
        "flip": {"all": [{"cl": {"t": "client"}}, {"x$not": {"t": "flag"}}]},
        "seen": {"all": [{"f": {"t": "flag"}}]},
    }
    flip = runner_of("test_flip", rules, {"flip": Derive("flag", {}, ())})
    assert not flip.stratified and flip.negation_cycle == ("flip",)
    result = flip.run([CLIENT_DE])
    assert [(x.rule, x.error.split(":")[0]) for x in result.failures] == [("flip", "RuntimeError")]
    assert "did not settle after 5 rounds" in result.failures[0].error


# --------------------------------------------------------------------------- recipe failures


def test_a_failing_recipe_is_a_failure_and_other_rules_still_fire(monkeypatch, chain):
    real = durable_session._build

    def explode(recipe, match):
        if recipe.fact_type == "review":
            raise KeyError("country")
        return real(recipe, match)

    monkeypatch.setattr(durable_session, "_build", explode)
    result = chain.run([IRAN])
    assert result.failures == (ActionFailure(rule="derive_review", error="KeyError: 'country'"),)
    assert rules_fired(result) == {"flagged"}  # the flag was still derived and matched


def test_a_derived_fact_durable_refuses_is_a_failure_of_its_rule():
    rules = {"r": {"all": [{"a": {"t": "x"}}]}}
    wide = Derive("y", {f"f{i}": i for i in range(300)}, ())  # more fields than durable reads
    runner = runner_of("test_wide_recipe", rules, {"r": wide})
    (failure,) = runner.run([{"t": "x", "id": "a"}]).failures
    assert failure.rule == "r"
    assert failure.error.startswith("ValueError: durable-rules could not assert a derived fact")


# --------------------------------------------------------------------------- lifecycle


def test_no_background_threads():
    before = threading.active_count()
    existing = set(threading.enumerate())
    runners = [runner_of(f"test_threads_{i}", RULES) for i in range(3)]
    for r in runners:
        r.run(FACTS)
    assert threading.active_count() == before
    assert set(threading.enumerate()) == existing  # durable's Host would add two Timers


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")  # pragma: no cover


def test_5000_sessions_without_leaks(runner):
    facts = FACTS + [staff(f"s{i}", rate=i) for i in range(5)]
    for _ in range(1_000):
        runner.run(facts)
    gc.collect()
    after_1000 = _rss_kb()
    for _ in range(4_000):
        runner.run(facts)
    gc.collect()
    after_5000 = _rss_kb()
    print(
        f"\nVmRSS after 1,000 sessions: {after_1000} kB, after 5,000: {after_5000} kB, "
        f"growth {after_5000 - after_1000} kB"
    )
    assert after_5000 - after_1000 < 3 * 1024
    with pytest.raises(_engine.error, match="error code: 309"):  # sid not found
        _engine.get_facts(runner._handle, runner._last_sid)


def test_sessions_that_fail_are_cleaned_up_too():
    runner = runner_of("test_fail_cleanup", {"r": {"all": [{"m": {"t": "x"}}]}})
    huge = {f"k{i}": i for i in range(300)}  # durable refuses it after the session began
    for _ in range(1_100):  # more than durable's 1,024 live sessions
        with pytest.raises(ValueError, match=r"fact 1 \(id '\$f1'\).*error code 302"):
            runner.run([{"t": "x"}, huge])
    assert rules_fired(runner.run([{"t": "x"}])) == {"r"}


@pytest.mark.parametrize("facts", [[], [{"t": "nothing"}], [{"t": "client"}] * 3])
def test_sessions_that_match_nothing(runner, facts):
    assert runner.run(facts) == SessionResult(firings=(), failures=())


# Heap memory full of 0xff bytes, freed: durable's pools are malloc'ed from it, so a field
# the engine never initialised reads as garbage (this made stock durable-rules' delete_state
# crash every time; measured).
_DIRTY_HEAP = """
junk = [b"\\xff" * 60_000 for _ in range(50)]
del junk
"""


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter: a crash of the engine fails one test only."""
    return subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_no_match_sessions_do_not_crash_the_interpreter():
    # Stock durable freed uninitialised pointers in delete_state for a session in which no
    # action started (the runner used to start a no-op action in every session to avoid it).
    code = _DIRTY_HEAP + textwrap.dedent("""
        from kpo_rules.engine.durable import Derive, DurableRunner, compile_plan
        rules = {"r": {"all": [{"m": {"$lt": {"rate": 100}}}]},
                 "d": {"all": [{"m": {"t": "staff"}}]}}
        plan = compile_plan("crash", rules, recipes={"d": Derive("x", {}, ())})
        r = DurableRunner(plan)
        huge = {f"k{i}": i for i in range(300)}
        for i in range(2000):
            assert r.run([{"rate": 500, "i": i}]).firings == ()
            try:
                r.run([{"rate": 500, "i": i}, huge])  # fails after the session began
            except ValueError:
                pass
        print("ok")
    """)
    proc = _run_python(code)
    assert (proc.returncode, proc.stdout.strip()) == (0, "ok"), proc.stderr


def test_deleting_a_session_no_action_started_in():
    # The engine itself, without the runner: a fact no rule matches, then delete_state.
    code = _DIRTY_HEAP + textwrap.dedent("""
        import json
        from kpo_rules.engine.durable import _engine
        handle = _engine.create_ruleset("crash", '{"r": {"all": [{"m": {"t": "x"}}]}}')
        for sid in range(200):
            _engine.assert_fact(handle, json.dumps({"sid": str(sid), "id": "a", "t": "y"}))
            _engine.delete_state(handle, str(sid))
        print("ok")
    """)
    proc = _run_python(code)
    assert (proc.returncode, proc.stdout.strip()) == (0, "ok"), proc.stderr


def _ruleset(name: str) -> int:
    return _engine.create_ruleset(name, '{"r": {"all": [{"m": {"t": "x"}}]}}')


def test_more_than_1024_live_sessions():
    # Stock durable kept live sessions in a fixed table of 1,024 and raised MemoryError
    # for the next one.
    handle = _ruleset("test_live_sessions")
    try:
        for sid in range(3_000):
            fact = {"sid": str(sid), "id": "a", "t": "x", "n": sid}
            _engine.assert_fact(handle, json.dumps(fact))
        for sid in range(0, 3_000, 7):
            (fact,) = json.loads(_engine.get_facts(handle, str(sid)))
            assert fact["n"] == sid
        for sid in range(3_000):
            _engine.delete_state(handle, str(sid))
    finally:
        _engine.delete_ruleset(handle)


def test_sessions_whose_ids_share_a_hash_stay_apart():
    # Stock durable told sessions apart by a 32-bit hash of their id only.
    first, second = "sid-809829", "sid-1000504"
    assert _fnv1a(first) == _fnv1a(second)
    handle = _ruleset("test_sid_hash")
    try:
        for sid in (first, second):
            code, _ = _engine.assert_fact(handle, json.dumps({"sid": sid, "id": "a", "t": "x"}))
            assert code == 0  # not "already observed" in the other session
        for sid in (first, second):
            assert [f["sid"] for f in json.loads(_engine.get_facts(handle, sid))] == [sid]
        _engine.delete_state(handle, first)
        assert json.loads(_engine.get_facts(handle, second))[0]["sid"] == second
    finally:
        _engine.delete_ruleset(handle)


def test_close_frees_the_rule_set():
    with runner_of("test_close", {"r": {"all": [{"m": {"t": "x"}}]}}) as r:
        assert rules_fired(r.run([{"t": "x"}])) == {"r"}
    with pytest.raises(RuntimeError, match="closed"):
        r.run([])
    r.close()  # idempotent


def test_runners_may_share_a_name():
    a = runner_of("test_same", {"r": {"all": [{"m": {"t": "x"}}]}})
    b = runner_of("test_same", {"r": {"all": [{"m": {"t": "y"}}]}})
    assert rules_fired(a.run([{"t": "x"}])) == {"r"}
    assert rules_fired(b.run([{"t": "x"}])) == set()


_IN_CHILD: dict[str, DurableRunner] = {}


def _run_in_child(facts):
    return fired(_IN_CHILD["runner"].run(facts))


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_workers_inherit_the_runner(runner):
    _IN_CHILD["runner"] = runner  # registered in the parent, used in forked children
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_run_in_child, [FACTS, FACTS[::-1], [CLIENT_DE]])
    assert results[0] == results[1] == fired(runner.run(FACTS))
    assert results[2] == [("no_german_speaker", {"cl": "acme"})]


def test_more_rules_than_one_sentinel_can_serve():
    # durable allows 256 rules per shared pattern; the runner's sentinel must not be one
    rules = {
        f"r{i:03d}": {
            "all": [
                {"cl": {"$and": [{"t": "client"}, {"k": i % 3}]}},
                {"x$not": {"$and": [{"t": "staff"}, {"rate": i}]}},
            ]
        }
        for i in range(300)
    }
    runner = runner_of("test_many", rules)
    assert runner._plan.groups == 3
    result = runner.run([staff("a", rate=3), dict(CLIENT_DE, k=0)])
    assert rules_fired(result) == {f"r{i:03d}" for i in range(0, 300, 3)} - {"r003"}


# --------------------------------------------------------------------------- input checks


def test_caller_data_is_not_mutated():
    rules = copy.deepcopy(RULES)
    facts = [dict(f) for f in FACTS] + [{"t": "staff", "name": "noid", "langs": []}]
    rules_before, facts_before = copy.deepcopy(rules), copy.deepcopy(facts)
    runner = runner_of("test_mutation", rules)
    first = runner.run(facts)
    assert rules == rules_before
    assert facts == facts_before
    first.firings[0].bindings[next(iter(first.firings[0].bindings))]["name"] = "changed"
    assert runner.run(facts).firings[0] != first.firings[0]  # bindings are fresh copies
    assert facts == facts_before


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ([ANN, dict(ANN)], "facts 0 and 1 have the same id 'staff:ann'"),
        ([{"id": 5}, {"id": "5"}], "facts 0 and 1 have the same id '5'"),
        ([{"t": "x", "sid": "7"}], "fact 0 has a 'sid' field"),
        ([{"t": "$end"}], "fact 0 has the reserved type '\\$end'"),
        ([{"id": "$f1"}], "ids must not be empty or start with '\\$'"),
        ([{"id": True}], "fact 0 has an id of type bool"),
        ([{"id": 1.5}], "fact 0 has an id of type float"),
        ([["t", "x"]], "fact 0 must be a mapping, not list"),
        ([{1: "x"}], "fact 0 has a non-string field name 1"),
        ([{"x": float("inf")}], "fact 0 \\(id '\\$f0'\\) is not JSON"),
        ("facts", "facts must be a sequence of mappings, not str"),
    ],
)
def test_bad_facts_raise_value_error(runner, facts, message):
    with pytest.raises(ValueError, match=message):
        runner.run(facts)
    assert runner.run([]).firings == ()  # the runner is still usable


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # durable's own verdicts, translated
        (
            {
                "all": [
                    {"tk": {"t": "task"}},
                    {"st": {"$iany": {"quals": {"$i": {"tk": "requires"}}}}},
                ]
            },
            r"rule bad: durable-rules rejected the condition \(error code 102: unexpected type",
        ),
        (
            {"all": [{"m": {"$mt": {"name": "[abc"}}}]},
            r"rule bad: durable-rules rejected the condition \(error code 501: invalid regular",
        ),
        ({"all": [{"m": {"$foo": {"a": 1}}}]}, r"rule bad: .*\(error code 202: "),
        ({"all": [{"m": {"a": [1, 2]}}]}, r"rule bad: .*\(error code 102: "),
        # shapes durable would accept silently or reject with a bare code
        (
            {"all": [{"m": {"t": "x"}}], "severity": "error"},
            "rule bad: unsupported key\\(s\\) severity",
        ),
        ({"all": [{"m": {"t": "x"}}], "run": "act"}, "rule bad: unsupported key\\(s\\) run"),
        ({"any": [{"m": {"t": "x"}}]}, "rule bad: unsupported key\\(s\\) any"),
        ({"pri": 1}, "rule bad: the body has no 'all' list"),
        ({"all": []}, "rule bad: 'all' must be a non-empty list"),
        ({"all": [{"m": {"t": 1}}], "pri": True}, "rule bad: 'pri' must be an integer"),
        ({"all": [{"m": {"t": 1}, "n": {"t": 2}}]}, "rule bad: pattern 0 of 'all' must be a"),
        ({"all": [{"m": {}}]}, "rule bad: pattern 'm' must be a non-empty mapping"),
        ({"all": [{"m": 5}]}, "rule bad: pattern 'm' must be a non-empty mapping"),
        ({"all": [{"m": {"t": 1}}, {"m": {"t": 2}}]}, "rule bad: alias 'm' is used twice"),
        (
            {"all": [{"m": {"$neq": {"country": {"cl": "country"}}}}]},
            "rule bad: pattern 'm' refers to 'cl', which is not an earlier alias",
        ),
        ({"all": [{"end$": {"t": "x"}}]}, "rule bad: alias 'end\\$' is reserved"),
        ({"all": [{"m": {"t": {1, 2}}}]}, "rule bad: the body is not JSON"),
        (
            {"all": [{"m": {"t": "x", "grade": "senior"}}]},
            "rule bad: pattern 'm': a condition must be a mapping with exactly one key",
        ),
        (
            {"all": [{"m": {"$lt": {"a": 1, "b": 2}}}]},
            "rule bad: pattern 'm': the value of '\\$lt' must be a mapping with exactly one key",
        ),
        (
            {"all": [{"cl": {"t": "c"}}, {"m": {"$or": [{"a": 1}, {"b": {"cl": "b"}}]}}]},
            "rule bad: pattern 'm' puts a condition on another fact inside \\$or",
        ),
        (
            {"all": [{"m": {"$iany": {"xs": {"$or": [{"$i.a": 1}, {"$i.b": 1}]}}}}]},
            "rule bad: pattern 'm': the item condition of \\$iany may only combine conditions",
        ),
        ({"all": [{"m": {"$and": []}}]}, "rule bad: pattern 'm': '\\$and' needs a non-empty list"),
        ("all", "rule bad: the body must be a mapping, not str"),
    ],
)
def test_invalid_rule_bodies_raise_value_error_naming_the_rule(body, message):
    good = {"all": [{"m": {"t": "x"}}]}
    with pytest.raises(ValueError, match=message):
        runner_of("test_invalid", {"good": good, "bad": body, "also_good": good})


def test_invalid_rule_names_and_sizes():
    good = {"all": [{"m": {"t": "x"}}]}
    with pytest.raises(ValueError, match="rule \\$x: names starting with '\\$' are reserved"):
        runner_of("test_names", {"$x": good})
    with pytest.raises(ValueError, match="rule names must be non-empty strings"):
        runner_of("test_names", {"": good})
    with pytest.raises(ValueError, match=r"has 513 rules \(after splitting\); .* at most 512"):
        runner_of("test_names", {f"r{i}": good for i in range(513)})
    with pytest.raises(ValueError, match="non-empty string"):
        runner_of("", {"r": good})
    with pytest.raises(TypeError, match="plan must be a RulesetPlan, not dict"):
        DurableRunner({"r": good})  # type: ignore[arg-type]


def test_rule_sets_durable_rejects_as_a_whole():
    # 300 rules sharing one pattern: each is fine alone, together durable says 108
    shared = {f"r{i}": {"all": [{"m": {"t": "x"}}]} for i in range(300)}
    with pytest.raises(ValueError, match=r"rule set 'test_whole'.*\(error code 108: too many"):
        runner_of("test_whole", shared)


# --------------------------------------------------------------------------- stratified negation


def test_stages_follow_the_chain_of_negations():
    # a: base; b derived from odd a; c derived unless b; d derived from c; rule unless d.
    # Each negation waits for a later stage than everything that can add what it negates.
    def unless(fact_type):
        return {"n$not": {"$and": [{"t": fact_type}, {"k": {"x": "k"}}]}}

    rules = {
        "to_b": {"all": [{"x": {"$and": [{"t": "a"}, {"odd": 1}]}}]},
        "to_c": {"all": [{"x": {"t": "a"}}, unless("b")]},
        "to_d": {"all": [{"x": {"t": "c"}}]},
        "report": {"all": [{"x": {"t": "a"}}, unless("d")]},
    }
    recipes = {rule: Derive(rule[-1], {}, (Copy("k", "x", "k"),)) for rule in rules}
    del recipes["report"]
    staged = runner_of("test_stages", rules, recipes)
    rounds = rounds_of("test_stages_rounds", rules, recipes)
    infos = {r: _compile_rule(r, b) for r, b in rules.items()}
    declared = {rule: frozenset({recipe.fact_type}) for rule, recipe in recipes.items()}
    assert _negation_cycle(infos, declared) == ()
    assert _stages(infos, declared) == {"to_c": 1, "report": 2}
    assert staged._plan.groups == 2
    facts = [{"t": "a", "id": f"a{k}", "k": k, "odd": k % 2} for k in range(4)]
    expected = rounds.run(facts)
    # odd k: b blocks c, so no d, so the report fires; even k: c, d, no report
    assert {f.bindings["x"]["k"] for f in expected.firings if f.rule == "report"} == {1, 3}
    rnd = random.Random(3)
    for _ in range(10):
        rnd.shuffle(facts)
        assert staged.run(facts) == expected


def _random_program(rnd: random.Random, size: int):
    """Derivations d0..d(size-1), each reading base facts or earlier derived types,
    positively or through a $not; and rules over all of them. No cycle through negation."""
    types = ["n", "m"]
    rules: dict = {}
    recipes: dict = {}
    for i in range(size):
        source = rnd.choice(types)
        body = [{"x": {"$and": [{"t": source}, {"$lte": {"v": rnd.randint(0, 3)}}]}}]
        if rnd.random() < 0.7:
            blocker = rnd.choice(types)
            body.append({"b$not": {"$and": [{"t": blocker}, {"v": {"x": "v"}}]}})
        rules[f"d{i}"] = {"all": body}
        recipes[f"d{i}"] = Derive(f"t{i}", {}, (Copy("v", "x", "v"),))
        types.append(f"t{i}")
    for k in range(size):
        body = [{"x": {"t": rnd.choice(types)}}]
        if rnd.random() < 0.8:
            body.append({"b$not": {"$and": [{"t": rnd.choice(types)}, {"v": {"x": "v"}}]}})
        rules[f"r{k}"] = {"all": body}
    return rules, recipes


def test_stratified_evaluation_matches_rounds_on_random_programs():
    rnd = random.Random(11)
    for program in range(8):
        rules, recipes = _random_program(rnd, 6)
        staged = runner_of(f"test_random_s{program}", rules, recipes)
        rounds = rounds_of(f"test_random_r{program}", rules, recipes)
        assert staged.stratified
        for _ in range(6):
            facts = [
                {"t": rnd.choice("nm"), "id": f"f{i}", "v": rnd.randint(0, 3)}
                for i in range(rnd.randint(0, 6))
            ]
            expected = rounds.run(facts)
            assert expected.failures == ()
            rnd.shuffle(facts)
            assert staged.run(facts) == expected, (rules, facts)
        staged.close()
        rounds.close()


def test_a_cycle_through_negation_falls_back_to_rounds():
    # "flip" derives a flag unless a flag exists: no stage can be late enough
    rules = {
        "flip": {"all": [{"cl": {"t": "client"}}, {"x$not": {"t": "flag"}}]},
        "seen": {"all": [{"f": {"t": "flag"}}]},
    }
    flip = runner_of("test_cycle", rules, {"flip": Derive("flag", {}, ())})
    assert not flip.stratified
    assert flip.negation_cycle == ("flip",)
    result = flip.run([CLIENT_DE])
    assert [x.rule for x in result.failures] == ["flip"]
    assert "did not settle" in result.failures[0].error
    # two derivations that block each other are named together
    pair = {
        "a": {"all": [{"cl": {"t": "client"}}, {"x$not": {"t": "b"}}]},
        "b": {"all": [{"cl": {"t": "client"}}, {"x$not": {"t": "a"}}]},
    }
    both = runner_of("test_cycle_pair", pair, {r: Derive(r, {}, ()) for r in pair})
    assert both.negation_cycle == ("a", "b")
    # a derivation that reads its own facts positively is no cycle through negation
    grow = runner_of(
        "test_positive_cycle",
        {
            "grow": {"all": [{"f": {"t": "flag"}}]},
            "seed": {"all": [{"c": {"t": "client"}}]},
            "bare": {"all": [{"c": {"t": "client"}}, {"x$not": {"t": "flag"}}]},
            "seen": {"all": [{"f": {"t": "flag"}}]},
        },
        {"grow": Derive("flag", {"n": 1}, ()), "seed": Derive("flag", {"n": 1}, ())},
    )
    assert grow.stratified and grow.negation_cycle == ()
    assert fired(grow.run([CLIENT_DE])) == [("seen", {"f": "flag"})]


def test_rules_without_negation_need_no_sentinel():
    runner = runner_of("test_no_sentinel", RULES)
    # only no_german_speaker and task_unqualified have a $not
    assert runner.stratified and runner._plan.groups == 1
    positive = runner_of("test_positive", {"r": {"all": [{"m": {"t": "x"}}]}})
    assert positive._plan.groups == 0


# --------------------------------------------------------------------------- batches, markers


def test_a_fact_durable_cannot_read_is_named_whatever_its_place_in_the_batch(runner):
    huge = {f"k{i}": i for i in range(300)}
    for index in range(4):
        facts = [dict(f) for f in FACTS]
        facts.insert(index, dict(huge, t="staff"))
        with pytest.raises(ValueError, match=rf"fact {index} \(id '\$f{index}'\).*error code 302"):
            runner.run(facts)
    assert runner.run(FACTS).firings  # still usable


def test_id_hash_collisions_are_named():
    # durable indexes facts by a 32-bit FNV-1a hash of their id: these two collide
    assert _fnv1a("nakmvxxv") == _fnv1a("tbdxatiq")
    collide = runner_of("test_collision", {"r": {"all": [{"m": {"t": "x"}}]}})
    with pytest.raises(RuntimeError, match=r"took fact 1 \(id 'tbdxatiq'\) for an earlier fact"):
        collide.run([{"t": "x", "id": "nakmvxxv"}, {"t": "x", "id": "tbdxatiq"}])
    assert rules_fired(collide.run([{"t": "x", "id": "nakmvxxv"}])) == {"r"}


def test_type_tests_work_through_markers_and_plain_fields():
    rules = {
        "typed": {"all": [{"m": {"t": "a.b"}}]},  # a dotted type keeps the plain test
        "either": {"all": [{"m": {"$or": [{"t": "x"}, {"t": "y"}]}}]},
        "x_only": {"all": [{"m": {"$and": [{"t": "x"}, {"v": 1}]}}]},
        "no_x": {"all": [{"m": {"t": "y"}}, {"n$not": {"t": "x"}}]},
    }
    runner = runner_of("test_markers", rules)
    facts = [{"t": "a.b", "id": "1"}, {"t": "x", "id": "2", "v": 1}, {"t": "y", "id": "3"}]
    got = {(f.rule, f.bindings["m"]["id"]) for f in runner.run(facts).firings}
    assert got == {("typed", "1"), ("either", "2"), ("either", "3"), ("x_only", "2")}
    assert rules_fired(runner.run(facts[2:])) == {"either", "no_x"}
    with pytest.raises(ValueError, match=r"fact 0 has a 'kpo\$t\$x' field, which the runner"):
        runner.run([{"t": "y", "kpo$t$x": 1}])


def test_a_fact_shaped_like_an_accepted_one_is_still_checked():
    """Accepted field names are remembered per shape; values are checked every time."""
    assert _fact_problem({"t": "x", "id": "a"}) is None
    assert "reserved type" in (_fact_problem({"t": "$end", "id": "a"}) or "")
    assert "must not be empty" in (_fact_problem({"t": "x", "id": ""}) or "")
    assert "type bool" in (_fact_problem({"t": "x", "id": True}) or "")
    assert "'sid' field" in (_fact_problem({"t": "x", "sid": "1"}) or "")
    assert "'sid' field" in (_fact_problem({"t": "x", "sid": "1"}) or "")  # not remembered


# --------------------------------------------------------------------------- recipes


def test_recipe_constants_defaults_and_missing_fields():
    rules = {
        "derive": {"all": [{"s": {"t": "staff"}}]},
        "show": {"all": [{"d": {"t": "derived"}}]},
    }
    recipe = Derive("derived", {"kind": "k", "level": 3}, (
        Copy("name", "s", "name"),
        Copy("lang", "s", "lang", "none"),
        Copy("missing", "s", "nothing_here"),
        Copy("who", "s", "id"),
    ))
    runner = runner_of("test_recipe_fields", rules, {"derive": recipe})
    result = runner.run([{"t": "staff", "id": "s1", "name": "ana"}, {"t": "staff", "name": "bo"}])
    shown = sorted((f.bindings["d"] for f in result.firings), key=lambda d: d["name"])
    assert shown == [
        {"t": "derived", "kind": "k", "level": 3, "name": "ana", "lang": "none", "who": "s1"},
        # a fact without an id: the id the runner gave it is not copied
        {"t": "derived", "kind": "k", "level": 3, "name": "bo", "lang": "none"},
    ]


@pytest.mark.parametrize(
    ("recipes", "message"),
    [
        ({"nope": Derive("x", {}, ())}, "recipes names 'nope', which is not a rule"),
        ({"r": {"t": "x"}}, "must be a Derive, not dict"),
        ({"r": Derive("$end", {}, ())}, "the fact type '$end' is reserved"),
        ({"r": Derive("", {}, ())}, "the fact type must be a non-empty string"),
        ({"r": Derive("x", {"id": 1}, ())}, "the field name 'id' is not allowed"),
        ({"r": Derive("x", {}, (Copy("kpo$g", "a", "b"),))}, "'kpo$g' is reserved"),
        ({"r": Derive("x", {}, (Copy("a", "a", "sid"),))}, "cannot copy 'sid'"),
        ({"r": Derive("x", {"a": 1}, (Copy("a", "a", "b"),))}, "a field is given twice"),
        ({"r": Derive("x", {"a": {1, 2}}, ())}, "the constants are not JSON"),
        (["r"], "recipes must be a mapping, not list"),
    ],
)
def test_invalid_recipes_are_refused_when_the_plan_is_compiled(recipes, message):
    rules = {"r": {"all": [{"a": {"t": "x"}}]}}
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        compile_plan("test_bad_recipe", rules, recipes=recipes)


# --------------------------------------------------------------------------- the engine's writer


def test_the_engine_writes_facts_as_json_does():
    # assert_facts_of writes the batch's JSON in C; durable must read what json.dumps wrote
    tricky = {
        "t": "x", "id": 'q"b\\s\n\u00e9\x01', "n": 5, "big": 2**70, "neg": -3, "f": 1.5,
        "b": True, "z": None, "l": [1, "x", [2.0], (3, 4)], "e": [], "o": {},
        "d": {"k": 1, 2: "int key", True: 3, None: 4, 1.5: 5},
    }
    handle = _ruleset("test_writer")
    try:
        assert _engine.assert_facts_of(handle, "s", [tricky, {}]) == (1, 1)  # not handled
        (stored,) = json.loads(_engine.get_facts(handle, "s"))
        assert stored == {"sid": "s", **json.loads(json.dumps(tricky, ensure_ascii=False))}
        for bad, error in [({"x": float("nan")}, ValueError), ({"x": {1}}, TypeError),
                           ({(1,): 2}, TypeError), ("x", TypeError)]:
            with pytest.raises(error):
                _engine.assert_facts_of(handle, "s2", [bad])
    finally:
        _engine.delete_ruleset(handle)
