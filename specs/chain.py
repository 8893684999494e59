"""Chain replication with a master, after van Renesse and Schneider, "Chain
Replication for Supporting High Throughput and Availability" (OSDI 2004).

Replicas form a chain.  The client writes to the head; each replica appends
the write to its log and forwards it to its successor; the tail appends it
and acknowledges it to the client (and, once reads are modelled, answers
reads: every write the tail has is acknowledged).  A master, a node of its
own role backed by its own consensus service (the paper's Paxos-replicated
master), never fails and keeps the chain: when a replica reports that it
restarted, the master either removes it and sends the shorter chain to the
rest (``readmit=false``, the paper's fail-stop handling) or lets it back in
at its old place (``readmit=true``: the replica and the master trust its
disk, as a system does that treats a reboot as a short outage).

What the search shows (``--writes 2 --faults power_loss=1``):

``fsync=always``            durable, with or without re-admission;
``fsync=never, readmit=false`` durable: a replica that lost unsynced writes
                            never serves again, and each write it
                            acknowledged downstream is on the replicas
                            that remain;
``fsync=never, readmit=true`` loses an acknowledged write after one power
                            loss: the tail acknowledges write 1, loses it,
                            is re-admitted at its place, and appends write
                            2 where write 1 was (10 steps, the gallery's
                            ``amnesiac_tail``).  That is the seed's story:
                            the protocol tolerates crashes, not a replica
                            that comes back having forgotten.

Modelling choices:

* Links are FIFO (``network=fifo``), as the paper assumes: a replica
  forwards writes without sequence checks, so over the bag (``-p
  network=bag``) two writes can overtake each other and the chain's logs
  diverge (``update_propagation``, 3 steps).  Over ``tcp`` a restart also
  loses the restarted replica's messages in flight; verdicts are the same.
* A forwarded write carries its position only so that a replica can ignore
  one it already has (the resend after a reconfiguration may repeat some);
  it does not check for gaps: FIFO links and fail-stop replicas leave none.
* After a middle replica is removed, its successor asks its new predecessor
  for the writes after its own log's end (the paper's "Sent" resend); a
  replica that becomes the tail acknowledges its whole log (acknowledging
  again changes nothing).  A re-admitted replica resumes its place without
  asking: that is what re-admission means.
* A restarted replica tells the master with a timeout (``rejoin``): the
  master learns of a restart by the replica reporting it, the way a
  failure detector learns of a reboot.
* Reads are not modelled here; a read at the tail would be a handler of the
  tail answering from its log.
"""

from __future__ import annotations

from typing import Literal

from modelcheck import invariant
from modelcheck.actors import DurableLog, Node, Protocol, Volatile, World, on, timeout
from modelcheck.gallery import Counterexample

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
    summary = "Chain replication with a master; fsync=never with readmit=true loses acked writes"
    roles = {"replica": Replica, "master": Master}
    default_writes = 2
    default_faults = "power_loss=1"
    counterexamples = [
        Counterexample("amnesiac_tail", "the tail acks a write, loses it unsynced, is "
                       "re-admitted and takes the next write at its position",
                       params=("fsync=never", "readmit=true")),
        Counterexample("reordered", "over an unordered network two forwarded writes overtake "
                       "each other and the chain's logs diverge",
                       params=("network=bag",)),
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
        for name in world.nodes[MASTER].chain:
            node = world.nodes[name]
            if node.chain and node.neighbour(1) is None:
                log = tuple(node.log)
                if any(position > len(log) or log[position - 1] != value
                       for value, position in world.acked):
                    return False
        return True
