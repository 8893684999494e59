"""Chain replication with a master, after van Renesse and Schneider, "Chain
Replication for Supporting High Throughput and Availability" (OSDI 2004).

Replicas form a chain.  The client writes to the head; each replica appends
the write to its log and forwards it to its successor; the tail appends it
and acknowledges it to the client (and, once reads are modelled, answers
reads: every write the tail has is acknowledged).  A master, a node of its
own role backed by its own consensus service (the paper replicates its
master for fault tolerance), never fails and keeps the chain: when a replica reports that it
restarted, the master either removes it and sends the shorter chain to the
rest (``readmit=false``, the paper's fail-stop handling) or lets it back in
at its old place (``readmit=true``: the replica and the master trust its
disk, as a system does that treats a reboot as a short outage).

What the search shows (``--writes 2 --faults power_loss=1``, 3 replicas):

``fsync=always``
    durable, with or without re-admission, over FIFO links and TCP.
``fsync=never, readmit=false``
    durable: the master removes a replica that restarted, so one that
    forgot never serves again; every write the tail acknowledged is on
    every replica still in the chain.
``fsync=never, readmit=true``
    one power loss is enough.  The tail acknowledges write 1, loses it, and
    is re-admitted as the tail with an empty log: a read at the tail would
    miss an acknowledged write (``tail_complete``, 7 steps, the gallery's
    ``amnesiac_tail``).  Or the head loses a write the middle has and is
    re-admitted as head: the chain's logs no longer extend each other
    (``update_propagation``, 6 steps, ``amnesiac_head``), and the head's
    next write takes position 1, which the middle ignores as a copy of what
    it has, so that write is never acknowledged.

The built-in ``durability`` (the tail's committed log against the
acknowledgements) holds in all of these: the re-admitted tail asks its
predecessor for the writes after its log's end, ignores a write past a gap,
and so never commits another value where the lost one was.  Without that
gap check (replicas that trust FIFO links to leave no gaps,
tests/test_chain.py) write 2 lands at position 1 on the tail and
``durability`` breaks in 10 steps: the seed's story.  Either way the
protocol tolerates replicas that crash, not a replica that comes back
having forgotten (why-fsync.txt).

Modelling choices:

* Links are FIFO (``network=fifo``), as the paper assumes; ``network=tcp``
  also loses a restarted replica's messages in flight, with the same
  verdicts.  Over the bag a write may overtake another; the gap check asks
  again, and the resends overtake each other too: the search does not end
  (still growing at BFS level 127 after 300 s), so the bag is not offered.
* A forwarded write carries its log position: a replica ignores a copy of
  what it has and asks its predecessor (``Need``) when it sees a gap.
* After a reconfiguration a replica with a new predecessor asks it for the
  writes after its own log's end (the paper's "Sent" resend); a replica
  that becomes the tail acknowledges its whole log (acknowledging again
  changes nothing).  A re-admitted replica resumes its place trusting its
  disk: that is what re-admission means.
* A restarted replica tells the master with a timeout (``rejoin``), the way
  a failure detector learns of a reboot: a restart is a crash and a
  recovery in one step, so the master never sees the replica down.
* The master keeps its chain in memory (``Volatile``): it never fails.
* The master learns only of restarts, not of silence, so ``--unreachable 1``
  is stuck at once: a replica cut off for good stays in the chain.  A
  failure detector that suspects silent replicas would answer availability.
* Reads are not modelled; a read at the tail would be a handler of the
  tail answering from its log, and ``tail_complete`` is what it checks.
"""

from __future__ import annotations

from typing import Literal

from modelcheck import invariant
from modelcheck.actors import DurableLog, Node, Protocol, Volatile, World, on, timeout
from modelcheck.gallery import Counterexample
from modelcheck.run import Options

MASTER = "M"


