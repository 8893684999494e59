"""The disk's sync semantics and the fault model, pinned on tiny protocols."""

from itertools import chain

import pytest

from modelcheck import explore
from modelcheck.actors import (
    Durable, DurableLog, FaultBudget, Node, Protocol, Volatile, on, timeout,
)
from modelcheck.actors import disk
from modelcheck.actors.protocol import FAULT_KINDS


class Writer(Node):
    """Appends 1, 2, 3 to its log; fsyncs only when told to."""

    log = DurableLog()
    stamp = Durable(0)
    appended = Volatile(0)

    @timeout
    def write(self):
        if len(self.log) < 3:
            self.log.append(len(self.log) + 1)
            self.stamp = len(self.log)
            self.appended += 1
            if self.protocol.sync_each:
                self.fsync()
                self.ack(self.log[-1], len(self.log))

    def committed(self):
        return tuple(self.log)


class Solo(Protocol):
    node = Writer
    default_writes = 0

    def __init__(self, nodes: int = 1, sync_each: bool = False) -> None:
        super().__init__(nodes)
        self.sync_each = sync_each


def run_writes(protocol, count):
    """The state after node A wrote `count` times, no faults."""
    state = next(protocol.initial_states())
    for _ in range(count):
        state = next(t for a, t in protocol.successors(state) if a.kind == "timeout")
    return state


def node_view(protocol, state, i=0):
    return Writer._thaw(protocol.node_names[i], protocol, state[0][i], writable=False)


def test_disk_file_semantics():
    f = disk.fresh(())
    f = disk.write(f, (1,))
    f = disk.write(f, (1, 2))
    assert disk.current(f) == (1, 2) and not disk.is_synced(f)
    assert set(disk.survivors(f)) == {(), (1,), (1, 2)}
    assert disk.survivors(disk.fsync(f)) == ((1, 2),)
    assert disk.write(f, (1, 2)) == f  # rewriting the same value is no write


def test_power_loss_yields_exactly_the_prefixes():
    protocol = Solo()
    protocol.configure(faults=FaultBudget(power_loss=1))
    state = run_writes(protocol, 3)  # log [1, 2, 3], stamp 3, nothing synced
    after = [t for a, t in protocol.successors(state) if a.kind == "power_loss"]
    outcomes = {(tuple(node_view(protocol, t).log), node_view(protocol, t).stamp) for t in after}
    # Two files, each keeping any prefix of its own writes: 4 x 4 outcomes.
    assert outcomes == {(log, stamp) for log in [(), (1,), (1, 2), (1, 2, 3)] for stamp in range(4)}
    for t in after:
        view = node_view(protocol, t)
        assert view.appended == 0  # memory is lost
        assert all(disk.is_synced(f) for f in t[0][0][1])  # what survived is on disk


def test_process_crash_keeps_written_data_and_loses_memory():
    protocol = Solo()
    protocol.configure(faults=FaultBudget(crash=1))
    state = run_writes(protocol, 2)
    (crashed,) = [t for a, t in protocol.successors(state) if a.kind == "crash"]
    before, after = node_view(protocol, state), node_view(protocol, crashed)
    assert tuple(after.log) == tuple(before.log) == (1, 2)
    assert crashed[0][0][1] == state[0][0][1]  # still unsynced, byte for byte
    assert before.appended == 2 and after.appended == 0


@pytest.mark.parametrize("budget", ["power_loss=2,crash=2", "power_loss=1", "crash=3"])
def test_fsynced_data_always_survives(budget):
    # Each write is fsynced, then acknowledged: durability must hold exhaustively.
    protocol = Solo(sync_each=True)
    protocol.configure(faults=FaultBudget.parse(budget))
    assert explore(protocol).verdict == "ok"


def test_unsynced_data_is_lost_to_power_loss_only():
    class AckEarly(Writer):
        def on_client_write(self, value):
            self.log.append(value)
            self.ack(value, len(self.log))  # acked before fsync

    class Early(Solo):
        node = AckEarly
        default_writes = 2

    crash_only = Early()
    crash_only.configure(faults=FaultBudget(crash=3))
    assert explore(crash_only).verdict == "ok"
    power = Early()
    power.configure(faults=FaultBudget(power_loss=1))
    outcome = explore(power)
    assert outcome.verdict == "violation" and outcome.property == "durability"


