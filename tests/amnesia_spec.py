"""A one-node spec whose shortest counterexamples are worked out by hand.

The node numbers writes with a counter in memory: any restart (a crash
is enough) forgets it, so the next write is acknowledged at position 1 again
and durability breaks: write, restart, write, three steps.  A power loss
works too, and so does losing the log, but never in fewer steps.
"""

from modelcheck.actors import DurableLog, Node, Protocol, Volatile


class Forgetful(Node):
    log = DurableLog()
    written = Volatile(0)

    def on_client_write(self, value):
        self.log.append(value)
        self.written = self.written + 1
        self.ack(value, self.written)

    def committed(self):
        return tuple(self.log)


class Amnesia(Protocol):
    node = Forgetful
    default_writes = 2
    default_faults = "power_loss=1,crash=1"

    def __init__(self) -> None:
        super().__init__(1)
