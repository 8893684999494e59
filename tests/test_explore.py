"""The explorer on small hand-made models whose answers are known by hand."""

import pytest

from modelcheck import Model, SpecError, explore, invariant
from modelcheck.trace import ReplayError, label_path


class Counter(Model):
    """x counts up to `top`; two ways to add 1 so the graph has diamonds."""

    def __init__(self, top: int = 10, bad: int = -1) -> None:
        self.top, self.bad = top, bad

    def initial_states(self):
        yield 0

    def successors(self, x):
        if x < self.top:
            yield "inc", x + 1
            yield "also_inc", x + 1
        if x + 3 <= self.top:
            yield "jump", x + 3

    @invariant
    def not_bad(self, x):
        return x != self.bad


def test_counts_and_depth():
    # 0..10 are reachable; with jumps of 3, 10 is 4 steps away (3+3+3+1).
    outcome = explore(Counter(10))
    assert outcome.verdict == "ok"
    assert outcome.stats.distinct_states == 11
    assert outcome.stats.depth == 5


def test_shortest_counterexample_uses_jumps():
    outcome = explore(Counter(10, bad=7))
    assert outcome.verdict == "violation"
    # 7 needs at least three steps (two jumps and one increment).
    assert len(outcome.path) == 4 and outcome.path[-1] == 7
    labels = [s.action for s in label_path(Counter(10, bad=7), outcome.path)]
    assert sorted(labels[1:]) == ["inc", "jump", "jump"]


def test_invariant_checked_on_initial_state():
    outcome = explore(Counter(10, bad=0))
    assert outcome.verdict == "violation" and outcome.path == [0]


def test_max_depth_is_incomplete_only_when_states_remain():
    assert explore(Counter(10), max_depth=4).verdict == "incomplete"
    assert explore(Counter(10), max_depth=4).limit == "max-depth"
    assert explore(Counter(10), max_depth=5).verdict == "ok"


def test_max_states():
    outcome = explore(Counter(10), max_states=5)
    assert outcome.verdict == "incomplete" and outcome.limit == "max-states"
    assert outcome.stats.distinct_states == 5
    assert explore(Counter(10), max_states=11).verdict == "ok"


class Endless(Model):
    def initial_states(self):
        yield 0

    def successors(self, x):
        yield "inc", x + 1


def test_time_limit_ends_an_infinite_model():
    outcome = explore(Endless(), time_limit=0.2)
    assert outcome.verdict == "incomplete" and outcome.limit == "time-limit"
    assert outcome.stats.seconds < 5


def test_deadlock_only_when_asked():
    assert explore(Counter(4)).verdict == "ok"
    outcome = explore(Counter(4), deadlock=True)
    assert outcome.verdict == "violation" and outcome.property == "deadlock"
    assert outcome.path[-1] == 4 and len(outcome.path) == 3  # 0 -> 3 -> 4


def test_progress_callback_sees_growing_counts():
    seen = []
    explore(Endless(), time_limit=0.3, progress=lambda s: seen.append(s.distinct_states))
    assert seen and seen == sorted(seen)


def test_replay_rejects_a_fake_path():
    with pytest.raises(ReplayError):
        label_path(Counter(10), [0, 2])
    with pytest.raises(ReplayError):
        label_path(Counter(10), [1, 2])


class Broken(Model):
    def __init__(self, fault: str = "raise") -> None:
        self.fault = fault

    def initial_states(self):
        yield (0,)

    def successors(self, s):
        yield "step", (s[0] + 1,)
        if s[0] == 2:
            yield from self.faulty_action(s)

    def faulty_action(self, s):
        if self.fault == "raise":
            raise KeyError("missing")
        if self.fault == "list":
            yield "faulty_action", (s[0], [1, 2])
        if self.fault == "mutable":
            yield "faulty_action", (s[0], Opaque())
        if s[0] > 100:
            yield "never", s

    @invariant
    def small(self, s):
        if self.fault == "invariant" and s[0] == 3:
            raise ZeroDivisionError("boom")
        return s[0] < 5


class Opaque:
    pass


def test_action_exception_names_action_and_trace():
    with pytest.raises(SpecError) as err:
        explore(Broken("raise"))
    text = str(err.value)
    assert "faulty_action" in text and "KeyError" in text
    assert "trace that reached it" in text and "3. step" in text


def test_invariant_exception_names_invariant():
    with pytest.raises(SpecError) as err:
        explore(Broken("invariant"))
    assert "invariant small raised ZeroDivisionError" in str(err.value)


def test_unhashable_state():
    with pytest.raises(SpecError) as err:
        explore(Broken("list"))
    assert "unhashable" in str(err.value) and "list" in str(err.value)


def test_identity_hashed_state_is_refused():
    with pytest.raises(SpecError) as err:
        explore(Broken("mutable"))
    assert "hashes by identity" in str(err.value)


class MutableStart(Model):
    def initial_states(self):
        yield (1, frozenset({(2, Opaque())}))

    def successors(self, s):
        return []


def test_mutable_initial_state():
    with pytest.raises(SpecError) as err:
        explore(MutableStart())
    assert "mutable state" in str(err.value)
