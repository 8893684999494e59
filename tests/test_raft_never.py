"""Raft with nothing fsynced loses an acknowledged write too.

Its shortest loss is not the lost log tail: a follower forgets the term it
voted in, so it accepts the deposed leader's entry and lets it be
acknowledged; the new leader then overwrites it.

The search keeps 1.2M states and takes minutes, so these tests replay the
committed trace instead; bench/long_searches.py searches it again and proves
it minimal with a search bounded one level short of it.
"""

import json
from pathlib import Path

from modelcheck.load import load

RAFT = load("raft")
TRACE = Path(__file__).resolve().parent.parent / "counterexamples" / "raft-never.json"


def never():
    return RAFT.build(RAFT.resolve(["fsync=never"]))


def replay():
    """The committed trace as (action, state) steps of the model: each step's
    printed action must name a successor of the state before."""
    model = never()
    trace = json.loads(TRACE.read_text())["trace"]
    state = next(iter(model.initial_states()))
    steps = [(None, state)]
    for printed in trace[1:]:
        matches = [(a, s) for a, s in model.successors(state) if str(a) == printed["action"]]
        assert len(matches) == 1, f"step {printed['step']} does not replay: {printed['action']}"
        steps.append(matches[0])
        state = matches[0][1]
    return model, steps


def test_never_loses_an_acknowledged_write_after_forgetting_a_term():
    model, steps = replay()
    assert model.lost_write(steps[-1][1]) is not None
    assert all(model.lost_write(s) is None for _, s in steps[:-1])
    losses = [i for i, (a, _) in enumerate(steps) if a is not None and a.kind == "power_loss"]
    assert len(losses) == 1 and "current_term rolls back" in steps[losses[0]][0].detail
    acked_at = next(i for i, (_, s) in enumerate(steps) if s[3][1])
    assert losses[0] < acked_at  # acknowledged with the forgetful server's help
    assert "write 1 is lost" in model.explain("durability", steps[-1][1])

