"""Partitions add no behaviour a late message does not already give.

In a bag network a partition only holds messages back (and keeps an isolated
node's acknowledgements from the client).  So every state reachable with
partitions has a twin reachable without them: the same nodes, the same
messages in flight, the same other faults spent, and at least the same
acknowledgements.  Every property of nodes that only grows harder with more
acknowledgements (durability, election safety) therefore gets the same
verdict and the same minimal depth with and without ``partition`` in the
budget.  The specs rely on this to leave partitions out of their default
budgets; these tests check it by plain enumeration on small instances.
"""

import pytest

from modelcheck.actors.faults import FaultBudget
from modelcheck.actors.protocol import PARTITION
from modelcheck.load import load


def reachable(spec, params, faults, writes):
    loaded = load(spec)
    model = loaded.build(loaded.resolve(params))
    model.configure(writes=writes, faults=FaultBudget.parse(faults))
    seen = set(model.initial_states())
    todo = list(seen)
    while todo:
        for _label, nxt in model.successors(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def twin_key(state):
    nodes, bag, _isolated, _client, used, shared = state
    return nodes, bag, used[:PARTITION] + used[PARTITION + 1 :], shared


@pytest.mark.parametrize("spec, params, faults, writes", [
    ("raft", ["terms=1"], "power_loss=1", 1),
    ("primary_backup", [], "power_loss=1", 2),
])
def test_every_partitioned_state_has_an_unpartitioned_twin(spec, params, faults, writes):
    without = reachable(spec, params, faults, writes)
    acks: dict = {}
    for state in without:
        acks.setdefault(twin_key(state), []).append(state[3][1])
    partitioned = reachable(spec, params, f"{faults},partition=2", writes)
    assert len(partitioned) > len(without)  # the partitions did happen
    for state in partitioned:
        acked = state[3][1]
        twins = acks.get(twin_key(state), ())
        assert any(acked <= other for other in twins), state
