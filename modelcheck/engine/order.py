"""Which counterexample a search reports, however its work is divided.

A sequential BFS expands each level in discovery order and a state's
successors in the order ``model.successors`` yields them; the first state it
finds breaking a property is reported.  Number the kept states in discovery
order: then a state's *discovery key* is (its parent's number, the index of
the action that first reached it), and the first violation found is the
violating state with the least key.  A state reached from several parents
takes its least key, and sorting a level's new states by key gives their
discovery order, hence the next level's numbering.

A partitioned search (workers owning states by fingerprint) gets the very
same counterexample and numbering by applying these two rules: record the
least key per state, and among the violations found in a level report the
one with the least key.  Initial states' keys are (-1, their position in
``model.initial_states()``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

#: (parent's discovery number, action index): -1 as parent for initial states.
DiscoveryKey = tuple[int, int]
T = TypeVar("T")


def first_found(candidates: Iterable[tuple[DiscoveryKey, T]]) -> T | None:
    """Of (key, violation) pairs, the violation a sequential BFS reports first."""
    best: tuple[DiscoveryKey, T] | None = None
    for key, violation in candidates:
        if best is None or key < best[0]:
            best = (key, violation)
    return None if best is None else best[1]
