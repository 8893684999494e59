"""Availability with unreachable nodes: the seed's availability question.

With a set U of ``u`` nodes unreachable for good, can the other nodes still
get a *new* write acknowledged, with fault-free steps only?  A recovery step
is one of the protocol's ordinary steps that involves no node of U (see
``Action.involves``): no message to or from U is delivered, no timeout or
client write happens at a U node, no atomic step reads or changes a U node
(a ``@step(fences=True)`` may change the node it fences: the controller
giving up on it).  Healing a partition is allowed; every other fault is not.

A state is *stuck* for U when no recovery run from it acknowledges a write
issued after the normal bound: the probe write, value ``writes + 1``.
Bounds that keep the fault phase finite (writes, terms, epochs) must not
fake a stuck, so recovery runs the protocol's ``recovery()`` copy, whose
bounds are raised (the recovery allowance).  ``available`` holds when no
reachable state of the normal search (its own bounds and fault budget) is
stuck for any U of size ``u``.

How it is computed:

1. The normal search records every reachable state (one per orbit under
   symmetry) in the breadth-first order it expands them
   (``explore_recording``); ``run.verdicts`` lets its safety search do it
   and, when safety holds, reuses the states.
2. Each state is paired with every set U.  U rides in the state's shared
   slot, so the protocol's symmetry canonicalises (state, U) jointly and
   only distinct pairs are searched.
3. Each pair is judged by a depth-first recovery search over the allowed
   steps of the relaxed copy (``modelcheck.goal_search``), which stops at
   a goal (the probe acknowledged) or at a state already known to reach
   one; every state's steps are all looked at before the search goes
   deeper, and every state visited is judged good or stuck, once for all
   pairs.  The steps that need an unreachable node are not even tried
   (``Protocol.cut_off``).
4. Pairs are judged first in breadth-first order, as the normal search
   finds their states (or over its recorded states), so a design that gets
   stuck early is settled as soon as its search reaches the stuck state,
   without the rest of the normal search: ``check_availability(check=...)``
   lets one normal search judge the invariants too, whichever fails first.
   That pass stops when it has expanded ``BREADTH_FIRST_BUDGET`` recovery
   states, and the states it did not judge are then judged deepest first
   (the normal search's order reversed): a state's own fault-free
   successors are judged before it, so most pairs take one step, where a
   shallow pair judged first may walk far.  Deepest first is the cheaper
   order where every pair is good, breadth-first the only one that stops
   early (``bench/availability_order.py``).
5. The stuck pair of the shallowest state (first in the normal search's
   order, then the first set of nodes) is reported, with a shortest path
   to its state, its set renamed to that path's node names: as shallow a
   state whatever order the pairs were judged in, since being stuck does
   not depend on it.  The breadth-first
   pass has that path from the search that found the state; after the
   deepest-first pass a second normal search stops at the state's orbit.

The memos keep 64-bit fingerprints (Python's ``hash``) rather than states,
as TLC does: two recovery states with one fingerprint would share a
verdict.  With n states judged the chance of any such collision is about
n^2 / 2^65 (5 million states: 7e-7); ``Recovery.collision_odds`` reports
it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from copy import copy
from dataclasses import dataclass, field, replace
from itertools import combinations
from operator import itemgetter
from typing import Any

from modelcheck import interrupt
from modelcheck.actors.protocol import Action, GlobalState, Protocol, World
from modelcheck.engine.bfs import Outcome, Progress, explore
from modelcheck.goal_search import GoalSearch
from modelcheck.model import Model
from modelcheck.progress import duration
from modelcheck.report import Report
from modelcheck.symmetry import symmetry_group

PROPERTY = "available"


@dataclass
class Recovery:
    """What the recovery search found, beside the verdict."""

    #: How many distinct (state, unreachable set) pairs were searched.
    pairs: int = 0
    #: Recovery states judged (pairs included), one per orbit: known to
    #: reach a goal or known to be stuck.
    states: int = 0
    transitions: int = 0
    seconds: float = 0.0
    #: The normal search's own verdict: ok when it saw every reachable state
    #: (so the invariants it was asked to ``check`` hold), violation when
    #: one of them or ``available`` failed before it ended.
    normal: str = ""

    @property
    def collision_odds(self) -> float:
        """The chance that two judged states shared a fingerprint."""
        return self.states * self.states / 2**65


@dataclass
class AvailabilityReport(Report):
    """A Report on ``available``: the trace leads to a stuck state."""

    #: The unreachable nodes of the stuck state, in the trace's names.
    unreachable: tuple[str, ...] = ()
    #: How many nodes were unreachable in every pair tried.
    u: int = 0
    #: Why the others cannot proceed (``Protocol.why_stuck``).
    reasons: list[str] = field(default_factory=list)
    recovery: Recovery = field(default_factory=Recovery)

    @property
    def explanation(self) -> str | None:
        if self.outcome.property != PROPERTY:
            return super().explanation
        nodes = ", ".join(self.unreachable) or "no node"
        verb = "is" if len(self.unreachable) == 1 else "are"
        return (f"stuck: {nodes} {verb} unreachable for good, and no fault-free run of the "
                f"others gets a new write acknowledged (recovery allowance: "
                f"{allowance(self.model)})")

    def to_json(self, timing: bool = True) -> dict[str, Any]:
        data = super().to_json(timing)
        data.update(
            u=self.u,
            unreachable=list(self.unreachable) if self.outcome.property == PROPERTY else None,
            why_stuck=self.reasons or None,
            recovery={"pairs": self.recovery.pairs, "states": self.recovery.states,
                      "transitions": self.recovery.transitions,
                      "collision_odds": float(f"{self.recovery.collision_odds:.1e}")},
        )
        if timing:
            data["recovery"]["seconds"] = round(self.recovery.seconds, 3)
        return data

    def to_text(self, timing: bool = True) -> str:
        text = super().to_text(timing)
        if self.outcome.property == PROPERTY and self.reasons:
            head, _, counts = text.rpartition("\n")
            text = "\n".join([head, *(f"  {line}" for line in self.reasons), counts])
        r = self.recovery
        return (f"{text}\nrecovery with {self.u} unreachable: {r.pairs:,} (state, unreachable "
                f"set) pairs, {r.states:,} recovery states, {r.transitions:,} transitions"
                + (f", {r.seconds:.2f} s" if timing else "")
                + f"; fingerprint collision odds {r.collision_odds:.1e}")


def allowance(protocol: Protocol) -> str:
    """The bounds ``protocol.recovery()`` raises, as ``writes 2 -> 3, terms 2 -> 4``."""
    relaxed = protocol.recovery()
    raised = [f"{name} {value} -> {getattr(relaxed, name)}"
              for name, value in vars(protocol).items()
              if isinstance(value, int) and getattr(relaxed, name, value) != value]
    return ", ".join(raised) or "none"


def allowed(action: Action, unreachable: frozenset[str]) -> bool:
    """Whether a recovery run may take this step with ``unreachable`` cut off."""
    involved = action.involves()
    if involved is None:
        return action.kind == "heal"
    return not involved & unreachable


class _Normal(Model):
    """The protocol's own state space, with ``check`` (names of invariants)
    as the only properties; the search records the states it expands
    (breadth-first order).  With ``in_order``, ``available`` is judged as
    the search goes.  With ``target``, the only property is not being in
    ``target``'s orbit, to find a shortest path there."""

    def __init__(self, protocol: Protocol, check: Sequence[str] = (), *,
                 in_order: _InOrder | None = None, target: GlobalState | None = None,
                 symmetry: bool = True) -> None:
        self.protocol = protocol
        self.check = check
        self.in_order = in_order
        self.target = target
        self.symmetry = symmetry
        self.expanded: list[GlobalState] = []

    def initial_states(self) -> Iterator[GlobalState]:
        return self.protocol.initial_states()

    def successors(self, state: GlobalState) -> Iterator[tuple[Action, GlobalState]]:
        self.expanded.append(state)
        return self.protocol.successors(state)

    def invariants(self) -> dict[str, Any]:
        if self.target is None:
            checked = {name: holds for name, holds in self.protocol.invariants().items()
                       if name in self.check}
            if self.in_order is not None:
                checked[PROPERTY] = self.in_order.holds
            return checked
        target = self.target
        # The search judges states reduced, and the real path's last state
        # again: its reduced form is the target's.
        reduce = self.protocol.reduction(self.symmetry)
        if reduce is None:
            return {PROPERTY: lambda s: s != target}
        return {PROPERTY: lambda s: reduce(s)[0] != target}

    def reduction(self, symmetry: bool
                  ) -> Callable[[GlobalState], tuple[GlobalState, int]] | None:
        return self.protocol.reduction(symmetry)

    def symmetry_size(self) -> int:
        return self.protocol.symmetry_size()

    def symmetry_classes(self) -> tuple[tuple[int, ...], ...]:
        return self.protocol.symmetry_classes()

    def permute(self, state: GlobalState, perm: tuple[int, ...]) -> GlobalState:
        return self.protocol.permute(state, perm)

    def canonical(self, state: GlobalState) -> tuple[GlobalState, int]:
        return self.protocol.canonical(state)

    def describe_state(self, state: GlobalState) -> dict[str, Any]:
        return self.protocol.describe_state(state)


