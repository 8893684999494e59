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
        waiting = self.rejoining is not None
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
        if isinstance(self.rejoining, frozenset):
            self.rejoining = None


def test_rejoining_before_a_complete_instance_loses_a_write():
    # The leader's catch-up cannot include a slot whose Accepted from the
    # restarted acceptor is still on its way: the acceptor forgot that
    # acceptance, votes again, and a second leader reuses the slot.
    result = explore(model("fsync=never", "rejoin=pml", "ballots=1", node=RejoinsOnCatchUp),
                     symmetry=True)
    assert (result.verdict, result.property) == ("violation", "durability")


class RejoinsOnAnyLeadersChoice(multi_paxos.Replica):
    """Mutant: votes again on a slot at or after a leader's next slot being
    chosen, by whichever leader chose it."""

    def on_chosen(self, msg) -> None:
        if isinstance(self.rejoining, frozenset):
            self.rejoining = frozenset((msg.src, first) for _, first in self.rejoining)
        super().on_chosen(msg)


def _take(protocol: Protocol, state, kind: str, node: str, message: str | None = None,
          sender: str | None = None, slot: int | None = None):
    """The state after the one enabled step that matches."""
    steps = [nxt for action, nxt in protocol.successors(state)
             if action.kind == kind and action.node == node
             and (message is None or (action.message.kind, action.message.src)
                  == (message, sender))
             and (slot is None or action.message.slot == slot)]
    assert len(steps) == 1, f"{len(steps)} steps {kind} {node} {message} from {sender}"
    return steps[0]


def _c_forgets_all(protocol: Protocol, steps: list[tuple]):
    """The state after ``steps`` and a power loss that takes C's promise and
    every acceptance back."""
    s = next(protocol.initial_states())
    for step in steps:
        s = _take(protocol, s, *step)
    return next(nxt for action, nxt in protocol.successors(s)
                if action.kind == "power_loss" and action.node == "C"
                and not protocol.inspect("C", nxt[0][2]).instances
                and protocol.inspect("C", nxt[0][2]).promised.round == 0)


@pytest.mark.parametrize("replica, lost", [(multi_paxos.Replica, False),
                                           (RejoinsOnAnyLeadersChoice, True)])
def test_a_slot_chosen_by_another_leader_does_not_let_a_replica_rejoin(replica, lost):
    # Two leaders: A of round 1, which never hears of round 2, and B of
    # round 2 with C's promise.  B puts write 1 in slot 1 and C accepts it,
    # then loses power and forgets both.  C asks to rejoin; A answers that
    # its next slot is 1.  C's Accepted, sent before the power loss, reaches
    # B: write 1 is chosen and acknowledged, and B tells C.  That slot is at
    # A's next slot, but B started it before C restarted: C must not vote
    # on it.  If C does, A puts write 2 in slot 1 and C, whose promise of
    # round 2 is gone, accepts round 1: write 2 is acknowledged at slot 1 too.
    protocol = model("fsync=never", "rejoin=pml", "ballots=2", node=replica)
    s = _c_forgets_all(protocol, [
        ("timeout", "A"), ("deliver", "B", "Prepare", "A"), ("deliver", "A", "Promise", "B"),
        ("timeout", "B"), ("deliver", "C", "Prepare", "B"), ("deliver", "B", "Promise", "C"),
        ("write", "B"), ("deliver", "C", "Accept", "B")])
    for step in [("timeout", "C"), ("deliver", "A", "Recovering", "C"),
                 ("deliver", "B", "Recovering", "C"), ("deliver", "B", "Accepted", "C"),
                 ("deliver", "C", "CatchUp", "A"), ("deliver", "C", "Chosen", "B")]:
        s = _take(protocol, s, *step)
    assert {value for value, _ in s[3][1]} == {1}
    assert (protocol.inspect("C", s[0][2]).rejoining is None) == lost
    s = _take(protocol, s, "write", "A")
    accepted = [nxt for action, nxt in protocol.successors(s)
                if action.kind == "deliver" and action.node == "C"
                and action.message.kind == "Accept" and action.message.src == "A"
                and any(m.kind == "Accepted" and m.src == "C" for m in nxt[1])]
    assert len(accepted) == lost  # a replica not yet voting takes no step there
    for s in accepted:
        s = _take(protocol, s, "deliver", "A", "Accepted", "C")
        assert {value for value, _ in s[3][1]} == {1, 2}
        assert protocol.invariants()["durability"](s) is False


class RejoinsWithAGap(multi_paxos.Replica):
    """Mutant: votes again once an instance started after its restart is
    complete, without waiting to know the slots below it."""

    def rejoin_if_caught_up(self) -> None:
        if isinstance(self.rejoining, int):
            self.rejoining = None


@pytest.mark.parametrize("replica, lost", [(multi_paxos.Replica, False),
                                           (RejoinsWithAGap, True)])
def test_a_replica_rejoins_only_once_it_knows_every_slot_below_the_complete_one(
        replica, lost):
    # A leads round 1 with B's promise; write 1 goes to slot 1 and C
    # accepts it, then loses power.  A catches C up before slot 1 is
    # chosen (next slot 2); C's Accepted, sent before the power loss, then
    # gets slot 1 chosen with C's forgotten acceptance.  Write 2 is chosen
    # in slot 2 by A and B, and C hears of slot 2 before slot 1.  Voting
    # again then, C would promise B's round 2 knowing nothing of slot 1,
    # and B, which never saw slot 1's Accept, fills it with a no-op.
    protocol = model("fsync=never", "rejoin=pml", "ballots=2", node=replica)
    s = _c_forgets_all(protocol, [
        ("timeout", "A"), ("deliver", "B", "Prepare", "A"), ("deliver", "A", "Promise", "B"),
        ("write", "A"), ("deliver", "C", "Accept", "A")])
    for step in [("timeout", "C"), ("deliver", "A", "Recovering", "C"),
                 ("deliver", "A", "Accepted", "C"), ("deliver", "C", "CatchUp", "A"),
                 ("write", "A"), ("deliver", "B", "Accept", "A", 2),
                 ("deliver", "A", "Accepted", "B", 2), ("deliver", "C", "Chosen", "A", 2)]:
        s = _take(protocol, s, *step)
    assert {value for value, _ in s[3][1]} == {1, 2}
    c = protocol.inspect("C", s[0][2])
    assert c.rejoining == (None if lost else 2)
    if not lost:  # slot 1's Chosen, on its way, fills the gap
        caught_up = _take(protocol, s, "deliver", "C", "Chosen", "A", 1)
        assert protocol.inspect("C", caught_up[0][2]).rejoining is None
    s = _take(protocol, s, "timeout", "B")
    promised = [nxt for action, nxt in protocol.successors(s)
                if action.kind == "deliver" and action.node == "C"
                and (action.message.kind, action.message.src) == ("Prepare", "B")]
    assert len(promised) == lost  # a replica not yet voting takes no step there
    for s in promised:
        for step in [("deliver", "B", "Promise", "C"), ("deliver", "C", "Accept", "B", 1),
                     ("deliver", "B", "Accepted", "C", 1)]:
            s = _take(protocol, s, *step)
        assert protocol.invariants()["durability"](s) is False


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
