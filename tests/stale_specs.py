"""A small protocol with stale messages, and rules for them right and wrong,
for the tests of modelcheck.actors.stale."""

from typing import Literal

from modelcheck import invariant
from modelcheck.actors import Durable, Node, Protocol, Volatile, on, timeout


class Beacon(Node):
    """Moves to the next epoch and says so; follows a later epoch it hears of."""

    epoch = Durable(0)
    heard = Volatile(frozenset())  # who said hello in this node's epoch

    def persist(self):
        if self.protocol.fsync:
            self.fsync()

    @timeout
    def advance(self):
        if self.epoch >= self.protocol.epochs:
            return
        self.epoch += 1
        self.heard = frozenset()
        self.persist()
        self.broadcast("Hello", epoch=self.epoch)

    @on("Hello")
    def on_hello(self, msg):
        if msg.epoch < self.epoch:
            return
        if msg.epoch > self.epoch:
            self.epoch = msg.epoch
            self.heard = frozenset()
            self.persist()
        self.heard |= {msg.src}

    def ignores(self, msg):
        match self.protocol.rule:
            case "sound":  # below every epoch the disk may hold
                return msg.epoch < min(self.survivors("epoch"))
            case "acts":  # a hello of its own epoch is heard
                return msg.epoch <= min(self.survivors("epoch"))
            case "unstable":  # an unsynced epoch is lost by a power loss
                return msg.epoch < self.epoch
            case "not_bool":
                return None


class Beacons(Protocol):
    node = Beacon
    default_writes = 0
    default_faults = "power_loss=1"

    def __init__(self, nodes: int = 3, epochs: int = 2, fsync: bool = True,
                 rule: Literal["sound", "acts", "unstable", "not_bool"] = "sound",
                 peek: bool = False) -> None:
        super().__init__(nodes)
        self.epochs = epochs
        self.fsync = fsync
        self.rule = rule
        self.peek = peek

    @invariant
    def someone_unheard(self, world) -> bool:
        """Fails once a node of the last epoch has heard from every other."""
        return not any(len(node.heard) == len(world.nodes) - 1 and node.epoch == self.epochs
                       for node in world.nodes.values())

    @invariant
    def few_in_flight(self, world) -> bool:
        """With ``peek``: reads the messages in flight."""
        return not self.peek or len(world.network) < 100
