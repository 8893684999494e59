"""Linearizability of a client's history, checked as the history grows.

A history is a sequence of invocations and responses of operations on one
object (a register, a log).  It is linearizable when every operation can be
given a point between its invocation and its response such that the object,
applying the operations in that order, returns what the client saw; an
operation that never returned may take effect or not (Herlihy and Wing).

The check keeps, instead of the history, the set of *configurations* it
leaves possible, in the style of Wing and Gong's search and Lowe's
just-in-time linearization: a configuration is the object's state together
with the operations already placed that have not yet returned, each with
the result it got.  An invocation changes no configuration (the operation
is only pending).  A response of operation ``op`` with result ``r`` replaces
every configuration by those reachable from it by placing pending
operations, one at a time, until ``op`` is placed with result ``r``; ``op``
then leaves the configuration.  No configuration left: no linearization
exists.  Two histories that leave the same pending operations and the same
configurations are the same to every future response, which keeps the
states a model checker stores few.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from modelcheck.trace import show


class Op(NamedTuple):
    """One operation: its kind, a number naming it among its kind, its argument.

    Writes are numbered by their value (the client writes 1, 2, ...); reads
    by the order the client issues them.
    """

    kind: str
    number: int
    arg: Any = None

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"


class SequentialObject:
    """What an object does when its operations run one at a time."""

    #: How traces and explanations name the object.
    name = "object"
    initial: Any = None

    def apply(self, state: Any, op: Op) -> tuple[Any, Any]:
        """(the state after ``op``, what ``op`` returns)."""
        raise NotImplementedError

    def show_state(self, state: Any) -> str:
        return show(state)


class Register(SequentialObject):
    """A read/write register, initially empty (None): ``write`` returns nothing."""

    name = "register"

    def apply(self, state: Any, op: Op) -> tuple[Any, Any]:
        if op.kind == "write":
            return op.arg, None
        return state, state

    def show_state(self, state: Any) -> str:
        return "empty" if state is None else show(state)


class Log(SequentialObject):
    """An append-only log: ``write`` appends and returns the 1-based position,
    ``read`` returns every entry."""

    name = "log"
    initial: tuple[Any, ...] = ()

    def apply(self, state: Any, op: Op) -> tuple[Any, Any]:
        if op.kind == "write":
            return state + (op.arg,), len(state) + 1
        return state, state


#: A configuration: the object's state, and the placed operations that
#: have not returned yet, each with the result it got when placed.
Config = tuple[Any, frozenset[tuple[Op, Any]]]


class Linearization(NamedTuple):
    """What the history so far leaves possible; ``configs`` empty: not linearizable."""

    pending: frozenset[Op]
    configs: frozenset[Config]

    @property
    def linearizable(self) -> bool:
        return bool(self.configs)


def start(obj: SequentialObject) -> Linearization:
    """The empty history."""
    return Linearization(frozenset(), frozenset({(obj.initial, frozenset())}))


def invoke(lin: Linearization, op: Op) -> Linearization:
    """``op`` is invoked."""
    return lin._replace(pending=lin.pending | {op})


def respond(lin: Linearization, obj: SequentialObject, op: Op, result: Any) -> Linearization:
    """``op`` returns ``result``; ``op`` must be pending."""
    configs = set()
    for placed_state, placed in _placements(lin, obj, op):
        got = dict(placed)[op]
        if got == result:
            configs.add((placed_state, placed - {(op, got)}))
    return Linearization(lin.pending - {op}, frozenset(configs))


def possible_results(lin: Linearization, obj: SequentialObject, op: Op) -> set[Any]:
    """Every result the pending ``op`` could return now, in some linearization."""
    return {dict(placed)[op] for _state, placed in _placements(lin, obj, op)}


def _placements(lin: Linearization, obj: SequentialObject, op: Op) -> set[Config]:
    """The configurations reachable by placing pending operations until ``op`` is placed."""
    found: set[Config] = set()
    seen: set[Config] = set()
    stack = list(lin.configs)
    while stack:
        config = stack.pop()
        if config in seen:
            continue
        seen.add(config)
        state, placed = config
        placed_ops = {p for p, _ in placed}
        if op in placed_ops:
            found.add(config)
            continue
        for candidate in lin.pending - placed_ops:
            after, result = obj.apply(state, candidate)
            stack.append((after, placed | {(candidate, result)}))
    return found


def explain(lin: Linearization, obj: SequentialObject, op: Op, result: Any,
            completed: Iterable[str]) -> str:
    """Why ``op`` returning ``result`` to ``lin`` leaves no linearization."""
    possible = possible_results(lin, obj, op)
    shown = " or ".join(sorted(obj.show_state(r) if op.kind == "read" else show(r)
                               for r in possible)) or "nothing"
    others = sorted(str(p) for p in lin.pending if p != op)
    facts = list(completed) + ([f"{' and '.join(others)} still in flight"] if others else [])
    return (f"{op} returned {obj.show_state(result) if op.kind == 'read' else show(result)}, "
            "but no order of the operations explains it: "
            + (f"given {'; '.join(facts)}, " if facts else "")
            + f"{op} could only return {shown}")
