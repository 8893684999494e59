"""Small specs with several node roles and ordered links, for the tests of
modelcheck.actors.roles, modelcheck.actors.links and role-wise symmetry."""

from modelcheck import invariant
from modelcheck.actors import DurableLog, Node, Protocol, Volatile, on


class Worker(Node):
    """Takes client writes and reports each to the coordinator."""

    log = DurableLog()
    granted = Volatile(0)

    def on_client_write(self, value):
        self.log.append(value)
        self.send("K", "Report", value=value)

    @on("Grant")
    def on_grant(self, msg):
        self.granted = msg.value


class Coordinator(Node):
    """Never fails and takes no client writes; grants every report."""

    names = ("K",)
    faults = ()
    serves_client = False
    seen = Volatile(frozenset())

    @on("Report")
    def on_report(self, msg):
        self.seen = self.seen | {msg.src}
        self.send(msg.src, "Grant", value=msg.value)


class Office(Protocol):
    """Two interchangeable workers and a coordinator."""

    roles = {"worker": Worker, "coordinator": Coordinator}
    default_writes = 2
    default_faults = "crash=1,partition=1"

    def __init__(self, workers: int = 2) -> None:
        super().__init__(workers)


class Sender(Node):
    """Passes each client write on to the receiver, in the order taken."""

    def on_client_write(self, value):
        self.send("R", "Put", value=value)


class Receiver(Node):
    names = ("R",)
    serves_client = False
    got = Volatile(())  # (sender, value) in arrival order

    @on("Put")
    def on_put(self, msg):
        self.got = self.got + ((msg.src, msg.value),)


class Relay(Protocol):
    """Correct only over ordered links: a sender's writes arrive in order."""

    roles = {"sender": Sender, "receiver": Receiver}
    default_writes = 2
    default_faults = "none"

    def __init__(self, senders: int = 2, network: str = "fifo") -> None:
        super().__init__(senders)
        self.network = network

    @invariant
    def in_order(self, world) -> bool:
        """Each sender's values arrive in increasing order."""
        got = world.nodes["R"].got
        return all(a[1] < b[1] for i, a in enumerate(got) for b in got[i + 1:] if a[0] == b[0])