def _mark(state: GlobalState, unreachable: frozenset[str]) -> GlobalState:
    """``state`` with ``unreachable`` riding in its shared slot."""
    return (*state[:5], (unreachable, state[5]))


def _unmark(state: GlobalState) -> tuple[GlobalState, frozenset[str]]:
    unreachable, shared = state[5]
    return (*state[:5], shared), unreachable


def explore_recording(
    protocol: Protocol, check: Sequence[str] = (), **limits: Any,
) -> tuple[Outcome, list[GlobalState]]:
    """``explore(protocol, **limits)`` checking only the invariants named in
    ``check``, and the states it expanded, in breadth-first order (all
    reachable states, one per orbit under symmetry, when the outcome is ok)."""
    normal = _Normal(protocol, check)
    return explore(normal, **limits), normal.expanded


#: The order in which a recovery run tries its steps: the client's write,
#: deliveries, atomic steps and healing make progress; a timeout starts an
#: election that undoes it, so it comes last (any order gives the same
#: verdicts; on quorum_log with five nodes, the deepest states' pairs
#: took 4x fewer expansions than in the protocol's own order).
_FIRST = {"write": 0, "deliver": 1, "step": 2, "heal": 3, "timeout": 4}

#: Recovery states the breadth-first pass may expand in all before it leaves
#: the rest to the deepest-first pass.
BREADTH_FIRST_BUDGET = 200_000


