"""The actor layer: protocols as nodes with memory, a disk and messages.

The framework owns the network, partitions, crashes, the disk's sync
semantics, the client and the fault budget, and compiles all of it into a
``modelcheck.Model``.
"""

from modelcheck.actors.assume import assume
from modelcheck.actors.faults import FaultBudget
from modelcheck.actors.network import Message
from modelcheck.actors.node import Durable, DurableLog, Ghost, Node, Volatile, on, timeout
from modelcheck.actors.protocol import Action, Protocol, World

__all__ = [
    "Action", "Durable", "DurableLog", "FaultBudget", "Ghost", "Message", "Node", "Protocol",
    "Volatile", "World", "assume", "on", "timeout",
]
