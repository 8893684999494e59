"""Primary-backup replication: the primary acknowledges a write once every
node has it.  Parameter ``fsync`` says whether nodes fsync before replying.

Any node may take over as primary (a timeout: failure detectors can be
wrong).  Epochs keep two primaries apart: node k owns epochs k+1, k+1+n, ...,
so no two nodes ever lead the same epoch, and a node follows only the highest
epoch it has seen.  Since every acknowledged write is on every node, any new
primary has it -- unless a node forgot what it had written.
"""

from modelcheck.gallery import Counterexample
from modelcheck.actors import Durable, DurableLog, Node, Protocol, Volatile, on, timeout


class Replica(Node):
    epoch = Durable(0)  # highest epoch seen
    log = DurableLog()  # the replicated writes
    primary = Volatile(False)
    commit = Volatile(0)  # entries known to be on every node (primary only)
    acked_by = Volatile(frozenset())  # nodes that acked the current log

    def persist(self):
        if self.protocol.fsync:
            self.fsync()

    @timeout
    def take_over(self):
        n = len(self.protocol.node_names)
        mine = self.protocol.node_names.index(self.name) + 1
        epoch = mine + n * (self.epoch // n + (mine <= self.epoch % n))
        if self.primary or epoch > self.protocol.epochs:
            return
        self.epoch, self.primary, self.acked_by = epoch, True, frozenset()
        self.persist()
        self.broadcast("Replicate", epoch=epoch, entries=tuple(self.log))

    def on_client_write(self, value):
        if not self.primary:
            return  # the client must find the primary
        self.log.append(value)
        self.persist()
        self.acked_by = frozenset()
        self.broadcast("Replicate", epoch=self.epoch, entries=tuple(self.log))

    @on("Replicate")
    def on_replicate(self, msg):
        if msg.epoch < self.epoch:
            return  # from a deposed primary
        if msg.epoch == self.epoch and len(msg.entries) <= len(self.log):
            return  # an older copy: within an epoch the primary's log only grows
        if msg.epoch > self.epoch:
            self.epoch, self.primary = msg.epoch, False
        same = 0
        while same < min(len(self.log), len(msg.entries)) and self.log[same] == msg.entries[same]:
            same += 1
        self.log.truncate(same)
        self.commit = min(self.commit, same)
        self.log.extend(msg.entries[same:])
        self.persist()
        self.send(msg.src, "Ack", epoch=msg.epoch, length=len(msg.entries))

    @on("Ack")
    def on_ack(self, msg):
        if not self.primary or msg.epoch != self.epoch or msg.length != len(self.log):
            return
        self.acked_by = self.acked_by | {msg.src}
        if len(self.acked_by) == len(self.peers):
            for position in range(self.commit + 1, len(self.log) + 1):
                self.ack(self.log[position - 1], position)
            self.commit = len(self.log)

    def committed(self):
        return tuple(self.log)[: self.commit]


class PrimaryBackup(Protocol):
    summary = "Primary-backup replication to every node; fsync=false loses acked writes"
    node = Replica
    symmetric = False  # node k owns epochs k+1, k+1+n, ...: names matter
    default_writes = 2
    default_faults = "power_loss=1"
    counterexamples = [
        Counterexample("no_fsync", "a backup acks a write before it is on disk, loses it, "
                       "takes over", params=("fsync=false",)),
    ]

    def __init__(self, nodes: int = 2, fsync: bool = False, epochs: int = 2) -> None:
        super().__init__(nodes)
        self.fsync = fsync
        self.epochs = epochs