class _Judge:
    """Judges (state, unreachable set) pairs: whether the others can still get
    the probe write acknowledged.  Verdicts are memoised across pairs."""

    def __init__(self, protocol: Protocol, u: int, symmetry: bool, recovery: Recovery) -> None:
        self.cuts = [frozenset(cut) for cut in combinations(protocol.node_names, u)]
        self.relaxed = protocol.recovery()
        self.probe = protocol.writes + 1
        self.canonical = self.relaxed.canonical if symmetry else None
        #: Stale messages change no recovery run's outcome: they are left out
        #: of every recovery state, as out of the normal search's.
        self.pruned = self.relaxed.pruner()
        self.recovery = recovery
        self.pairs: set[int] = set()
        # Its memos hold 64-bit fingerprints (hash) of states, not the states:
        # a recovery state would cost about 1 KB kept, a fingerprint about 70 B.
        self.search: GoalSearch[GlobalState] = GoalSearch(self._successors)
        #: The pair being judged.
        self._root: GlobalState | None = None

    def _steps(self, marked: GlobalState) -> Iterator[tuple[int, GlobalState]]:
        """The recovery steps from ``marked``, marked, each with its rank in
        ``_FIRST``.  Only a pair's own steps are canonicalised (see
        ``_successors``)."""
        state, unreachable = _unmark(marked)
        relaxed, pruned = self.relaxed, self.pruned
        canonical = self.canonical if marked is self._root else None
        relaxed.cut_off = unreachable
        for action, nxt in relaxed.successors(state):
            self.recovery.transitions += 1
            if allowed(action, unreachable):
                nxt = _mark(pruned(nxt), unreachable)
                yield (_FIRST.get(action.kind, len(_FIRST)),
                       canonical(nxt)[0] if canonical is not None else nxt)

    def _successors(self, marked: GlobalState) -> list[tuple[int, GlobalState]] | None:
        """The keyed recovery steps from ``marked``, in ``_FIRST``'s order;
        None when one of them is a goal or known to reach one.

        A pair's own steps are canonicalised: they lead to pairs judged
        before it (deepest first), whose verdicts are memoised under their
        representatives.  The states further along a recovery run are kept
        as they come, since runs from different pairs seldom meet (on
        quorum_log with five nodes, canonicalising them cost 1.35x the time
        for 12% fewer expansions: bench/recovery_runs.py); a memo keyed by
        exact states is exact too.
        """
        found = []
        good, probe = self.search.good, self.probe
        for rank, nxt in self._steps(marked):
            key = hash(nxt)
            if key in good or any(v >= probe for v, _ in nxt[3][1]):
                return None
            found.append((rank, key, nxt))
        found.sort(key=itemgetter(0))
        return [(key, nxt) for _, key, nxt in found]

    def stuck_cut(self, state: GlobalState,
                  budget: int | None = None) -> frozenset[str] | None | _Undecided:
        """The first unreachable set ``state`` is stuck with, None when it is
        stuck with none, UNDECIDED when a pair needs more than ``budget``
        recovery states."""
        started = time.perf_counter()
        try:
            return self._stuck_cut(state, budget)
        finally:
            self.recovery.seconds += time.perf_counter() - started

    def _stuck_cut(self, state: GlobalState,
                   budget: int | None) -> frozenset[str] | None | _Undecided:
        state = self.pruned(state)
        for unreachable in self.cuts:
            pair = _mark(state, unreachable)
            if self.canonical is not None:
                pair = self.canonical(pair)[0]
            key = hash(pair)
            self.pairs.add(key)
            self._root = pair
            reaches = self.search.reaches(key, pair, budget)
            if reaches is None:
                return UNDECIDED
            if not reaches:
                return unreachable
        return None

    def count(self) -> None:
        self.recovery.pairs = len(self.pairs)
        self.recovery.states = len(self.search.good) + len(self.search.dead)


