"""Availability with unreachable nodes (modelcheck.available, check --unreachable).

Expected verdicts are argued by hand on the tiny specs of
tests/availability_specs.py, and on Raft where the answer is known.
"""

import functools
import io
import json
import re
import textwrap
from itertools import combinations

import pytest
from click.testing import CliRunner

from modelcheck import progress as progress_module
from modelcheck.actors import Action, FaultBudget, Message, World
from modelcheck.actors.cluster import Cluster, step
from modelcheck.available import (
    BREADTH_FIRST_BUDGET, Recovery, _Judge, _mark, allowed, check_availability,
    explore_recording,
)
from modelcheck.cli import main
from modelcheck.load import load
from modelcheck.progress import ProgressLine
from modelcheck.run import Options, build, verdicts
from tests.availability_specs import (
    FixedLease, Lease, NoTermAllowance, OneShot, Quorum, Toggle,
)


def judge(model, u, symmetry=True):
    return check_availability(model, u, symmetry=symmetry)


@pytest.mark.parametrize("symmetry", [True, False])
def test_a_majority_of_reachable_nodes_stores_a_write(symmetry):
    # Three nodes, one unreachable: the two others are a majority, and from
    # any state the client can send the next write to one of them.
    outcome, recovery, _ = judge(Quorum(), 1, symmetry)
    assert outcome.verdict == "ok"
    assert recovery.pairs > 0


@pytest.mark.parametrize("symmetry", [True, False])
def test_a_lone_node_is_stuck_from_the_start(symmetry):
    # Two of three unreachable: one node never reaches a majority of two,
    # already in the initial state, so the trace is the initial state alone.
    outcome, _, unreachable = judge(Quorum(), 2, symmetry)
    assert outcome.verdict == "violation" and outcome.property == "available"
    assert len(outcome.path) == 1
    assert len(unreachable) == 2


def test_symmetry_tries_only_distinct_pairs():
    # Without symmetry every reachable state is paired with each of the three
    # single-node sets; with it, orbits of (state, set) pairs are tried once.
    full = judge(Quorum(), 1, symmetry=False)[1]
    reduced = judge(Quorum(), 1, symmetry=True)[1]
    from modelcheck.engine import explore
    states = explore(Quorum(), only=()).stats.distinct_states
    assert full.pairs == 3 * states
    assert reduced.pairs < full.pairs


def test_the_lease_holder_cut_off_needs_the_allowance():
    # After A takes the one lease of the normal bounds (epochs=1) and is cut
    # off, B or C can only take it over with a second epoch.  Lease's
    # recovery() allows one; FixedLease's does not, so there the state after
    # the first take is stuck, with its holder unreachable.
    assert judge(Lease(), 1)[0].verdict == "ok"
    outcome, _, unreachable = judge(FixedLease(), 1)
    assert outcome.verdict == "violation" and len(outcome.path) == 2
    holder = outcome.path[-1][5].holder
    assert unreachable == (holder,)


def test_two_unreachable_still_leave_someone_to_take_the_lease():
    # Two of three cut off, the third takes the lease in the allowance's epoch.
    assert judge(Lease(), 2)[0].verdict == "ok"
    assert judge(FixedLease(), 2)[0].verdict == "violation"


def test_a_lease_nobody_may_take_over_is_stuck_whatever_the_allowance():
    outcome, _, unreachable = judge(Lease(steal=False), 1)
    assert outcome.verdict == "violation" and len(outcome.path) == 2
    assert unreachable == (outcome.path[-1][5].holder,)


def test_nothing_unreachable_means_nothing_is_stuck_here():
    # With every node reachable the holder itself acknowledges the probe.
    assert judge(FixedLease(), 0)[0].verdict == "ok"


