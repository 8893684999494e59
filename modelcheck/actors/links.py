"""Network semantics: how messages in flight travel from node to node.

A protocol says ``network = "bag"``, ``"fifo"`` or ``"tcp"`` (a class
attribute, or set in ``__init__`` from a parameter):

``bag`` (the default)
    Messages in flight are an unordered multiset: any one may arrive next,
    and they survive restarts.  ``drop`` loses one message, ``duplicate``
    delivers one twice.
``fifo``
    One ordered link per ordered pair of nodes: only the oldest message of
    a link can arrive.  ``drop`` loses a link's oldest message (a later one
    is lost by waiting until it is the oldest, so no run is missing), and
    ``duplicate`` puts a copy of it right behind it.  Messages survive
    restarts, as in a network of datagrams with sequence numbers.
``tcp``
    FIFO links that are connections: when a node restarts (crash or power
    loss), every message in flight to or from it is lost.  ``drop`` breaks
    one connection, losing every message in flight on it; ``duplicate`` is
    refused: TCP never delivers a message twice.  A partition delays
    messages without breaking connections (TCP retransmits after healing).

The state's network stays one tuple of messages, so everything that reads
messages in flight (traces, charts, availability) reads all three alike.
In a bag it is sorted by each message's content; on links it is sorted by
link, (sender, receiver), with each link's messages oldest first (a stable
sort, so appending a link's new messages and re-sorting keeps its order).
Either way equal networks are equal tuples: states stay canonical.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

from modelcheck.actors.network import Bag, Message, distinct
from modelcheck.errors import SpecError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from modelcheck.actors.faults import FaultBudget

KINDS = ("bag", "fifo", "tcp")

_by_content = attrgetter("order")


def _by_link(message: Message) -> tuple[str, str]:
    return message.src, message.dst


class Links:
    """The operations of one network semantics on a state's messages."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ordered = name != "bag"
        self._key = _by_link if self.ordered else _by_content

    def arrange(self, messages: Iterable[Message]) -> Bag:
        """Messages as a state holds them (on links: each link's in the given order)."""
        return tuple(sorted(messages, key=self._key))

    def put(self, network: Bag, messages: list[Message]) -> Bag:
        """``network`` with ``messages`` sent, in this order."""
        return self.arrange(network + tuple(messages)) if messages else network

    def deliverable(self, network: Bag) -> list[Message]:
        """The messages that may arrive next, each different one once."""
        if not self.ordered:
            return distinct(network)
        # The first message of each run of one link is that link's oldest.
        return [m for i, m in enumerate(network)
                if i == 0 or _by_link(network[i - 1]) != _by_link(m)]

    def take(self, network: Bag, message: Message) -> Bag:
        """``network`` less one copy of ``message`` (on links: the oldest)."""
        i = network.index(message)
        return network[:i] + network[i + 1 :]

    def drop(self, network: Bag, message: Message) -> Bag:
        """``network`` after the network loses ``message`` (see the module docstring)."""
        if self.name == "tcp":
            link = _by_link(message)
            return tuple(m for m in network if _by_link(m) != link)
        return self.take(network, message)

    def duplicate(self, network: Bag, message: Message) -> Bag:
        """``network`` with a second copy of ``message`` (on a link: right behind it)."""
        i = network.index(message)
        return network[:i] + (message,) + network[i:]

    def restart(self, network: Bag, node: str) -> Bag:
        """``network`` after ``node`` restarts: over TCP its connections are reset."""
        if self.name != "tcp":
            return network
        kept = tuple(m for m in network if node not in (m.src, m.dst))
        return kept if len(kept) != len(network) else network

    def check_faults(self, faults: FaultBudget) -> None:
        """Refuse a fault budget this network cannot suffer."""
        if self.name == "tcp" and faults.duplicate:
            raise SpecError("--faults duplicate: the network is tcp, which never delivers "
                            "a message twice (use network fifo or bag to duplicate)")


_SEMANTICS = {name: Links(name) for name in KINDS}


def semantics(name: str, where: str) -> Links:
    """The network semantics called ``name``; ``where`` names the setting for errors."""
    links = _SEMANTICS.get(name) if isinstance(name, str) else None
    if links is None:
        raise SpecError(f"{where}: unknown network {name!r} (networks: {', '.join(KINDS)})")
    return links
