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


NO_DEFAULTS = """
from modelcheck.actors import DurableLog, Node, Protocol


class Replica(Node):
    log = DurableLog()

    def on_client_write(self, value):
        self.log.append(value)
        self.ack(value, len(self.log))

    def committed(self):
        return tuple(self.log)


class Plain(Protocol):
    node = Replica
"""


def test_a_spec_without_default_faults_gets_one_power_loss_and_no_partition(tmp_path):
    path = tmp_path / "plain.py"
    path.write_text(NO_DEFAULTS)
    loaded = load(str(path))
    model = loaded.build(loaded.resolve([]))
    seen = set(model.initial_states())
    todo, kinds = list(seen), set()
    while todo:
        for label, nxt in model.successors(todo.pop()):
            kinds.add(label.kind)
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert "power_loss" in kinds
    assert not kinds & {"partition", "heal", "crash", "drop", "duplicate"}
    # One power loss at most: no state has spent two.
    assert max(state[4][0] for state in seen) == 1


@pytest.mark.parametrize("name", ["raft", "kafka", "quorum_log", "primary_backup"])
def test_shipped_specs_declare_their_budgets(name):
    # Their pinned verdicts (test_raft, test_kafka, ...) are for their own
    # budgets, not the base class's default.
    assert "default_faults" in vars(load(name).model_class)
