"""Raft with nothing fsynced loses an acknowledged write too.

Its shortest loss is not the lost log tail: a follower forgets the term it
voted in, so it accepts the deposed leader's entry and lets it be
acknowledged; the new leader then overwrites it.  Its own file, so the
test runner can give it a worker of its own (about 2.5 minutes).
"""

from functools import cache

from modelcheck import explore
from modelcheck.load import load
from modelcheck.trace import label_path

RAFT = load("raft")


def never():
    return RAFT.build(RAFT.resolve(["fsync=never"]))


@cache
def outcome():
    return explore(never(), symmetry=True, only=("durability",))


def test_never_loses_an_acknowledged_write_after_forgetting_a_term():
    result = outcome()
    assert result.verdict == "violation" and result.property == "durability"
    steps = label_path(never(), result.path)  # replays step by step
    losses = [s for s in steps[1:] if s.action.kind == "power_loss"]
    assert len(losses) == 1 and "current_term rolls back" in losses[0].action.detail
    acked_at = next(i for i, s in enumerate(steps) if s.state[3][1])
    assert steps.index(losses[0]) < acked_at  # acknowledged by the forgetful server
    assert "write 1 is lost" in never().explain("durability", result.path[-1])


def test_never_counterexample_is_minimal():
    shorter = explore(never(), symmetry=True, only=("durability",),
                      max_depth=len(outcome().path) - 1)
    assert shorter.verdict != "violation"