class _Undecided:
    pass


UNDECIDED = _Undecided()


class _InOrder:
    """Judges states in the normal search's order until it has expanded
    ``budget`` recovery states; gives up (for good) at the state that would
    need more.  As an invariant it fails at the first stuck state."""

    def __init__(self, judge: _Judge, budget: int, max_states: int | None = None) -> None:
        self.judge = judge
        self.budget = budget
        #: Recovery states judged beyond which availability is left undecided.
        self.max_states = max_states
        self.limit: str | None = None
        self.start = judge.search.expansions
        self.active = budget > 0
        #: The state it gave up at; every state before it is stuck with no set.
        self.undecided: GlobalState | None = None
        self.stuck: tuple[GlobalState, frozenset[str]] | None = None

    def holds(self, state: GlobalState) -> bool:
        if self.stuck is not None:
            return False  # the search is stopping at it, and asks again
        if not self.active:
            return True
        search = self.judge.search
        if self.max_states is not None and len(search.good) + len(search.dead) > self.max_states:
            self.active, self.limit = False, "max-states"
            return True
        left = self.budget - (search.expansions - self.start)
        cut = self.judge.stuck_cut(state, left) if left > 0 else UNDECIDED
        if cut is UNDECIDED:
            self.active = False
            self.undecided = state
        elif cut is not None:
            self.stuck = state, cut  # type: ignore[assignment]
            return False
        return True

    def left(self, expanded: list[GlobalState]) -> list[GlobalState]:
        """The states of a finished search (in its order) it did not judge."""
        if self.active:
            return []
        if self.undecided is None:  # it never judged any
            return expanded
        # The first entry of the state it gave up at: the search may have
        # looked at a few states before expanding them (symmetry spot checks).
        return expanded[expanded.index(self.undecided):]


def check_availability(
    protocol: Protocol,
    u: int,
    *,
    symmetry: bool,
    max_states: int | None = None,
    time_limit: float | None = None,
    progress: Progress | None = None,
    searched: tuple[Outcome, list[GlobalState]] | None = None,
    breadth_first_budget: int = BREADTH_FIRST_BUDGET,
    check: Sequence[str] = (),
    memory: int | None = None,
) -> tuple[Outcome, Recovery, tuple[str, ...]]:
    """Judge ``available`` with ``u`` nodes unreachable.

    Returns the outcome (its path leads to the first stuck state), the
    recovery search's figures, and the stuck state's unreachable nodes in
    the path's names.  ``max_states`` and ``time_limit`` bound each search.
    ``searched``: a complete normal search already made with the same
    symmetry (``explore_recording``), to reuse instead of searching again.
    ``breadth_first_budget``: the recovery states the breadth-first pass
    may expand (0: judge every pair deepest first).  ``check``: invariants
    the normal search judges too (without ``searched``); when one fails
    first, the outcome is its violation and availability is not judged.
    ``memory``: bytes the normal search may use (``explore``'s limit).
    """
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    recovery = Recovery()
    judge = _Judge(protocol, u, symmetry, recovery)
    in_order = _InOrder(judge, breadth_first_budget, max_states)
    limit = None
    if searched is None:
        normal = _Normal(protocol, check, in_order=in_order)
        outcome = explore(normal, symmetry=symmetry, max_states=max_states,
                          time_limit=time_limit, progress=progress, memory=memory)
        expanded = normal.expanded
        recovery.normal = outcome.verdict
        if outcome.verdict == "violation" and outcome.property != PROPERTY:
            return outcome, recovery, ()
    else:
        outcome, expanded = searched
        outcome = replace(outcome, stats=copy(outcome.stats))
        recovery.normal = outcome.verdict
        if outcome.verdict == "ok":
            limit = _judge_in_order(in_order, expanded, deadline)
    stuck = in_order.stuck
    limit = limit or in_order.limit
    if outcome.verdict == "ok" and stuck is None and limit is None:
        stuck, limit = _judge_deepest_first(judge, in_order.left(expanded), deadline,
                                            max_states, progress)
    judge.count()
    if searched is None:  # the normal search's own time includes the breadth-first pass
        outcome.stats.seconds = time.perf_counter() - started
    else:
        outcome.stats.seconds += time.perf_counter() - started
    if limit is not None:
        return Outcome("incomplete", outcome.stats, limit=limit), recovery, ()
    if stuck is None:
        return outcome, recovery, ()
    state, unreachable = stuck
    found = outcome
    if outcome.verdict != "violation":  # a shortest path to it, in original names
        found = explore(_Normal(protocol, target=state, symmetry=symmetry), symmetry=symmetry)
        found.stats = outcome.stats
    last = protocol.pruner()(found.path[-1])
    renamed = unreachable
    if last != state:  # the path reached another member of the orbit
        names = protocol.node_names
        perm = next(p for p in symmetry_group(protocol) if protocol.permute(state, p) == last)
        renamed = frozenset(names[perm[names.index(n)]] for n in unreachable)
    return found, recovery, tuple(sorted(renamed))


