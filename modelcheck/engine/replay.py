"""Traces from parent links: a fingerprint search keeps no states, only, per
kept state, its parent's index, the index of the action that reached it
(its position in ``model.successors(parent)``, or in ``initial_states()``
for an initial state) and its fingerprint.

``rebuild`` replays such a chain from the initial state, canonicalising each
successor as the search did and checking its fingerprint, so a wrong link
cannot go unnoticed.  Should a spec enumerate a state's successors in
another order in this process (it iterates a set of strings, whose order
Python salts per process), the successor with the recorded fingerprint is
looked up among all of them instead.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from modelcheck.engine.fingerprint import fingerprint
from modelcheck.model import Model
from modelcheck.trace import ReplayError

#: (action index, fingerprint) of each state on a path, initial state first.
Link = tuple[int, int]


def rebuild(
    model: Model, canonical: Callable[[Hashable], tuple[Hashable, int]] | None,
    links: Sequence[Link],
) -> list[Hashable]:
    """The states (representatives under symmetry) the links lead through."""
    path: list[Hashable] = []
    options = list(model.initial_states())
    for number, (action, fp) in enumerate(links, start=1):
        candidates = [options[action]] if action < len(options) else []
        state = _matching(candidates, canonical, fp) or _matching(options, canonical, fp)
        if state is None:
            raise ReplayError(
                f"step {number} of the trace: no {'initial state' if number == 1 else 'successor'}"
                " has the recorded fingerprint; is the spec deterministic?"
            )
        path.append(state[0])
        options = [nxt for _label, nxt in model.successors(state[0])]
    return path


def _matching(
    candidates: Sequence[Hashable], canonical: Callable[[Hashable], tuple[Hashable, int]] | None,
    fp: int,
) -> tuple[Hashable] | None:
    for state in candidates:
        if canonical is not None:
            state = canonical(state)[0]
        if fingerprint(state) == fp:
            return (state,)
    return None
