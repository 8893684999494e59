"""Sleep sets: not taking a step again where it commutes with one already taken.

Two steps that touch different nodes (a delivery to A, a timeout at B)
lead from a state ``p`` through two orders to one state: ``t(u(p)) =
u(t(p))``.  The breadth-first search takes ``t`` and ``u`` from ``p``;
from ``u(p)`` it need not take ``t`` again, because ``u(t(p))`` is the
same state and is reached from ``t(p)``.  ``t`` is *asleep* in ``u(p)``,
and stays asleep along further steps it commutes with.  This is
Godefroid's sleep-set method (*Partial-Order Methods for the Verification
of Concurrent Systems*, LNCS 1032, 1996, ch. 5), on its own, without
persistent (ample, stubborn) sets: docs/design.md, "Partial-order
reduction", says why those reduce nothing here.

Sleep sets skip steps, never states: the search stores exactly the states
of the full search, each at its shortest depth, so invariants, traces and
counts are those of the full search and only the number of steps taken
falls.  That needs two rules, both here:

* a state's sleep set is the *intersection* over every step that reaches it
  at its first level (its shortest depth), which breadth-first order
  completes before the state is expanded;
* steps that reach a state already found at an earlier level are ignored:
  they are on no shortest path.

Why that is enough: take a state ``r`` at shortest depth ``n`` and, among
its shortest paths from an initial state, the one whose step sequence is
least, comparing steps in the order they are tried at the state where two
paths part.  If its step ``t_i`` were asleep after ``t_{i-1}`` on that
path, then ``t_i`` was tried before some ``t_j`` (``j < i``) at the state
before ``t_j`` and commutes with ``t_j ... t_{i-1}``; moving it to position
``j`` gives a path to ``r`` of the same length that is less.  So no step of
the least path is asleep on its own arrival, and the intersection is no
larger than that arrival's set: every state of the path is reached at its
depth and expanded with its step awake, ``r`` included.  Symmetry changes
nothing: a sleeping step is renamed with the state that carries it.

The model says which steps commute through ``Model.sleep_rules``: a
footprint for each step taken (what it reads and changes) and a test on
two footprints.  A step whose footprint is None commutes with nothing.
Properties that look beyond single states (``@recoverable``) need every
step, so the search uses no sleep sets for them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from itertools import chain
from typing import Any, Protocol

Step = tuple[Any, Hashable]
Take = Callable[[], "Step | None"]
#: A sleeping step: its label as tried, and its footprint.
Asleep = dict[Any, Hashable]
_AWAKE: Asleep = {}


class SleepRules(Protocol):
    """What a model tells the search about its steps."""

    def candidates(self, state: Hashable) -> Iterable[tuple[Any, Take]]:
        """The steps from ``state`` as (label, take), in ``successors``'
        order; ``take()`` is the step (label, next state), or None if it
        is none.  A label names the same step in every state."""

    def footprint(self, before: Hashable, label: Any, after: Hashable) -> Hashable | None:
        """What the step ``label`` from ``before`` to ``after`` reads and
        changes; None if it may not commute with any step."""

    def commute(self, first: Hashable, second: Hashable) -> bool:
        """Whether two steps with these footprints, both possible in one
        state, lead to one state in either order and leave each other possible."""

    def reduce(self, state: Hashable) -> tuple[Hashable, int, Any]:
        """The state as the search stores it, how many states it stands
        for, and the renaming that took it there (None: none)."""

    def rename(self, asleep: Asleep, renaming: Any) -> Asleep:
        """Sleeping steps and their footprints, renamed by ``renaming``."""


class SleepSets:
    """The sleep sets of one search: the level being expanded and the next."""

    def __init__(self, rules: SleepRules) -> None:
        self._rules = rules
        self._commute = rules.commute
        #: Sleep sets of the level being expanded, and of the next; a state
        #: with none asleep has no entry.
        self._current: dict[Hashable, Asleep] = {}
        self._next: dict[Hashable, Asleep] = {}
        #: Of the state being expanded: its sleep set, the steps taken so
        #: far (label, footprint), the last one's footprint, and the renaming
        #: of its last successor.
        self._asleep: Asleep = _AWAKE
        self._taken: list[tuple[Any, Hashable | None]] = []
        self._footprint: Hashable | None = None
        self._renaming: Any = None
        #: Steps not taken because they were asleep, in all and in the
        #: state being expanded.
        self.skipped = 0
        self.skipped_here = 0

    def steps(self, state: Hashable, key: Callable[[Hashable], Hashable]
              ) -> Iterator[tuple[int, Step]]:
        """The steps from ``state`` that are awake, with their positions
        among all its steps (asleep ones count: they are steps).  ``key``
        gives the key the visited store files a state under."""
        asleep = self._current.get(key(state), _AWAKE) if self._current else _AWAKE
        self._asleep = asleep
        self._taken = taken = []
        self.skipped_here = 0
        footprint = self._rules.footprint
        position = -1
        for label, take in self._rules.candidates(state):
            if label in asleep:
                position += 1
                self.skipped_here += 1
                continue
            step = take()
            if step is None:
                continue
            position += 1
            self._footprint = footprint(state, step[0], step[1])
            yield position, step
            taken.append((label, self._footprint))
        self.skipped += self.skipped_here

    def reduce(self, state: Hashable) -> tuple[Hashable, int]:
        """The model's reduction of a successor; its renaming is kept for ``arrived``."""
        stored, size, self._renaming = self._rules.reduce(state)
        return stored, size

    def arrived(self, key: Hashable, new: bool) -> None:
        """The last step yielded reached the state filed under ``key``: a
        new state, or one found before (then only its own level counts)."""
        if not new and key not in self._next:
            return
        mine = self._footprint
        asleep: Asleep = _AWAKE
        if mine is not None:
            commute = self._commute
            asleep = {label: footprint
                      for label, footprint in chain(self._asleep.items(), self._taken)
                      if footprint is not None and commute(footprint, mine)}
            if asleep and self._renaming is not None:
                asleep = self._rules.rename(asleep, self._renaming)
        if new:
            if asleep:
                self._next[key] = asleep
        elif not asleep:
            del self._next[key]
        else:
            kept = {label: f for label, f in self._next[key].items() if label in asleep}
            if kept:
                self._next[key] = kept
            else:
                del self._next[key]

    def end_level(self) -> None:
        self._current, self._next = self._next, {}
