"""A correct little spec: each file beside it makes one mistake in a subclass."""

from modelcheck.actors import DurableLog, Node, Protocol, Volatile, on, timeout


class Peer(Node):
    items = Volatile(())
    log = DurableLog()

    @timeout
    def start(self):
        if not self.items:
            self.items = ("started",)

    @on("Hello")
    def on_hello(self, msg):
        pass

    def on_client_write(self, value):
        self.log.append(value)
        self.fsync()
        self.ack(value, len(self.log))

    def committed(self):
        return tuple(self.log)


class Correct(Protocol):
    node = Peer
    default_writes = 1
    default_faults = "power_loss=1"

    def __init__(self, nodes: int = 2) -> None:
        super().__init__(nodes)
