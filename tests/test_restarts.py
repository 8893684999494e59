"""Ghost fields, on_restart sends and permanent stops (tests/restarts_spec.py).

State counts are enumerated by hand in the comments; the spec's nodes are
A and B unless said otherwise.
"""

import json
import os

import pytest
from click.testing import CliRunner

from modelcheck.actors import FaultBudget
from modelcheck.actors.stops import is_stopped
from modelcheck.cli import main
from modelcheck.engine import explore
from modelcheck.run import Options, run, verdicts
from tests.restarts_spec import Restarts

SPEC = os.path.join(os.path.dirname(__file__), "restarts_spec.py")


def model(faults="crash=1", **params):
    protocol = Restarts(**params)
    protocol.configure(faults=FaultBudget.parse(faults))
    return protocol


def after(protocol, state, kind, node="A"):
    """The states ``kind`` at ``node`` leads to from ``state``."""
    return [nxt for action, nxt in protocol.successors(state)
            if action.kind == kind and action.node == node]


def restarts(protocol, state, name):
    i = protocol.node_index[name]
    return protocol.inspect(name, state[0][i]).restarts


def test_ghosts_survive_a_crash_and_a_power_loss():
    protocol = model("crash=1,power_loss=1")
    start = next(protocol.initial_states())
    crashed = after(protocol, start, "crash")[0]
    assert restarts(protocol, crashed, "A") == 1
    # The memory came back to its default, the ghost did not.
    for lost_power in after(protocol, crashed, "power_loss"):
        assert restarts(protocol, lost_power, "A") == 2


def test_ghosts_survive_a_stop():
    protocol = model("crash=1,stop=1")
    crashed = after(protocol, next(protocol.initial_states()), "crash")[0]
    stopped = after(protocol, crashed, "stop")[0]
    assert is_stopped(stopped[0][0]) and restarts(protocol, stopped, "A") == 1


def test_on_restart_sends_into_the_network():
    protocol = model()
    crashed = after(protocol, next(protocol.initial_states()), "crash")[0]
    assert [(m.src, m.dst, m.kind) for m in crashed[1]] == [("A", "B", "Hello")]


@pytest.mark.parametrize("symmetry", [True, False])
def test_restart_greetings_count_by_hand(symmetry):
    # From the start: crash A (A counts 1, Hello to B in flight), then B
    # takes the Hello; the same with A and B swapped: 1 + 2 + 2 = 5 states.
    # The ghost alone tells the crashed node from the other.
    outcome = run(SPEC, [], Options(only=("nobody_greeted",), symmetry=symmetry,
                                    faults="crash=1")).outcome
    assert outcome.verdict == "violation" and len(outcome.path) == 3


def space(faults, symmetry=True, **params):
    """The whole state space's figures (the invariant switched off)."""
    return explore(model(faults, watch=False, **params), symmetry=symmetry).stats


def test_ghost_fields_count_as_state():
    # The whole space: the 5 states enumerated above.  Were the ghost not
    # part of the state, the crash alone would change nothing but the bag.
    assert space("crash=1").distinct_states == 5


def cli(*args):
    return CliRunner().invoke(main, ["check", SPEC, *args])


def test_ghosts_stay_out_of_a_default_trace_and_json():
    text = cli("--faults", "crash=1")
    assert text.exit_code == 1 and "restarts=" not in text.output
    data = json.loads(cli("--faults", "crash=1", "--json").output)
    assert all("restarts" not in step["state"]["A"] for step in data["trace"])


def test_ghosts_show_with_the_flag():
    text = cli("--faults", "crash=1", "--ghosts")
    assert text.exit_code == 1
    assert "restarts=1" in text.output
    data = json.loads(cli("--faults", "crash=1", "--json", "--ghosts").output)
    shown = [step["state"][name]["restarts"] for step in data["trace"] for name in "AB"]
    assert sorted(shown) == [0, 0, 0, 0, 1, 1]


def test_ghosts_flag_is_for_actor_specs():
    result = CliRunner().invoke(main, ["check", "two_phase", "--ghosts"])
    assert result.exit_code == 2 and "--ghosts" in result.output


@pytest.mark.parametrize("symmetry", [True, False])
def test_stops_count_by_hand(symmetry):
    # Budget crash=1, stop=1, two nodes.  Writing X for one node and Y for
    # the other (each shape below also exists with A and B swapped):
    #   1. crash X (Hello X->Y in flight)      2. stop X
    #   3. crash X, Y takes the Hello
    #   4. crash X, stop X (the Hello left before X stopped: still deliverable)
    #   5. crash X, stop Y (the Hello to Y stays in flight, never delivered;
    #      stop Y then crash X is the same state)
    #   6. crash X, Hello delivered, stop X (also: crash X, stop X, deliver)
    #   7. crash X, Hello delivered, stop Y
    # and nothing else: a stopped node neither crashes nor receives.
    # 7 shapes, twice each, and the initial state: 15.
    stats = space("crash=1,stop=1", symmetry)
    assert stats.distinct_states == 15
    assert stats.kept_states == (8 if symmetry else 15)


def test_a_stop_reads_in_the_trace():
    result = cli("--faults", "stop=1", "--unreachable", "1", "--only", "available")
    assert result.exit_code == 1
    assert "2. ■ A stops for good" in result.output


def test_a_stopped_node_is_as_good_as_unreachable():
    # Two nodes, one stopped, the other unreachable: nobody takes the probe
    # write, and the shortest way there is the stop alone (2 steps).
    pair = verdicts(SPEC, [], Options(faults="stop=1", unreachable=1, only=("available",)))
    assert pair.availability.outcome.verdict == "violation"
    assert len(pair.availability.outcome.path) == 2
    stuck = pair.availability
    assert any("stopped for good" in line for line in stuck.reasons)
    # Without the stop, the reachable node takes the write.
    fine = verdicts(SPEC, [], Options(faults="crash=1", unreachable=1, only=("available",)))
    assert fine.availability.outcome.verdict == "ok"


def test_fewest_faults_counts_a_stop():
    # Greeting needs a crash; a stop never helps, so fewest faults is 1.
    report = run(SPEC, [], Options(faults="stop=1,crash=1", minimize="faults",
                                   only=("nobody_greeted",)))
    labels = [str(step.action) for step in report.steps[1:]]
    assert len(labels) == 2 and "crashes" in labels[0]


def test_the_explorer_marks_ghosts_and_stopped_nodes():
    from modelcheck.explorer.session import ModelChoice, Session
    session = Session(ModelChoice(SPEC, (), faults="stop=1,crash=1"), SPEC)
    start = next(session.model.initial_states())
    stop_a = next(i for i, (a, _) in enumerate(session.model.successors(start))
                  if a.kind == "stop" and a.node == "A")
    nodes = {n["name"]: n for n in session.view([stop_a])["state"]["nodes"]}
    assert nodes["A"]["stopped"] and not nodes["B"]["stopped"]
    ghosts = [f["name"] for f in nodes["A"]["fields"] if f.get("ghost")]
    assert ghosts == ["restarts"]
