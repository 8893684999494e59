"""Generated actor protocols for the sleep-set tests: every handler is a
table drawn by Hypothesis, so the protocols have no structure the tests
could lean on.  Nodes are interchangeable (the tables read values only, and
messages go back to their sender or to every peer), so symmetry applies."""

from modelcheck import invariant
from modelcheck.actors import Durable, Node, Protocol, Volatile, on, timeout

#: A rule: the node's next (x, y), whether it fsyncs x, what it sends
#: (None, ("reply", v) or ("broadcast", v)), and whether it acknowledges.
Rule = tuple[tuple[int, int], bool, tuple[str, int] | None, bool]


class Cell(Node):
    x = Durable(0)
    y = Volatile(0)

    def follow(self, rule: Rule, sender: str | None = None, value: int = 0) -> None:
        (self.x, self.y), sync, send, acks = rule
        if sync:
            self.fsync()
        if send is not None:
            how, v = send
            if how == "reply" and sender is not None:
                self.send(sender, "M", v=v)
            else:
                self.broadcast("M", v=v)
        if acks:
            self.ack(value)

    @timeout
    def tick(self):
        self.follow(self.protocol.ticks[self.x, self.y])

    @on("M")
    def on_m(self, msg):
        self.follow(self.protocol.receives[self.x, self.y, msg.v], msg.src, msg.v)

    def on_client_write(self, value):
        self.follow(self.protocol.writes_[self.x, self.y], value=value)


class Cells(Protocol):
    node = Cell
    default_writes = 1
    default_faults = "none"

    def __init__(self, nodes: int, ticks: dict, receives: dict, writes: dict,
                 total_below: int, network: str = "bag") -> None:
        super().__init__(nodes)
        self.ticks, self.receives, self.writes_ = ticks, receives, writes
        self.total_below, self.network = total_below, network

    @invariant
    def bounded(self, world) -> bool:
        return sum(n.x + n.y for n in world.nodes.values()) + len(world.acked) < self.total_below
