"""Recoverability (``@recoverable``): from every reachable state, some run
reaches a state where the property holds.

The explorer records, for each state, the states that step into it.  Once
the whole state space is known, a backward search from the states where the
property holds marks every state that can still get there; any other state
is stuck.  The explorer stores states in the order it finds them, which is
breadth-first, so the first stuck state in that order has a shortest trace.

Under symmetry the graph is over orbit representatives.  For a property that
renaming cannot change, a representative can reach a good state exactly when
every member of its orbit can, so the verdict is the unreduced one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

from modelcheck.errors import SpecError


def first_stuck(
    states: Iterable[Hashable], into: dict[Hashable, list[Hashable]],
    holds: Callable[[Hashable], bool], name: str,
) -> Hashable | None:
    """The first of ``states`` from which no run reaches a state where ``holds``."""
    order = list(states)
    good: set[Hashable] = set()
    for state in order:
        try:
            if holds(state):
                good.add(state)
        except Exception as exc:
            raise SpecError(f"recoverable property {name} raised {type(exc).__name__}: {exc}") from exc
    todo = list(good)
    while todo:
        for before in into.get(todo.pop(), ()):
            if before not in good:
                good.add(before)
                todo.append(before)
    return next((state for state in order if state not in good), None)