def test_recovering_means_acknowledging_the_probe_not_any_write():
    # The probe is write 2 (writes=1).  Two of three nodes cut off, the
    # third must acknowledge writes 1 and 2 but acknowledges one in its
    # life: stuck from the initial state on.  An older acknowledgement (of
    # write 1) does not count as recovering.
    outcome, _, unreachable = judge(OneShot(), 2)
    assert outcome.verdict == "violation" and len(outcome.path) == 1
    # With one cut off, one fresh node takes write 1 and the other the probe.
    assert judge(OneShot(), 1)[0].verdict == "ok"


def test_a_state_left_on_a_cycle_is_not_taken_for_stuck():
    # One node (nothing unreachable): from "on" the search first flips to
    # "off", finds nothing new there (flipping back leads to a state on
    # its stack) and abandons it, then acknowledges the probe from "on".
    # "off" reaches the goal through "on", so it must not be judged stuck.
    assert judge(Toggle(1), 0)[0].verdict == "ok"


class Expiring(FixedLease):
    """The lease can be revoked by a step that touches only its holder:
    taking it then needs no second epoch."""

    @step("{}'s lease expires", fences=True)
    def expire(self, cluster: Cluster, name: str) -> None:
        if cluster.shared.holder == name:
            cluster.shared = cluster.shared._replace(holder=None, takes=0)
            cluster[name].holds = False


class ExpiringByHand(FixedLease):
    """The same revocation, not declared as fencing: it needs the holder."""

    @step("{}'s lease expires")
    def expire(self, cluster: Cluster, name: str) -> None:
        Expiring.expire(self, cluster, name)


def test_a_fencing_step_may_touch_the_node_it_fences():
    assert judge(Expiring(), 1)[0].verdict == "ok"
    assert judge(ExpiringByHand(), 1)[0].verdict == "violation"


def test_allowed_steps():
    cut = frozenset("B")
    to_b, a_to_c = Message("A", "B", "Store", ()), Message("A", "C", "Store", ())
    assert not allowed(Action("deliver", "B", to_b), cut)
    assert allowed(Action("deliver", "C", a_to_c), cut)
    assert not allowed(Action("timeout", "B", detail="t"), cut)
    assert not allowed(Action("write", "B", detail="1"), cut)
    assert allowed(Action("write", "A", detail="1"), cut)
    assert allowed(Action("heal"), cut)
    for fault in FaultBudget.kinds():
        assert not allowed(Action(fault, "A"), cut)
    assert not allowed(Action("step", "A", detail="s", reaches=frozenset("AB")), cut)
    assert allowed(Action("step", "B", detail="s", reaches=frozenset("A")), cut)


CUT_OFF_SPECS = [
    ("raft", ["fsync=log_async"], "power_loss=1"),
    ("kafka", ["version=kip966"], "power_loss=1"),
    ("quorum_log", ["W=2", "R=2", "fsync=log_async"], "power_loss=1"),
    ("multi_paxos", [], "power_loss=1"),
    ("chain", [], "power_loss=1"),
]


@pytest.mark.parametrize("spec, params, faults", CUT_OFF_SPECS, ids=[s[0] for s in CUT_OFF_SPECS])
def test_cut_off_leaves_exactly_the_allowed_steps(spec, params, faults):
    # Recovery runs skip the steps that need an unreachable node without
    # running them (Protocol.cut_off): they must see every allowed step, in
    # the same order, and nothing else, whatever the spec's own successors
    # filter.  Compared on the first reachable states, for every set of
    # one and of two nodes.
    _name, model, _values = build(spec, params, Options(faults=faults, writes=1))
    relaxed = model.recovery()
    _outcome, states = explore_recording(model, symmetry=False, max_states=400)
    compared = 0
    for state in states:
        for size in (1, 2):
            for cut in map(frozenset, combinations(model.node_names, size)):
                relaxed.cut_off = frozenset()
                everything = [(str(a), nxt) for a, nxt in relaxed.successors(state)
                              if allowed(a, cut)]
                relaxed.cut_off = cut
                skipping = [(str(a), nxt) for a, nxt in relaxed.successors(state)
                            if allowed(a, cut)]
                assert skipping == everything, (state, cut)
                compared += 1
    assert compared > 400


