"""Atomic steps across nodes: what a protocol does outside any one node.

Some parts of a system are modelled as instantaneous: a controller backed by
its own consensus service (ZooKeeper, KRaft) that decides a partition's
leader in one step, or a request and its reply merged into one step.  A
protocol writes them as methods marked ``@step``::

    class Kafka(Protocol):
        def initial_shared(self):
            return Partition(leader=None, epoch=0, isr=frozenset("ABC"))

        @step("controller elects {} leader")
        def elect(self, cluster: Cluster, name: str) -> None:
            if cluster.shared.leader is None:
                cluster.shared = cluster.shared._replace(leader=name)
                cluster[name].role = "leader"

A step runs once for each node name (the node it is about) and may read and
change any node, through ``cluster[name]``, and the state outside the nodes,
``cluster.shared`` (an immutable value the step replaces).  A step that
changes nothing is not a step, as with timeouts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modelcheck.actors.authoring import check_parameters, decorator_argument
from modelcheck.errors import SpecError

if TYPE_CHECKING:
    from modelcheck.actors.node import Node, NodeState
    from modelcheck.actors.protocol import Protocol

StepMethod = Callable[..., None]


def step(label: str, *, fences: bool = False) -> Callable[[StepMethod], StepMethod]:
    """Mark a protocol method ``(self, cluster, name)`` as an atomic step.

    ``label`` reads as the step in a trace; ``{}`` stands for the node name.
    ``fences``: the step is the rest of the system giving up on the node it
    is about (a controller expiring its session), so it can happen while
    that node is unreachable; what it writes into that node is the node's
    own view of the decision, which it cannot act on while unreachable (see
    modelcheck.available).
    """
    decorator_argument(label, "step", '"controller elects {} leader"')

    def mark(fn: StepMethod) -> StepMethod:
        fn.__modelcheck_step__ = label  # type: ignore[attr-defined]
        fn.__modelcheck_fences__ = fences  # type: ignore[attr-defined]
        return fn

    return mark


def steps_of(protocol: type) -> dict[str, tuple[str, bool]]:
    """Method name to (label, fences), for every ``@step`` of a protocol class."""
    found: dict[str, tuple[str, bool]] = {}
    for klass in reversed(protocol.__mro__):
        for name, value in vars(klass).items():
            if (label := getattr(value, "__modelcheck_step__", None)) is not None:
                check_parameters(klass, name, value, "a @step", ("cluster", "name"))
                found[name] = (label, getattr(value, "__modelcheck_fences__", False))
    return found


class Cluster:
    """Every node, writable, and the shared state, for one atomic step."""

    def __init__(self, protocol: Protocol, nodes: tuple[NodeState, ...], shared: Any) -> None:
        self.protocol = protocol
        self.shared = shared
        self._nodes = nodes
        self._thawed: dict[int, Node] = {}
        self._notes: list[str] = []

    @property
    def names(self) -> tuple[str, ...]:
        return self.protocol.node_names

    def __getitem__(self, name: str) -> Node:
        i = self.protocol.node_index.get(name)
        if i is None:
            raise SpecError(f"no node named {name!r} (nodes: {', '.join(self.names)})")
        node = self._thawed.get(i)
        if node is None:
            node = self.protocol.node_classes[i]._thaw(name, self.protocol, self._nodes[i],
                                                        writable=True)
            self._thawed[i] = node
        return node

    def note(self, text: str) -> None:
        """Say in the trace what this step did that its fields do not show."""
        self._notes.append(text)
