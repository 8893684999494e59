"""Recoverability (@recoverable): every state can still reach a good state."""

import numpy as np
import pytest
from click.testing import CliRunner

from modelcheck import SpecError, explore, recoverable
from modelcheck.actors import FaultBudget
from modelcheck.cli import main
from modelcheck.load import load
from modelcheck.recover import first_stuck_numbered
from tests.ladder_spec import Ladder


def test_first_stuck_state_and_its_shortest_trace():
    result = explore(Ladder())
    assert result.verdict == "violation" and result.property == "home"
    assert result.path == [0, 1, 2, 3]
    assert "no run from the last state" in Ladder().explain("home", 3)


def test_every_state_can_get_home():
    assert explore(Ladder(trap=False)).verdict == "ok"


def test_invariants_alone_ignore_recoverability():
    assert explore(Ladder(), only=("below_two",)).verdict == "ok"


def test_an_incomplete_search_cannot_judge_it():
    result = explore(Ladder(), max_depth=3)
    assert result.verdict == "incomplete"


def test_a_raising_property_is_named():
    class Broken(Ladder):
        @recoverable
        def home(self, s):
            return 1 / (s - 2) > 0

    with pytest.raises(SpecError, match="recoverable property home raised ZeroDivisionError"):
        explore(Broken())


KIP966_CRASHES = ["version=kip966", "epochs=1"]


def kafka(*params):
    spec = load("kafka")
    model = spec.build(spec.resolve(list(params)))
    model.configure(writes=1, faults=FaultBudget.parse("crash=2"))
    return model


def test_symmetry_keeps_the_verdict_and_the_depth():
    reduced = explore(kafka(*KIP966_CRASHES), symmetry=True, only=("available",))
    full = explore(kafka(*KIP966_CRASHES), only=("available",))
    assert reduced.verdict == full.verdict == "violation"
    assert len(reduced.path) == len(full.path)


def test_cli_lists_it_among_the_checked_properties():
    result = CliRunner().invoke(main, ["check", "kafka", "-p", "epochs=1", "--faults", "none",
                                       "--writes", "1"])
    assert result.exit_code == 0, result.output
    assert "available" in result.output


def test_a_misspelt_property_gets_a_suggestion():
    result = CliRunner().invoke(main, ["check", "kafka", "--only", "availble"])
    assert result.exit_code == 2
    assert "did you mean 'available'?" in result.output


def test_actor_specs_explain_a_stuck_state_as_such():
    from modelcheck.actors import Node, Protocol

    class Idle(Node):
        pass

    class Stuck(Protocol):
        node = Idle
        default_writes = 0

        @recoverable
        def serving(self, world):
            return False

    model = Stuck(2)
    state = next(iter(model.initial_states()))
    assert "lost for good" in model.explain("serving", state)
    assert explore(model).property == "serving"


@pytest.mark.parametrize("model, only", [
    (Ladder(), ()), (Ladder(trap=False), ()),
    (kafka(*KIP966_CRASHES), ("available",)),
    (kafka("version=3.4", "epochs=1"), ("available",)),
])
def test_the_fingerprint_store_judges_as_the_exact_store(model, only):
    """The fingerprint store numbers states and keeps steps as number pairs;
    same verdict, counts and trace as the exact store's dict of lists."""
    symmetry = model.symmetry_size() > 1
    exact = explore(model, symmetry=symmetry, only=only)
    fingerprinted = explore(model, symmetry=symmetry, only=only, store="fingerprint")
    assert (fingerprinted.verdict, fingerprinted.property, fingerprinted.path) == (
        exact.verdict, exact.property, exact.path)
    assert fingerprinted.stats.kept_states == exact.stats.kept_states
    assert fingerprinted.stats.transitions == exact.stats.transitions


def test_backward_search_over_numbered_steps():
    """0 is good; 1 -> 0; 2 -> 1 and 3 -> 1 (two predecessors of one state);
    4 only loops on itself: 4 is the one stuck state."""
    good = np.array([True, False, False, False, False])
    sources, targets = np.array([1, 2, 3, 4]), np.array([0, 1, 1, 4])
    assert first_stuck_numbered(good, sources, targets) == 4
    assert first_stuck_numbered(good, sources[:3], targets[:3]) == 4
    assert first_stuck_numbered(good[:4], sources[:3], targets[:3]) is None