# --- Raft: bounds must not fake a stuck -----------------------------------------


def raft(**params):
    spec = load("raft")
    values = spec.resolve([f"{k}={v}" for k, v in params.items()])
    model = spec.build(values)
    model.configure(writes=0, faults=FaultBudget.parse("power_loss=1"))
    return model


def test_raft_fsync_always_is_available_with_one_node_unreachable():
    # Figure 2 with everything fsynced: a majority of two that can talk
    # elects a leader in a fresh term and commits the probe.  (writes=0 and
    # terms=1 keep the test quick: the probe is the only write, and the one
    # election of the fault phase may already have used the last term.)
    outcome, recovery, _ = judge(raft(fsync="always", terms=1), 1)
    assert outcome.verdict == "ok", outcome.path
    assert recovery.states > recovery.pairs


def test_without_the_term_allowance_raft_looks_stuck():
    # With terms=1 and no extra term for recovery: once A stands for term 1
    # and B votes for it, cutting A off leaves B bound to A in the only term
    # and C unable to win without B.  Just before B's vote nothing is stuck
    # (B or C can stand in term 1 and the other vote for it), so the first
    # stuck state is three states in, with the candidate unreachable.
    model = raft(fsync="always", terms=1)
    model.__class__ = type("RaftNoAllowance", (NoTermAllowance, type(model)), {})
    outcome, _, unreachable = judge(model, 1)
    assert outcome.verdict == "violation" and len(outcome.path) == 3
    world = World(model, outcome.path[-1])
    candidate = [name for name, node in world.nodes.items() if node.role == "candidate"]
    assert unreachable == tuple(candidate)
    # Raft's why_stuck says which vote is spent on the unreachable candidate.
    voter = next(name for name, node in world.nodes.items() if node.voted_for == candidate[0]
                 and name != candidate[0])
    lines = model.why_stuck(world, frozenset(unreachable))
    assert any(line.startswith(f"{voter}: follower in term 1, voted for {candidate[0]} "
                               "(unreachable: this vote is spent)") for line in lines), lines


# --- verdict pairs and the command line -----------------------------------------


def spec_file(tmp_path, base="FixedLease"):
    path = tmp_path / "lease.py"
    path.write_text(textwrap.dedent(f"""
        from tests.availability_specs import {base} as Base

        class Spec(Base):
            pass
    """))
    return str(path)


def test_verdict_pair_judges_each_on_its_own(tmp_path):
    pair = verdicts(spec_file(tmp_path), [], Options(unreachable=1))
    assert pair.safety is None  # the lease spec has no invariant
    assert pair.availability.outcome.verdict == "violation"
    assert pair.exit_code == 1


def test_a_safety_violation_does_not_keep_availability_from_being_judged(tmp_path):
    # A takes the lease and acknowledges write 1 at position 1, B takes it
    # over (epochs=2) and acknowledges write 2 at position 1 of its own log:
    # durability breaks five states in.  Availability is judged on the whole
    # state space all the same: a reachable node can always take the lease
    # in the allowance's epoch and acknowledge the probe.
    pair = verdicts(spec_file(tmp_path, "ForgetfulLease"), ["epochs=2"], Options(unreachable=1))
    assert pair.safety.outcome.property == "durability"
    assert len(pair.safety.outcome.path) == 5
    assert pair.availability.outcome.verdict == "ok"
    assert pair.exit_code == 1


def test_the_shared_search_gives_the_verdict_of_a_search_of_its_own(tmp_path):
    # verdicts() reuses the safety search's states; check_availability on
    # its own searches again: same first stuck state, same unreachable set.
    path = tmp_path / "raft_fixed.py"
    path.write_text(textwrap.dedent("""
        from specs.raft import Raft
        from tests.availability_specs import NoTermAllowance

        class Spec(NoTermAllowance, Raft):
            pass
    """))
    model = raft(fsync="always", terms=1)
    model.__class__ = type("RaftNoAllowance", (NoTermAllowance, type(model)), {})
    own = judge(model, 1)
    shared = verdicts(str(path), ["fsync=always", "terms=1"],
                      Options(writes=0, faults="power_loss=1", unreachable=1))
    assert shared.safety.outcome.verdict == "ok"
    assert shared.availability.outcome.path == own[0].path
    assert shared.availability.unreachable == own[2]