class Chatter(Node):
    """Every node pings every other node once; pongs come back."""

    pinged = Volatile(False)
    heard = Volatile(frozenset())

    @timeout
    def ping(self):
        if not self.pinged:
            self.pinged = True
            self.broadcast("Ping")

    @on("Ping")
    def on_ping(self, msg):
        self.heard = self.heard | {msg.src}

    def on_client_write(self, value):
        self.ack(value, value)


class Group(Protocol):
    node = Chatter
    default_writes = 1
    default_faults = "partition=2,drop=1,duplicate=1,crash=1,power_loss=1"

    def __init__(self, nodes: int = 3) -> None:
        super().__init__(nodes)


def reachable(protocol):
    seen, todo = set(), list(protocol.initial_states())
    while todo:
        s = todo.pop()
        if s not in seen:
            seen.add(s)
            todo.extend(t for _, t in protocol.successors(s))
    return seen


def test_fault_budget_is_never_exceeded():
    protocol = Group(nodes=2)
    limits = dict(zip(FAULT_KINDS, protocol.faults.limits()))
    states = reachable(protocol)
    kinds = len(FAULT_KINDS)
    assert all(s[4] == (0,) * kinds for s in protocol.initial_states())
    for s in states:
        for action, t in protocol.successors(s):
            spent = [t[4][k] - s[4][k] for k in range(kinds)]
            if action.kind in FAULT_KINDS:
                kind = FAULT_KINDS.index(action.kind)
                assert spent == [int(k == kind) for k in range(kinds)]
                assert t[4][kind] <= limits[action.kind]
            else:
                assert spent == [0] * kinds
    # Every kind was actually used up somewhere.
    for kind, limit in limits.items():
        assert any(s[4][FAULT_KINDS.index(kind)] == limit for s in states)


def test_partitions_block_exactly_the_crossing_messages():
    protocol = Group()
    start = next(protocol.initial_states())
    for actor in protocol.node_names:
        start = next(t for a, t in protocol.successors(start)
                     if a.kind == "timeout" and a.node == actor)
    assert len(start[1]) == 6  # every ordered pair has a Ping in flight
    cut = next(t for a, t in protocol.successors(start)
               if a.kind == "partition" and t[2] == frozenset({"A"}))
    delivered = {(a.message.src, a.message.dst)
                 for a, _ in protocol.successors(cut) if a.kind == "deliver"}
    assert delivered == {("B", "C"), ("C", "B")}
    written_to = {a.node for a, _ in protocol.successors(cut) if a.kind == "write"}
    assert written_to == {"B", "C"}
    healed = next(t for a, t in protocol.successors(cut) if a.kind == "heal")
    delivered = {(a.message.src, a.message.dst)
                 for a, _ in protocol.successors(healed) if a.kind == "deliver"}
    assert len(delivered) == 6


def test_isolated_node_ack_never_reaches_client():
    protocol = Group()
    start = next(protocol.initial_states())
    cut = next(t for a, t in protocol.successors(start)
               if a.kind == "partition" and t[2] == frozenset({"A", "B"}))
    writes = {a.node: t for a, t in protocol.successors(cut) if a.kind == "write"}
    assert set(writes) == {"C"} and writes["C"][3][1] == frozenset({(1, 1)})


def test_drop_and_duplicate():
    protocol = Group()
    state = next(protocol.initial_states())
    state = next(t for a, t in protocol.successors(state) if a.kind == "timeout")
    kinds = {a.kind: t for a, t in protocol.successors(state)}
    assert len(kinds["drop"][1]) == len(state[1]) - 1
    assert len(kinds["duplicate"][1]) == len(state[1]) + 1


def test_budget_parsing():
    assert FaultBudget.parse("power_loss=1,crash=2").limits() == (1, 2, 0, 0, 0, 0)
    assert FaultBudget.parse("stop=1").limits() == (0, 0, 0, 0, 0, 1)
    assert str(FaultBudget.parse("partition=2")) == "partition=2"
    for bad in ["nonsense=1", "crash=x", "crash=-1"]:
        with pytest.raises(Exception) as err:
            FaultBudget.parse(bad)
        assert "--faults" in str(err.value)


def test_all_node_fields_in_initial_state():
    protocol = Solo()
    (state,) = protocol.initial_states()
    assert state[0][0] == ((0,), (((),), (0,)))
    assert list(chain(*protocol.invariants())) != []
