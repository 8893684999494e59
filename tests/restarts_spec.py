"""A small spec for ghost fields, restarts that send, stops and assumptions.

A node that restarts counts it in a ghost field and greets every peer from
``on_restart``; a greeted node remembers who greeted it (in memory).  Writes
go to any node, which acknowledges them at once.  The state counts the tests
pin are worked out by hand in tests/test_restarts.py.
"""

from modelcheck import invariant
from modelcheck.actors import DurableLog, Ghost, Node, Protocol, Volatile, assume, on


class Greeter(Node):
    log = DurableLog()
    greeted_by = Volatile(frozenset())
    restarts = Ghost(0)

    def on_restart(self):
        self.restarts = self.restarts + 1
        self.broadcast("Hello")

    @on("Hello")
    def on_hello(self, msg):
        self.greeted_by = self.greeted_by | {msg.src}

    def on_client_write(self, value):
        self.log.append(value)
        self.fsync()
        self.ack(value, len(self.log))


class Restarts(Protocol):
    node = Greeter
    default_writes = 0
    default_faults = "crash=1"

    def __init__(self, nodes: int = 2, assumed: bool = False, frozen: bool = False,
                 watch: bool = True) -> None:
        super().__init__(nodes)
        self.assumed = assumed
        self.frozen = frozen
        self.watch = watch

    @assume
    def one_restart_in_all(self, world):
        return not self.assumed or sum(n.restarts for n in world.nodes.values()) <= 1

    @assume
    def nothing_written(self, world):
        return not self.frozen or not any(n.log for n in world.nodes.values())

    @invariant
    def nobody_greeted(self, world):
        return not self.watch or all(not n.greeted_by for n in world.nodes.values())
