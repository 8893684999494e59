"""Messages and the network: an unordered bag of messages in flight, and a
partition that splits the nodes into two sides.

The client always stays with the nodes that are not isolated.
"""

from __future__ import annotations

from typing import Any


class Message:
    """An immutable message.  Body fields read as attributes: ``msg.term``."""

    __slots__ = ("src", "dst", "kind", "body", "_hash", "_key")

    def __init__(self, src: str, dst: str, kind: str, body: tuple[tuple[str, Any], ...]) -> None:
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "dst", dst)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "body", body)
        # Hashed once: a message sits in many states of the search.
        object.__setattr__(self, "_hash", hash((src, dst, kind, body)))
        object.__setattr__(self, "_key", (src, dst, kind, repr(body)))

    def __getattr__(self, name: str) -> Any:
        for field, value in object.__getattribute__(self, "body"):
            if field == name:
                return value
        raise AttributeError(f"message {self.kind} has no field {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("messages are immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Message)
            and self._hash == other._hash
            and self._key == other._key
            and self.body == other.body
        )

    def __lt__(self, other: Message) -> bool:
        return self._key < other._key

    def fields(self) -> dict[str, Any]:
        return dict(self.body)

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={_show(v)}" for k, v in self.body)
        return f"{self.kind}({body})"


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value) if not isinstance(value, str) else value


Bag = tuple[Message, ...]


def put(bag: Bag, messages: list[Message]) -> Bag:
    return tuple(sorted(bag + tuple(messages))) if messages else bag


def take(bag: Bag, message: Message) -> Bag:
    i = bag.index(message)
    return bag[:i] + bag[i + 1 :]


def distinct(bag: Bag) -> list[Message]:
    """Each different message once (copies behave alike)."""
    out: list[Message] = []
    for m in bag:
        if not out or out[-1] != m:
            out.append(m)
    return out


def connected(isolated: frozenset[str], a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are on the same side of the partition."""
    return (a in isolated) == (b in isolated)