def test_cli_text_names_the_unreachable_node_and_why(tmp_path):
    result = CliRunner().invoke(main, ["check", spec_file(tmp_path), "--unreachable", "1"])
    assert result.exit_code == 1, result.output
    assert "VIOLATION of available" in result.output
    assert "is unreachable for good" in result.output
    assert "recovery allowance: writes 1 -> 2" in result.output


def test_cli_json_has_both_verdicts(tmp_path):
    result = CliRunner().invoke(
        main, ["check", spec_file(tmp_path, "Lease"), "--unreachable", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["safety"] is None
    assert data["availability"]["verdict"] == "ok"
    assert data["availability"]["u"] == 1


def test_cli_json_names_the_unreachable_node_in_the_trace(tmp_path):
    result = CliRunner().invoke(
        main, ["check", spec_file(tmp_path), "--unreachable", "1", "--json"])
    assert result.exit_code == 1, result.output
    availability = json.loads(result.output)["availability"]
    holder = availability["trace"][-1]["state"]["shared"]["holder"]
    assert availability["unreachable"] == [holder]
    # One line per node left: the two that are not the holder.
    assert len(availability["why_stuck"]) == 2
    assert not any(line.startswith(holder) for line in availability["why_stuck"])


def test_cli_refuses_too_many_unreachable(tmp_path):
    result = CliRunner().invoke(main, ["check", spec_file(tmp_path), "--unreachable", "3"])
    assert result.exit_code == 2
    assert "has 3 nodes" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("engine", [["--workers", "2"], ["--store", "fingerprint"]])
def test_cli_refuses_engine_options_it_would_ignore(tmp_path, engine):
    result = CliRunner().invoke(
        main, ["check", spec_file(tmp_path), "--unreachable", "1", *engine])
    assert result.exit_code == 2
    assert engine[0] in result.output and "Traceback" not in result.output


def test_cli_refuses_model_level_specs():
    result = CliRunner().invoke(main, ["check", "two_phase", "--unreachable", "1"])
    assert result.exit_code == 2
    assert "actor spec" in result.output


def test_a_limit_makes_availability_incomplete():
    pair = verdicts("raft", ["fsync=always"], Options(writes=0, unreachable=1, max_states=50))
    assert pair.safety.outcome.verdict == "incomplete"
    assert pair.availability.outcome.verdict == "incomplete"
    assert pair.exit_code == 3


# --- against an independent judge --------------------------------------------------


def _quorum_log(**params):
    spec = load("quorum_log")
    values = spec.resolve([f"{k}={v}" for k, v in {"terms": 1, **params}.items()])
    return spec.build(values)


DIFFERENTIAL = [
    ("Quorum u=1", Quorum, 1),
    ("Quorum u=2", Quorum, 2),
    ("Lease u=1", Lease, 1),
    ("FixedLease u=1", FixedLease, 1),
    ("OneShot u=1", OneShot, 1),
    ("Toggle u=1", Toggle, 1),
    *((f"quorum_log W={w} R={r} fsync={f} power_loss=1 u=1",
       lambda w=w, r=r, f=f: _with_faults(_quorum_log(W=w, R=r, fsync=f), "power_loss=1"), 1)
      for w, r, f in [(1, 2, "always"), (2, 2, "always"), (2, 2, "log_async")]),
]


@functools.cache
def _independent(name):
    from tests.independent_availability import judge as independent

    _, make, u = next(d for d in DIFFERENTIAL if d[0] == name)
    return independent(make(), u)


def _with_faults(model, faults):
    model.configure(faults=FaultBudget.parse(faults))
    return model


@pytest.mark.parametrize("name, make, u", DIFFERENTIAL, ids=[d[0] for d in DIFFERENTIAL])
@pytest.mark.parametrize("symmetry", [True, False])
@pytest.mark.parametrize("breadth_first_budget, recorded", [
    (BREADTH_FIRST_BUDGET, False),  # breadth-first as the normal search goes
    (BREADTH_FIRST_BUDGET, True),  # breadth-first over a search made already
    (0, True),  # deepest first only
    (0, False),
    (3, False),  # breadth-first for 3 recovery states, then deepest first
])
def test_verdict_and_shortest_stuck_state_agree_with_an_independent_judge(
        name, make, u, symmetry, breadth_first_budget, recorded):
    """Both passes of the memoised search, alone and handing over, against
    a plain backward reachability over the whole recovery graph: the same
    verdict, and a reported stuck state that is stuck there and as shallow
    as any."""
    stuck, depth = _independent(name)
    model = make()
    searched = explore_recording(model, symmetry=symmetry) if recorded else None
    outcome, _, unreachable = check_availability(
        model, u, symmetry=symmetry, searched=searched,
        breadth_first_budget=breadth_first_budget)
    assert outcome.verdict == ("violation" if stuck else "ok"), name
    if stuck:
        state = outcome.path[-1]
        assert (state, frozenset(unreachable)) in stuck
        assert len(outcome.path) - 1 == min(depth[s] for s, _ in stuck)


@pytest.mark.parametrize("name, make, u", DIFFERENTIAL, ids=[d[0] for d in DIFFERENTIAL])
def test_every_order_of_judging_reports_the_same_stuck_pair(name, make, u):
    """Being stuck does not depend on the order pairs are judged in, so the
    verdict and the depth of the reported stuck state do not either,
    wherever the breadth-first pass hands over to the deepest-first one."""
    reports = [check_availability(make(), u, symmetry=True, breadth_first_budget=budget)[0]
               for budget in (0, 1, 2, 3, 5, 10, 50, BREADTH_FIRST_BUDGET)]
    assert len({(o.verdict, len(o.path)) for o in reports}) == 1


def test_recovery_runs_try_timeouts_last():
    """A recovery run tries the client's write and deliveries before a
    timeout, which would start an election and undo their progress."""
    model = raft(fsync="always", terms=2)
    judge = _Judge(model, 1, symmetry=False, recovery=Recovery())
    initial = next(iter(model.initial_states()))
    stood = next(nxt for action, nxt in model.successors(initial) if action.kind == "timeout")
    cut = frozenset({"C"})
    pair = _mark(stood, cut)
    judge._root = pair
    judge.relaxed.cut_off = cut
    kinds = {hash(_mark(judge.pruned(nxt), cut)): action.kind
             for action, nxt in judge.relaxed.successors(stood) if allowed(action, cut)}
    tried = [kinds[key] for key, _state in judge._successors(pair)]
    assert {"deliver", "timeout"} <= set(tried)
    assert tried == sorted(tried, key=lambda kind: kind == "timeout")


def test_the_deepest_first_pass_shows_its_progress(monkeypatch):
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    monkeypatch.setattr(progress_module, "LOG_EVERY", 0.0)
    stream = io.StringIO()
    outcome, _, _ = check_availability(raft(fsync="always", terms=1), 1, symmetry=True,
                                       breadth_first_budget=0, progress=ProgressLine(stream))
    assert outcome.verdict == "ok"
    lines = [line for line in stream.getvalue().splitlines() if "deepest first" in line]
    judged = [re.search(r"([\d,]+) of ([\d,]+) states judged", line) for line in lines]
    assert lines and all(judged)
    counts = [(int(m[1].replace(",", "")), int(m[2].replace(",", ""))) for m in judged]
    assert all(0 < done < total for done, total in counts)
    assert [done for done, _ in counts] == sorted(done for done, _ in counts)
