"""Sleep sets (modelcheck.engine.sleep) against the full search.

Sleep sets skip steps, never states: with and without them a search must
store the same states at the same depths (the same number through every
level), give the same verdict with a trace of the same length, and, when it
is complete, take with sleep sets exactly the steps of the full search less
those it skipped (every state has the same steps either way).  Mutants of
the independence relation must break that.
"""

from itertools import product

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from modelcheck.actors.faults import FaultBudget
from modelcheck.actors.independence import ActorSleepRules, Footprint
from modelcheck.cli import main
from modelcheck.engine.bfs import explore
from modelcheck.run import Options, build, run
from tests.sleep_specs import Cells


def both(make, symmetry=True, **limits):
    """The full search and the one with sleep sets, of fresh models."""
    outcomes = []
    for sleep in (False, True):
        model = make()
        outcomes.append(explore(model, symmetry=symmetry and model.symmetry_size() > 1,
                                only=tuple(model.invariants()), sleep=sleep, **limits))
    return outcomes


def assert_same_search(make, symmetry=True, **limits):
    full, slept = both(make, symmetry, **limits)
    summary = [(o.verdict, o.property, len(o.path), o.stats.distinct_states,
                o.stats.kept_states, o.stats.depth) for o in (full, slept)]
    assert summary[0] == summary[1]
    assert full.stats.skipped is None
    if full.verdict == "ok":
        assert slept.stats.transitions + slept.stats.skipped == full.stats.transitions
    return full, slept


def shipped(spec, params=(), **options):
    return lambda: build(spec, list(params), Options(**options))[1]


SHIPPED = [
    ("raft", [], {}),
    ("raft", ["fsync=always"], {}),
    ("raft", ["fsync=never"], {}),
    ("raft", ["fsync=parallel"], {}),
    ("raft", ["rejoin=abstain", "terms=1"], {"faults": "power_loss=1"}),
    ("raft", ["fsync=always", "nodes=2"], {"faults": "crash=1,drop=1,duplicate=1"}),
    ("raft", ["fsync=always", "nodes=2", "terms=1"], {"faults": "partition=1,power_loss=1"}),
    ("kafka", ["version=3.4"], {}),
    ("kafka", ["version=kip966", "epochs=1"], {"writes": 1}),
    ("chain", ["fsync=never", "readmit=true"], {}),
    ("chain", [], {}),
    ("abd", ["fsync=never"], {}),
    ("abd", [], {"reads": 1, "writes": 1}),
    ("primary_backup", ["fsync=false"], {}),
]


@pytest.mark.parametrize("spec, params, options", SHIPPED)
def test_shipped_specs_search_the_same_states_with_sleep_sets(spec, params, options):
    full, slept = assert_same_search(shipped(spec, params, **options))
    assert slept.stats.skipped > 0  # they did skip something


def test_the_same_states_through_every_level():
    make = shipped("raft", ["fsync=always", "nodes=2"])
    depth = both(make)[0].stats.depth
    for level in range(1, depth + 1):
        full, slept = both(make, max_depth=level)
        assert full.stats.kept_states == slept.stats.kept_states


def test_the_same_on_the_fingerprint_store_and_without_symmetry():
    assert_same_search(shipped("raft", ["fsync=always"]), store="fingerprint")
    assert_same_search(shipped("raft", ["nodes=2"]), symmetry=False)


def test_sleep_sets_take_fewer_steps_on_five_node_raft():
    """The gain grows with the nodes: more steps at different nodes commute."""
    full, slept = both(shipped("raft", ["nodes=5"]), max_depth=9)
    assert full.stats.kept_states == slept.stats.kept_states
    assert slept.stats.transitions < 0.6 * full.stats.transitions


# --- mutants of the independence relation: each must change what is found --

def same_node_commutes(first, second):
    return not (first.client and second.client) and not (first.shared and second.shared)


def client_ignored(first, second):
    return first.nodes.isdisjoint(second.nodes) and not (first.shared and second.shared)


def shared_ignored(first, second):
    return first.nodes.isdisjoint(second.nodes) and not (first.client and second.client)


