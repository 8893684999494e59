"""Traces from parent links (engine/replay.py) and the discovery order that
decides which counterexample is reported (engine/order.py)."""

import pytest

from modelcheck import Model, explore, invariant
from modelcheck.engine.fingerprint import fingerprint
from modelcheck.engine.order import first_found
from modelcheck.engine.replay import rebuild
from modelcheck.trace import ReplayError


class Diamond(Model):
    """0 -> 1, 2; 1 -> 3, 4; 2 -> 4, 5.  States 3, 4 and 5 are bad."""

    edges = {0: [1, 2], 1: [3, 4], 2: [4, 5]}

    def initial_states(self):
        yield 0

    def successors(self, x):
        for y in self.edges.get(x, []):
            yield f"to{y}", y

    @invariant
    def small(self, x):
        return x < 3


def test_first_found_takes_the_least_discovery_key():
    assert first_found([((3, 1), "c"), ((1, 5), "a"), ((1, 7), "b")]) == "a"
    assert first_found([((-1, 2), "init"), ((0, 0), "later")]) == "init"
    assert first_found([]) is None


@pytest.mark.parametrize("store", ["exact", "fingerprint"])
def test_the_search_reports_the_violation_of_least_key(store):
    # Discovery numbers: 0 -> #0, 1 -> #1, 2 -> #2.  Bad states found in level
    # 3: 3 with key (1, 0), 4 with (1, 1), 5 with (2, 1).  The least is 3.
    violations = [((1, 0), [0, 1, 3]), ((1, 1), [0, 1, 4]), ((2, 1), [0, 2, 5])]
    outcome = explore(Diamond(), store=store)
    assert outcome.path == first_found(violations) == [0, 1, 3]


class Shuffled(Diamond):
    """Enumerates successors in reverse on every other call, as a spec that
    iterates a set of strings may do in another process."""

    calls = 0

    def successors(self, x):
        Shuffled.calls += 1
        steps = list(super().successors(x))
        return reversed(steps) if Shuffled.calls % 2 else steps


def test_rebuild_follows_action_indexes_and_checks_fingerprints():
    links = [(0, fingerprint(0)), (1, fingerprint(2)), (1, fingerprint(5))]
    assert rebuild(Diamond(), None, links) == [0, 2, 5]
    with pytest.raises(ReplayError, match="step 3"):
        rebuild(Diamond(), None, [*links[:2], (1, fingerprint(6))])


def test_rebuild_finds_a_successor_by_fingerprint_when_the_order_changed():
    links = [(0, fingerprint(0)), (0, fingerprint(1)), (1, fingerprint(4))]
    Shuffled.calls = 0
    assert rebuild(Shuffled(), None, links) == [0, 1, 4]
