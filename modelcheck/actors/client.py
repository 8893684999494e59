"""The client's side of the global state: writes, reads and their history.

A protocol that says what object it implements (``behaves_as = Register()``
or ``Log()``, from modelcheck.linearizable) gets a client that also reads,
and a history of its operations: the client state is then
``(next_write, acked, history)`` instead of ``(next_write, acked)``.  The
history keeps only what future checks need (see modelcheck.linearizable):

* ``next_read``  the number of the next read the client issues;
* ``lin``        the pending operations and the configurations they leave;
* ``reading``    each pending read with the acknowledgements it began after;
* ``returned``   each read that returned, with its result (for traces);
* ``broken``     why the history is not linearizable, once it is not;
* ``missed``     why a read missed an acknowledged write, once one did.

A register's client is one writer: it issues a write only once the last
one is acknowledged, so the writes' order is their values' order, and a
read misses an acknowledged write exactly when it returns an older value.
Availability's probe write is the exception: the writer gives up waiting
for a write whose node may be unreachable for good.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from modelcheck import linearizable
from modelcheck.errors import SpecError
from modelcheck.linearizable import Linearization, Op, SequentialObject
from modelcheck.trace import show

if TYPE_CHECKING:
    from modelcheck.actors.protocol import Protocol

ClientState = tuple


class History(NamedTuple):
    next_read: int
    lin: Linearization
    reading: frozenset[tuple[int, frozenset]]
    returned: tuple[tuple[int, Any], ...]
    broken: str | None = None
    missed: str | None = None


def initial(protocol: Protocol) -> ClientState:
    if protocol.behaves_as is None:
        return (1, frozenset())
    history = History(1, linearizable.start(protocol.behaves_as), frozenset(), ())
    return (1, frozenset(), history)


def may_write(protocol: Protocol, client: ClientState) -> bool:
    """Whether the client issues its next write now."""
    next_write, acked = client[0], client[1]
    if next_write > protocol.writes:
        return False
    if next_write in (1, protocol.probe_write) or not _one_writer(protocol):
        return True
    return any(value == next_write - 1 for value, _position in acked)


def _one_writer(protocol: Protocol) -> bool:
    return isinstance(protocol.behaves_as, linearizable.Register)


def issue_write(client: ClientState) -> ClientState:
    """The client issues write ``next_write``."""
    next_write = client[0]
    if len(client) == 2:
        return (next_write + 1, client[1])
    history = client[2]
    op = Op("write", next_write, next_write)
    return (next_write + 1, client[1],
            history._replace(lin=linearizable.invoke(history.lin, op)))


def next_read(protocol: Protocol, client: ClientState) -> int | None:
    """The number of the read the client may issue now, or None."""
    if len(client) == 2 or client[2].next_read > protocol.reads:
        return None
    return client[2].next_read


def issue_read(client: ClientState) -> ClientState:
    """The client issues its next read."""
    next_write, acked, history = client
    number = history.next_read
    return (next_write, acked, history._replace(
        next_read=number + 1,
        lin=linearizable.invoke(history.lin, Op("read", number)),
        reading=history.reading | {(number, acked)}))


def hear(protocol: Protocol, client: ClientState, acks: list[tuple[Any, Any]],
         responses: list[tuple[int, Any]], by: str) -> ClientState:
    """The client after node ``by``'s acknowledgements and read responses
    reach it; the same object if there were none."""
    if not acks and not responses:
        return client
    acked = client[1] | frozenset(acks)
    if len(client) == 2:
        if responses:
            raise SpecError(f"node {by} responded to a read, but the protocol declares no "
                            "object (set behaves_as = Register() or Log() on the protocol)")
        return (client[0], acked)
    history = client[2]
    obj = protocol.behaves_as
    for value, position in acks:
        op = Op("write", value, value)
        if op in history.lin.pending and history.broken is None:
            history = _respond(history, obj, op, position, client[1])
    for number, result in responses:
        if not 1 <= number < history.next_read:
            raise SpecError(f"node {by} responded to read {number!r}, which the client "
                            f"never issued (issued so far: {history.next_read - 1})")
        op = Op("read", number)
        if op not in history.lin.pending:
            continue  # answered already: the client takes the first answer
        began_after = dict(history.reading)[number]
        history = history._replace(
            reading=history.reading - {(number, began_after)},
            returned=tuple(sorted(history.returned + ((number, result),))))
        if history.missed is None:
            history = history._replace(missed=_missed(obj, number, result, began_after))
        if history.broken is None:
            history = _respond(history, obj, op, result, acked, began_after)
    return (client[0], acked, history)


def _respond(history: History, obj: SequentialObject, op: Op, result: Any,
             acked: frozenset, began_after: frozenset = frozenset()) -> History:
    """``op`` returns ``result``; ``began_after``: the acknowledgements a read began after."""
    after = linearizable.respond(history.lin, obj, op, result)
    if after.linearizable:
        return history._replace(lin=after)
    earlier = {value for value, _position in began_after}
    values = sorted({value for value, _position in acked}, key=repr)
    done = [f"write {show(v)} acknowledged" + (f" before {op} began" if v in earlier else "")
            for v in values]
    done += [f"read {n} returned {obj.show_state(r)}" for n, r in history.returned
             if n != op.number or op.kind != "read"]
    why = linearizable.explain(history.lin, obj, op, result, done)
    return history._replace(lin=after, broken=why)


def _missed(obj: SequentialObject, number: int, result: Any,
            began_after: frozenset) -> str | None:
    """Why read ``number``, returning ``result``, missed a write acknowledged
    before it began; None if it missed none."""
    if not began_after:
        return None
    if isinstance(obj, linearizable.Register):
        latest = max(value for value, _position in began_after)
        if not (isinstance(result, int) and result >= latest):
            return (f"read {number} returned {obj.show_state(result)}, but write "
                    f"{show(latest)} was acknowledged before the read began: the read "
                    f"missed write {show(latest)}")
        return None
    for value, position in sorted(began_after, key=repr):
        if position is None or len(result) < position or result[position - 1] != value:
            return (f"read {number} returned {obj.show_state(result)}, but write "
                    f"{show(value)} was acknowledged at position {position} before the "
                    f"read began: the read missed write {show(value)}")
    return None


def describe(protocol: Protocol, client: ClientState) -> dict[str, str]:
    """The client's reads, for traces (nothing without a history)."""
    if len(client) == 2:
        return {}
    history = client[2]
    obj = protocol.behaves_as
    parts = [f"{n} → {obj.show_state(r)}" for n, r in history.returned]
    parts += [f"{n} pending" for n, _ in sorted(history.reading)]
    return {"reads": ", ".join(parts) or "none yet"}
