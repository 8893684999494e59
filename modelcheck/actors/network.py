"""Messages and the network: an unordered bag of messages in flight, and a
partition that splits the nodes into two sides.

The client always stays with the nodes that are not isolated.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from modelcheck.errors import SpecError
from modelcheck.trace import show

_RESERVED = {"src", "dst", "kind", "body", "order"}


class Message(int):
    """An immutable message.  Body fields read as attributes: ``msg.term``.

    Messages are interned: equal messages are one object, so they compare by
    identity.  They hash by their content, at C speed: a message is an int
    whose value is its content's hash, so a state's ``hash`` is the same in
    every process forked from one (whose salts agree), and forked workers
    can give a state its owner by it (``engine.share``).  The value means
    nothing else: two messages may share it and still differ.
    """

    _interned: dict[tuple[Any, ...], Message] = {}

    src: str
    dst: str
    kind: str
    body: tuple[tuple[str, Any], ...]
    #: The bag's canonical sort key; independent of what the process did
    #: before, so traces come out the same in every run.
    order: tuple[str, str, str, str]

    def __new__(cls, src: str, dst: str, kind: str, body: tuple[tuple[str, Any], ...]) -> Message:
        key = (src, dst, kind, body)
        message = cls._interned.get(key)
        if message is None:
            clash = _RESERVED.intersection(name for name, _ in body)
            if clash:
                raise SpecError(f"message {kind} uses reserved field name(s) {sorted(clash)}")
            message = int.__new__(cls, hash(key) or 1)  # never false
            message.__dict__.update(body)
            message.__dict__.update(src=src, dst=dst, kind=kind, body=body,
                                    order=(src, dst, kind, repr(body)))
            cls._interned[key] = message
        return message

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    __hash__ = int.__hash__

    def _unordered(self, other: object) -> Any:
        return NotImplemented  # no order but ``order``, as before messages were ints

    __lt__ = __le__ = __gt__ = __ge__ = _unordered

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("messages are immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message, (self.src, self.dst, self.kind, self.body))

    def fields(self) -> dict[str, Any]:
        return dict(self.body)

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={show(v)}" for k, v in self.body)
        return f"{self.kind}({body})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)


Bag = tuple[Message, ...]
_by_order = attrgetter("order")


def put(bag: Bag, messages: list[Message]) -> Bag:
    return tuple(sorted(bag + tuple(messages), key=_by_order)) if messages else bag


def take(bag: Bag, message: Message) -> Bag:
    i = bag.index(message)
    return bag[:i] + bag[i + 1 :]


def distinct(bag: Bag) -> list[Message]:
    """Each different message once (copies behave alike)."""
    return list(dict.fromkeys(bag))


def connected(isolated: frozenset[str], a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are on the same side of the partition."""
    return (a in isolated) == (b in isolated)
