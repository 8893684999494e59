"""Recoverability (``@recoverable``): from every reachable state, some run
reaches a state where the property holds.

The explorer records, for each state, the states that step into it.  Once
the whole state space is known, a backward search from the states where the
property holds marks every state that can still get there; any other state
is stuck.  The explorer stores states in the order it finds them, which is
breadth-first, so the first stuck state in that order has a shortest trace.

A fingerprint search keeps no states: it numbers them in discovery order,
judges the property on each state as it is found, and records each step as
a pair of numbers; ``first_stuck_numbered`` does the same backward search
on those arrays.

Under symmetry the graph is over orbit representatives.  For a property that
renaming cannot change, a representative can reach a good state exactly when
every member of its orbit can, so the verdict is the unreduced one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

import numpy as np

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


def first_stuck_numbered(good: np.ndarray, sources: np.ndarray, targets: np.ndarray) -> int | None:
    """The least-numbered state from which no run reaches a ``good`` one.

    States are numbered 0..len(good)-1; step i goes from ``sources[i]`` to
    ``targets[i]``.
    """
    reaches = good.copy()
    by_target = np.argsort(targets, kind="stable")
    predecessors = sources[by_target]
    starts = np.searchsorted(targets[by_target], np.arange(len(good) + 1))
    todo = np.flatnonzero(reaches)
    while todo.size:
        first, counts = starts[todo], starts[todo + 1] - starts[todo]
        # The predecessors of every state in todo: the ranges
        # [first, first + count) of ``predecessors``, concatenated.
        offsets = np.cumsum(counts) - counts
        before = predecessors[np.repeat(first - offsets, counts) + np.arange(counts.sum())]
        todo = np.unique(before[~reaches[before]])
        reaches[todo] = True
    stuck = np.flatnonzero(~reaches)
    return int(stuck[0]) if stuck.size else None