@pytest.mark.parametrize("mutant, spec, params, options", [
    (same_node_commutes, "raft", ["fsync=always", "nodes=2"], {}),
    # The order of a read and a write is in the client's history.
    (client_ignored, "abd", [], {"reads": 1, "writes": 1}),
    (shared_ignored, "kafka", ["version=3.4"], {}),
])
def test_a_wrong_independence_relation_is_caught(monkeypatch, mutant, spec, params, options):
    monkeypatch.setattr(ActorSleepRules, "commute", staticmethod(mutant))
    with pytest.raises(AssertionError):
        assert_same_search(shipped(spec, params, **options))


def test_a_partition_that_commutes_is_caught(monkeypatch):
    footprint = ActorSleepRules.footprint

    def partition_touches_nothing(self, before, label, after):
        if label.kind in ("partition", "heal"):
            return Footprint(frozenset())
        return footprint(self, before, label, after)

    monkeypatch.setattr(ActorSleepRules, "footprint", partition_touches_nothing)
    with pytest.raises(AssertionError):
        assert_same_search(shipped("raft", ["fsync=always", "terms=1"], faults="partition=1",
                                   writes=1))


# --- generated protocols ------------------------------------------------------

XS, YS, VS = range(3), range(2), range(2)
rules = st.tuples(st.tuples(st.sampled_from(XS), st.sampled_from(YS)), st.booleans(),
                  st.one_of(st.none(), st.tuples(st.sampled_from(["reply", "broadcast"]),
                                                 st.sampled_from(VS))),
                  st.booleans())
# Two power losses: faults at different nodes commute though they share the budget.
budgets = st.fixed_dictionaries({"power_loss": st.integers(0, 2), **{kind: st.integers(0, 1)
                                 for kind in ("crash", "partition", "drop", "duplicate")}})


@settings(max_examples=40, deadline=None)
@given(nodes=st.integers(2, 3), network=st.sampled_from(["bag", "fifo", "tcp"]),
       ticks=st.fixed_dictionaries({k: rules for k in product(XS, YS)}),
       receives=st.fixed_dictionaries({k: rules for k in product(XS, YS, VS)}),
       writes=st.fixed_dictionaries({k: rules for k in product(XS, YS)}),
       total_below=st.integers(2, 7), budget=budgets, client_writes=st.integers(0, 2),
       symmetry=st.booleans())
def test_generated_protocols_search_the_same_states_with_sleep_sets(
        nodes, network, ticks, receives, writes, total_below, budget, client_writes, symmetry):
    if network == "tcp":
        budget["duplicate"] = 0  # tcp never duplicates
    faults = FaultBudget.parse(",".join(f"{k}={n}" for k, n in budget.items() if n) or "none")

    def make():
        model = Cells(nodes, ticks, receives, writes, total_below, network)
        model.configure(writes=client_writes, faults=faults)
        return model

    full, _ = both(make, symmetry, max_states=20_000)
    for level in range(1, min(full.stats.depth, 8) + 1):
        assert_same_search(make, symmetry, max_depth=level, max_states=20_000)
    assert_same_search(make, symmetry, max_states=20_000)


# --- the command line ---------------------------------------------------------

def test_sleep_sets_are_on_by_default_for_actor_specs_checking_invariants():
    on = run("raft", ["fsync=always", "nodes=2"], Options())
    off = run("raft", ["fsync=always", "nodes=2"], Options(por=False))
    assert on.outcome.stats.skipped > 0 and off.outcome.stats.skipped is None
    assert on.to_json()["steps_skipped"] == on.outcome.stats.skipped
    assert off.to_json()["steps_skipped"] is None
    assert "more skipped by sleep sets" in on.to_text()
    # @recoverable properties need every step: off by default, refused on demand.
    kafka = run("kafka", ["version=3.4"], Options(writes=1))
    assert kafka.outcome.stats.skipped is None


@pytest.mark.parametrize("args, needle", [
    (["kafka", "--por"], "@recoverable properties (available) need every step"),
    (["two_phase", "--por"], "cannot tell which of this spec's steps commute"),
    (["multi_paxos", "--por"], "cannot tell which of this spec's steps commute"),
    (["raft", "--por", "--workers", "2"], "not run with --workers"),
    (["raft", "--por", "--store", "fingerprint", "--checkpoint", "CK"], "checkpoints do not save"),
])
def test_por_refused_where_it_cannot_apply(tmp_path, args, needle):
    args = [str(tmp_path / "ck") if a == "CK" else a for a in args]
    result = CliRunner().invoke(main, ["check", *args, "--quiet"])
    assert result.exit_code == 2
    assert needle in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "ck").exists()  # nothing written
