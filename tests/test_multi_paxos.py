"""Multi-Paxos under fsync policies, and Paxos Made Live's rejoin rule.

Step counts are worked out by hand in each test.  ``ballots=1`` keeps most
searches to seconds: the loss needs no second round (an amnesiac acceptor
promises a second proposer the round it had promised the first), and with
one round per proposer the rejoin rule is still exercised.
"""

from collections import deque

import pytest

from modelcheck import explore
from modelcheck.actors import Protocol, Volatile, disk
from modelcheck.actors.faults import FaultBudget
from modelcheck.errors import SpecError
from modelcheck.load import load
from modelcheck.run import Options, build
from modelcheck.trace import label_path
from specs import multi_paxos

SPEC = load("multi_paxos")


def model(*params, node=None, faults=None):
    built = SPEC.build(SPEC.resolve(list(params)))
    if node is not None:  # every replica of the run is of this class
        built.node = node
        built.node_classes = (node,) * len(built.node_names)
    if faults is not None:
        built.configure(faults=FaultBudget.parse(faults))
    return built


def test_fsync_always_is_durable_with_two_rounds():
    # Two rounds let a second leader take over after the first chose a
    # write; every acceptor's promise and acceptance survive the power loss.
    assert explore(model("fsync=always"), symmetry=True).verdict == "ok"


def test_unsynced_acceptor_loses_a_chosen_write_in_13_steps():
    # A stands for round 1 (1 step), B's promise reaches A (2 more): A
    # leads.  Write 1 (4), B accepts (5), its Accepted reaches A (6): write
    # 1 is chosen by A and B and acknowledged at slot 1.  A power loss takes
    # back the promise and acceptance of one of them (7).  C stands for
    # round 1 (8), the amnesiac promises it with nothing accepted (9, 10),
    # C puts write 2 in slot 1 (11), the amnesiac accepts (12, 13): write 2
    # is acknowledged at slot 1 too.  Nothing shorter: the first choice
    # needs 6 steps, the loss one, and the second leader the same 6.
    lossy = model("fsync=never", "ballots=1")
    result = explore(lossy, symmetry=True)
    assert (result.verdict, result.property, len(result.path) - 1) == (
        "violation", "durability", 13)
    kinds = [step.action.kind for step in label_path(lossy, result.path)[1:]]
    assert kinds.count("power_loss") == 1 and kinds.count("write") == 2
    assert "both acknowledged at slot 1" in lossy.explain("durability", result.path[-1])


def test_pml_rejoin_is_durable_under_one_power_loss():
    # The restarted acceptor neither promises nor accepts until it has the
    # chosen slots and has seen a later slot chosen without it: the loss
    # above needs its promise, so it cannot happen.
    assert explore(model("fsync=never", "rejoin=pml", "ballots=1"),
                   symmetry=True).verdict == "ok"


class NotesRejoining(multi_paxos.Replica):
    """The spec's replica, noting in memory that it has voted again."""

    rejoined = Volatile(False)

    def on_chosen(self, msg) -> None:
        waiting = isinstance(self.rejoining, int)
        super().on_chosen(msg)
        if waiting and self.rejoining is None:
            self.rejoined = True


def test_pml_verdict_is_not_vacuous_a_restarted_replica_does_vote_again():
    # A leads with B's promise and C loses power (4 steps, in some order),
    # C asks and A answers (3), write 1 is accepted by B and chosen (3),
    # and C is told (1): 11 steps.
    watched = model("fsync=never", "rejoin=pml", "ballots=1", node=NotesRejoining)
    shipped = watched.invariants
    watched.invariants = lambda: {**shipped(), "nobody rejoins": lambda s: not any(
        ns[0][-1] for ns in s[0])}
    result = explore(watched, symmetry=True)
    assert (result.verdict, result.property, len(result.path) - 1) == (
        "violation", "nobody rejoins", 11)


class RejoinsOnCatchUp(multi_paxos.Replica):
    """Mutant: votes again as soon as a leader has caught it up, without
    waiting for an instance started after its restart to complete."""

    def on_catch_up(self, msg) -> None:
        super().on_catch_up(msg)
        if isinstance(self.rejoining, int):
            self.rejoining = None


def test_rejoining_before_a_complete_instance_loses_a_write():
    # The leader's catch-up cannot include a slot whose Accepted from the
    # restarted acceptor is still on its way: the acceptor forgot that
    # acceptance, votes again, and a second leader reuses the slot.
    result = explore(model("fsync=never", "rejoin=pml", "ballots=1", node=RejoinsOnCatchUp),
                     symmetry=True)
    assert (result.verdict, result.property) == ("violation", "durability")


def test_pml_with_fsync_always_is_refused():
    with pytest.raises(SpecError, match="rejoin=pml"):
        build("multi_paxos", ["fsync=always", "rejoin=pml"], Options())


def _shortest(protocol: Protocol, successors) -> dict:
    """Fewest steps to each (replica memory and disk contents, acknowledgements)."""
    def seen_as(state):
        nodes = tuple((volatile, tuple(disk.current(f) for f in files))
                      for volatile, files in state[0])
        return nodes, state[3][1]

    initial = next(protocol.initial_states())
    depth, queue, found = {initial: 0}, deque([initial]), {}
    while queue:
        state = queue.popleft()
        found.setdefault(seen_as(state), depth[state])
        for _action, nxt in successors(state):
            if nxt not in depth:
                depth[nxt] = depth[state] + 1
                queue.append(nxt)
    return found


@pytest.mark.parametrize("params", [
    ("fsync=never", "rejoin=pml", "ballots=1"),
    ("fsync=always", "ballots=1"),
])
def test_skipping_idle_deliveries_and_forgetting_spent_unsynced_writes_lose_nothing(params):
    # The spec leaves deliveries that change nothing undone and syncs every
    # file once no power loss is left.  The plain actor semantics must reach
    # the same replica states and acknowledgements, each in as few steps.
    reduced = model(*params)
    reduced.configure(writes=1)
    assert _shortest(reduced, reduced.successors) == _shortest(
        reduced, lambda s: Protocol.successors(reduced, s))
