"""Tiny actor specs whose availability is worked out by hand (test_available).

``Quorum``: the client writes to any node, which stores the value and sends
it to every peer; each peer stores it and answers; the node acknowledges
once a majority (itself included) holds it.  Nothing is ever in the way but
the count, so with u unreachable nodes it is available exactly when the
n - u others are a majority: from any state, the client can send the next
write to a reachable node and the reachable peers answer it.

``OneShot`` and ``Toggle`` pin down what counts as recovering (see the
tests that use them).

``Lease``: a node takes the lease in an atomic step (at most ``epochs``
takes in all) and then acknowledges every write it gets; a node without the
lease ignores writes.  With ``steal`` a node may take the lease from its
holder, else only a lease nobody holds.
"""

from __future__ import annotations

from typing import NamedTuple

from modelcheck.actors import DurableLog, Node, Protocol, Volatile, on, timeout
from modelcheck.actors.cluster import Cluster, step


class Keeper(Node):
    stored = Volatile(frozenset())  # the values this node holds
    answers = Volatile(frozenset())  # (value, peer): who stored what I sent

    def on_client_write(self, value: int) -> None:
        self.stored |= {value}
        self.broadcast("Store", value=value)

    @on("Store")
    def on_store(self, msg) -> None:
        self.stored |= {msg.value}
        self.send(msg.src, "Stored", value=msg.value)

    @on("Stored")
    def on_stored(self, msg) -> None:
        self.answers |= {(msg.value, msg.src)}
        if sum(value == msg.value for value, _ in self.answers) + 1 == self.majority:
            self.ack(msg.value, msg.value)


class Quorum(Protocol):
    node = Keeper
    default_writes = 1
    default_faults = "none"


class Lessee(Node):
    holds = Volatile(False)

    def on_client_write(self, value: int) -> None:
        if self.holds:
            self.ack(value, value)


class Lease(Protocol):
    node = Lessee
    default_writes = 1
    default_faults = "none"

    class Shared(NamedTuple):
        holder: str | None
        takes: int

    def __init__(self, nodes: int = 3, epochs: int = 1, steal: bool = True) -> None:
        super().__init__(nodes)
        self.epochs, self.steal = epochs, steal

    def initial_shared(self) -> Lease.Shared:
        return Lease.Shared(None, 0)

    def recovery(self) -> Lease:
        relaxed = super().recovery()
        relaxed.epochs = self.epochs + 1
        return relaxed

    @step("{} takes the lease")
    def take(self, cluster: Cluster, name: str) -> None:
        lease = cluster.shared
        if lease.takes >= self.epochs or lease.holder == name:
            return
        if lease.holder is not None and not self.steal:
            return
        # The old holder is not told: touching it would need it reachable.
        cluster.shared = Lease.Shared(name, lease.takes + 1)
        cluster[name].holds = True


class FixedLease(Lease):
    """Lease without the recovery allowance for its epochs bound."""

    def recovery(self) -> Lease:
        return Protocol.recovery(self)


class Spender(Node):
    spent = Volatile(False)

    def on_client_write(self, value: int) -> None:
        if not self.spent:
            self.spent = True
            self.ack(value, value)


class OneShot(Protocol):
    """Each node acknowledges one write in its life, any write it gets."""

    node = Spender
    default_writes = 1
    default_faults = "none"


class Switch(Node):
    off = Volatile(False)

    @timeout
    def toggle(self) -> None:
        self.off = not self.off

    def on_client_write(self, value: int) -> None:
        if not self.off:
            self.ack(value, value)


class Toggle(Protocol):
    """A node that acknowledges writes while its switch is on, and flips the
    switch at any moment: every state can acknowledge, some only after a
    flip back."""

    node = Switch
    default_writes = 0
    default_faults = "none"


class Scribe(Lessee):
    log = DurableLog()

    def on_client_write(self, value: int) -> None:
        if self.holds:
            self.log.append(value)
            self.ack(value, len(self.log))

    def committed(self) -> tuple[int, ...]:
        return tuple(self.log)


class ForgetfulLease(Lease):
    """Each holder logs the writes it acknowledges in its own log, so a new
    holder acknowledges the next write at a position already acknowledged."""

    node = Scribe
    default_writes = 2


class NoTermAllowance:
    """Mixed into Raft: recovery within its own term bound (test-only switch)."""

    def recovery(self) -> Protocol:
        return Protocol.recovery(self)  # type: ignore[arg-type]