class Replica(Node):
    log = DurableLog()  # the writes, in the order the head took them
    chain = Volatile(())  # the chain as last heard from the master; () while out of it
    restarted = Volatile(False)  # has yet to tell the master it restarted

    def on_start(self):
        self.chain = self.protocol.names_of("replica")

    def on_restart(self):
        self.chain, self.restarted = (), True

    def neighbour(self, step: int) -> str | None:
        """The replica ``step`` places down the chain (-1: up), if any."""
        if self.name not in self.chain:
            return None
        i = self.chain.index(self.name) + step
        return self.chain[i] if 0 <= i < len(self.chain) else None

    def append(self, value):
        self.log.append(value)
        if self.protocol.fsync == "always":
            self.fsync()
        successor = self.neighbour(1)
        if successor is None:
            self.ack(value, len(self.log))
        else:
            self.send(successor, "Forward", position=len(self.log), value=value)

    def on_client_write(self, value):
        if self.chain and self.chain[0] == self.name:
            self.append(value)

    @on("Forward", label=("position", "value"))
    def on_forward(self, msg):
        if msg.src != self.neighbour(-1) or msg.position <= len(self.log):
            return  # not from the predecessor, or a copy of a write it has
        if msg.position == len(self.log) + 1:
            self.append(msg.value)
        else:  # a gap: writes sent before a reconfiguration went elsewhere
            self.send(msg.src, "Need", length=len(self.log))

    @on("Need")
    def on_need(self, msg):
        if msg.src == self.neighbour(1):
            for position in range(msg.length + 1, len(self.log) + 1):
                self.send(msg.src, "Forward", position=position, value=self.log[position - 1])

    @on("Config")
    def on_config(self, msg):
        before = self.neighbour(-1)
        self.chain = msg.chain if self.name in msg.chain else ()
        predecessor = self.neighbour(-1)
        if predecessor is not None and predecessor != before:
            self.send(predecessor, "Need", length=len(self.log))
        if self.chain and self.neighbour(1) is None:
            for position, value in enumerate(self.log, start=1):
                self.ack(value, position)

    @timeout
    def rejoin(self):
        if self.restarted:
            self.restarted = False
            self.send(MASTER, "Restarted")

    def committed(self):
        """The tail's log: every write on it is acknowledged, or about to be."""
        if self.chain and self.neighbour(1) is None:
            return tuple(self.log)
        return None


class Master(Node):
    names = (MASTER,)
    faults = ()  # replicated by its own consensus service: never fails
    serves_client = False
    chain = Volatile(())  # never lost: the master does not fail

    def on_start(self):
        self.chain = self.protocol.names_of("replica")

    @on("Restarted")
    def on_restarted(self, msg):
        if msg.src not in self.chain:
            return
        if self.protocol.readmit:
            self.send(msg.src, "Config", chain=self.chain)
            return
        self.chain = tuple(n for n in self.chain if n != msg.src)
        for member in self.chain:
            self.send(member, "Config", chain=self.chain)


class Chain(Protocol):
    summary = ("Chain replication with a master; fsync=never with readmit=true: the tail "
               "misses an acked write")
    roles = {"replica": Replica, "master": Master}
    # The initial chain A, B, C is no orbit of its own: its renamings (B, A, C)
    # are not initial states, so orbit sizes would overcount the states and
    # the reduction saves next to nothing (the chain's order tells nodes apart).
    symmetric = False
    default_writes = 2
    default_faults = "power_loss=1"
    counterexamples = [
        Counterexample("amnesiac_tail", "the tail acks a write, loses it unsynced and is "
                       "re-admitted as the tail without it",
                       params=("fsync=never", "readmit=true"),
                       options=Options(only=("tail_complete",))),
        Counterexample("amnesiac_head", "the head loses a write the middle has and is "
                       "re-admitted as the head: the chain's logs diverge",
                       params=("fsync=never", "readmit=true")),
    ]

    def __init__(self, replicas: int = 3, fsync: Literal["always", "never"] = "always",
                 readmit: bool = False, network: Literal["fifo", "tcp"] = "fifo"
                 ) -> None:
        super().__init__(replica=replicas, master=1)
        self.fsync = fsync
        self.readmit = readmit
        self.network = network

    @invariant
    def update_propagation(self, world: World) -> bool:
        """The paper's Update Propagation Invariant: along the master's chain,
        each replica's log is a prefix of its predecessor's (a restarted
        replica not yet back in its chain serves nothing and is left out)."""
        chain = [name for name in world.nodes[MASTER].chain if world.nodes[name].chain]
        logs = [tuple(world.nodes[name].log) for name in chain]
        return all(earlier[: len(later)] == later for earlier, later in zip(logs, logs[1:]))

    @invariant
    def tail_complete(self, world: World) -> bool:
        """The tail, which answers reads, has every acknowledged write where
        it was acknowledged: what a read at the tail would check."""
        return self.missing_at_tail(world) is None

    def missing_at_tail(self, world: World) -> str | None:
        """Which acknowledged write a tail lacks, or None."""
        for name in world.nodes[MASTER].chain:
            node = world.nodes[name]
            if node.chain and node.neighbour(1) is None:
                log = tuple(node.log)
                for value, position in sorted(world.acked):
                    if position > len(log) or log[position - 1] != value:
                        return (f"{name} is the tail, but its log {list(log)} lacks write "
                                f"{value}, acknowledged at position {position}: a read at "
                                "the tail would miss it")
        return None

    def explain(self, prop: str, state) -> str:
        if prop == "tail_complete":
            return f"tail_complete broken: {self.missing_at_tail(World(self, state))}"
        return super().explain(prop, state)
