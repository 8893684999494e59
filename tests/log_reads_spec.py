"""A two-node log whose leader serves reads: the pattern of issue #14 that
prefix durability misses and reads in durability catch.

A is the leader for good (no elections).  It appends a write, sends it to
B, and acknowledges the write once B has it on disk; its own copy is synced
only with ``leader_fsync``.  It keeps the committed length in memory, so
after a power loss that takes its unsynced tail it commits nothing and its
committed prefix is empty: no position ever holds a different value, so
the prefix check of durability sees no loss.  A read served by A returns
the shorter log: write, B appends, A hears back and acknowledges, A loses
power, read: five steps.
"""

from modelcheck.actors import DurableLog, Node, Protocol, Volatile, on
from modelcheck.linearizable import Log


class Member(Node):
    log = DurableLog()
    commit = Volatile(0)

    def on_client_write(self, value):
        if self.name == "A":
            self.log.append(value)
            if self.protocol.leader_fsync:
                self.fsync()
            self.send("B", "Append", entries=tuple(self.log))

    def on_client_read(self, op):
        if self.name == "A":
            self.respond(op, tuple(self.log))

    @on("Append")
    def on_append(self, msg):
        self.log.truncate(0)
        self.log.extend(msg.entries)
        self.fsync()
        self.send("A", "Appended", length=len(msg.entries))

    @on("Appended")
    def on_appended(self, msg):
        if self.commit < msg.length <= len(self.log):
            for position in range(self.commit + 1, msg.length + 1):
                self.ack(self.log[position - 1], position)
            self.commit = msg.length

    def committed(self):
        return tuple(self.log)[: self.commit]


class LeaderReads(Protocol):
    node = Member
    symmetric = False
    behaves_as = Log()
    default_writes = 1
    default_reads = 1
    default_faults = "power_loss=1"

    def __init__(self, leader_fsync: bool = False) -> None:
        super().__init__(2)
        self.leader_fsync = leader_fsync