def _judge_in_order(in_order: _InOrder, expanded: list[GlobalState],
                    deadline: float | None) -> str | None:
    """Run ``in_order`` over a finished search's states; the limit reached, if any."""
    for number, state in enumerate(expanded):
        if not number % 64 and (limit := _limit(deadline)) is not None:
            return limit
        if not in_order.holds(state) or not in_order.active:
            break
    return None


def _judge_deepest_first(
    judge: _Judge, states: list[GlobalState], deadline: float | None, max_states: int | None,
    progress: Progress | None = None,
) -> tuple[tuple[GlobalState, frozenset[str]] | None, str | None]:
    """The first stuck pair of ``states`` (in their order), judged deepest
    first; or the limit reached first."""
    search = judge.search
    stuck = None
    # A ProgressLine can show this pass too; a plain callback sees only searches.
    say = getattr(progress, "say", None)
    started = time.perf_counter()
    for done, state in enumerate(reversed(states)):
        if not done % 64:
            if (limit := _limit(deadline)) is not None:
                return None, limit
            if say is not None and done:
                say(lambda: _judging(done, len(states), judge, time.perf_counter() - started))
        if max_states is not None and len(search.good) + len(search.dead) > max_states:
            return None, "max-states"
        cut = judge.stuck_cut(state)
        if cut is not None:
            stuck = state, cut  # going backwards: the last found is the shallowest
    return stuck, None  # type: ignore[return-value]


def _judging(done: int, total: int, judge: _Judge, seconds: float) -> str:
    """A progress line of the deepest-first pass."""
    search = judge.search
    left = seconds * (total - done) / done
    return (f"availability, deepest first: {done:,} of {total:,} states judged · "
            f"{len(judge.pairs):,} pairs · {len(search.good) + len(search.dead):,} recovery "
            f"states · {done / seconds:,.0f} states/s · ETA {duration(left)}")


def _limit(deadline: float | None) -> str | None:
    if deadline is not None and time.perf_counter() >= deadline:
        return "time-limit"
    if interrupt.requested():
        return interrupt.LIMIT
    return None


def report(name: str, values: dict[str, Any], protocol: Protocol, u: int, *,
           symmetry: bool, max_states: int | None = None, time_limit: float | None = None,
           progress: Progress | None = None,
           searched: tuple[Outcome, list[GlobalState]] | None = None,
           check: Sequence[str] = (), memory: int | None = None) -> AvailabilityReport:
    """``check_availability`` as a report: trace, unreachable nodes, reasons."""
    outcome, recovery, unreachable = check_availability(
        protocol, u, symmetry=symmetry, max_states=max_states, time_limit=time_limit,
        progress=progress, searched=searched, check=check, memory=memory)
    reasons: list[str] = []
    if outcome.verdict == "violation" and outcome.property == PROPERTY:
        world = World(protocol, outcome.path[-1])
        reasons = protocol.why_stuck(world, frozenset(unreachable))
    return AvailabilityReport(name, values, protocol, outcome, (PROPERTY,),
                              unreachable=unreachable, u=u, reasons=reasons, recovery=recovery)

