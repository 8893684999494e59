"""Permanent stops: a node that halts for good (``--faults stop=1``).

A stopped node takes no more steps: nothing is delivered to it, it fires no
timeout, takes no client write, suffers no other fault, and no atomic
``@step`` may read or change it (a ``@step(fences=True)`` about it may
still run: the rest of the system giving up on it).  What it sent before it
stopped stays in flight and may still be delivered.  Messages to it stay in
the network too, never delivered: the network does not know the node is
gone, so this holds for any network representation, and a trace still
shows what was sent to it.

Its state stays in the global state, frozen, marked as stopped: properties
still read it (a committed prefix it announced before stopping still
counts for durability), and symmetry tells stopped nodes from live ones
because the mark is part of the node's state.  Ghost fields survive, as
they survive every fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelcheck.actors.node import NodeState
    from modelcheck.actors.protocol import Action

#: Appended to a node's state when it stops.  Not a node name, so renaming
#: nodes leaves it alone.
STOPPED = "\x00stopped"


def halt(node: NodeState) -> tuple[Any, ...]:
    """``node``'s state, stopped for good."""
    return (*node, STOPPED)


def is_stopped(node: tuple[Any, ...]) -> bool:
    return len(node) > 2 and node[-1] == STOPPED


def stopped(names: Sequence[str], nodes: Sequence[tuple[Any, ...]]) -> frozenset[str]:
    """The names of the stopped nodes."""
    if all(len(node) == 2 for node in nodes):  # the common case, on every step
        return frozenset()
    return frozenset(name for name, node in zip(names, nodes) if is_stopped(node))


def enabled(action: Action, gone: frozenset[str]) -> bool:
    """Whether ``action`` may happen while the nodes ``gone`` are stopped."""
    match action.kind:
        case "deliver":
            return action.message.dst not in gone
        case "step":
            return not action.reaches & gone
        case "drop" | "duplicate" | "partition" | "heal":
            return True
    return action.node not in gone
