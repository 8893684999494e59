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
3. Pairs are judged deepest first (the normal search's order reversed),
   each by a depth-first recovery search over the allowed steps of the
   relaxed copy (``modelcheck.goal_search``), which stops at a goal (the
   probe acknowledged) or at a state already known to reach one; every
   state's steps are all looked at before the search goes deeper, and
   every state visited is judged good or stuck, once for all pairs.  The
   steps that need an unreachable node are not even tried
   (``Protocol.cut_off``).  Deepest first, a state's own
   fault-free successors were judged before it, so most pairs are judged
   in one step.  (Breadth-first order judged each shallow pair by a long
   walk of its own: quorum_log with four nodes, W=R=3, one power loss,
   one node unreachable, was not judged in 40 minutes.)  (A breadth-first
   search of every pair's whole recovery space with backward reachability,
   as ``@recoverable`` does, took 64 s for Raft's 437 pairs at terms=1,
   writes=0: the allowance makes each pair's space large, while a path to
   the goal is short.)
4. The stuck pair of the shallowest state (first in the normal search's
   order, then the first set of nodes) is reported, with a shortest path
   to its state (a second normal search that stops at its orbit), its set
   renamed to that path's node names: the same pair breadth-first order
   would stop at, since being stuck does not depend on the order.

The memos keep 64-bit fingerprints (Python's ``hash``) rather than states,
as TLC does: two recovery states with one fingerprint would share a
verdict.  With n states judged the chance of any such collision is about
n^2 / 2^65 (5 million states: 7e-7); ``Recovery.collision_odds`` reports
it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from copy import copy
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

from modelcheck import interrupt
from modelcheck.actors.protocol import Action, GlobalState, Protocol, World
from modelcheck.engine.bfs import Outcome, Progress, explore
from modelcheck.goal_search import GoalSearch
from modelcheck.model import Model
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
    (breadth-first order).  With ``target``, the only property is not
    being in ``target``'s orbit, to find a shortest path there."""

    def __init__(self, protocol: Protocol, check: Sequence[str] = (), *,
                 target: GlobalState | None = None, symmetry: bool = True) -> None:
        self.protocol = protocol
        self.check = check
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
            return {name: holds for name, holds in self.protocol.invariants().items()
                    if name in self.check}
        target = self.target
        if not self.symmetry:
            return {PROPERTY: lambda s: s != target}
        canonical = self.protocol.canonical
        return {PROPERTY: lambda s: canonical(s)[0] != target}

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


def check_availability(
    protocol: Protocol,
    u: int,
    *,
    symmetry: bool,
    max_states: int | None = None,
    time_limit: float | None = None,
    progress: Progress | None = None,
    searched: tuple[Outcome, list[GlobalState]] | None = None,
) -> tuple[Outcome, Recovery, tuple[str, ...]]:
    """Judge ``available`` with ``u`` nodes unreachable.

    Returns the outcome (its path leads to the first stuck state), the
    recovery search's figures, and the stuck state's unreachable nodes in
    the path's names.  ``max_states`` and ``time_limit`` bound each search.
    ``searched``: a complete normal search already made with the same
    symmetry (``explore_recording``), to reuse instead of searching again.
    """
    started = time.perf_counter()
    if searched is None:
        searched = explore_recording(protocol, symmetry=symmetry, max_states=max_states,
                                     time_limit=time_limit, progress=progress)
    outcome, expanded = searched
    outcome = replace(outcome, stats=copy(outcome.stats))
    recovery = Recovery()
    recovering = time.perf_counter()
    if outcome.verdict != "ok":
        return outcome, recovery, ()
    relaxed = protocol.recovery()
    probe = protocol.writes + 1
    canonical = relaxed.canonical if symmetry else None
    deadline = None if time_limit is None else started + time_limit
    def steps(marked: GlobalState) -> Iterator[GlobalState]:
        """The recovery steps from ``marked``, as marked representatives."""
        state, unreachable = _unmark(marked)
        relaxed.cut_off = unreachable
        for action, nxt in relaxed.successors(state):
            recovery.transitions += 1
            if allowed(action, unreachable):
                nxt = _mark(nxt, unreachable)
                yield canonical(nxt)[0] if canonical is not None else nxt

    def successors(marked: GlobalState) -> list[tuple[int, GlobalState]] | None:
        """The keyed recovery steps from ``marked``; None when one of them
        is a goal or known to reach one."""
        found = []
        for nxt in steps(marked):
            key = hash(nxt)
            if key in search.good or any(v >= probe for v, _ in nxt[3][1]):
                return None
            found.append((key, nxt))
        return found

    # Its memos hold 64-bit fingerprints (hash) of states, not the states: a
    # recovery state would cost about 1 KB kept, a fingerprint about 70 B.
    search: GoalSearch[GlobalState] = GoalSearch(successors)

    stuck = None
    limit = None
    seen: set[int] = set()
    for done, number in enumerate(range(len(expanded) - 1, -1, -1)):
        if not done % 64:
            if deadline is not None and time.perf_counter() >= deadline:
                limit = "time-limit"
                break
            if interrupt.requested():
                limit = interrupt.LIMIT
                break
        if max_states is not None and len(search.good) + len(search.dead) > max_states:
            limit = "max-states"
            break
        state = expanded[number]
        for cut in combinations(protocol.node_names, u):
            unreachable = frozenset(cut)
            pair = _mark(state, unreachable)
            if canonical is not None:
                pair = canonical(pair)[0]
            key = hash(pair)
            seen.add(key)
            if search.reaches(key, pair):
                continue
            stuck = state, unreachable  # going backwards: the last found is the shallowest
            break
    recovery.pairs = len(seen)
    recovery.states = len(search.good) + len(search.dead)
    recovery.seconds = time.perf_counter() - recovering
    outcome.stats.seconds += recovery.seconds
    if limit is not None:
        return Outcome("incomplete", outcome.stats, limit=limit), recovery, ()
    if stuck is None:
        return outcome, recovery, ()
    state, unreachable = stuck
    found = explore(_Normal(protocol, target=state, symmetry=symmetry), symmetry=symmetry)
    last = found.path[-1]
    renamed = unreachable
    if last != state:  # the path reached another member of the orbit
        names = protocol.node_names
        perm = next(p for p in symmetry_group(protocol) if protocol.permute(state, p) == last)
        renamed = frozenset(names[perm[names.index(n)]] for n in unreachable)
    found.stats = outcome.stats
    return found, recovery, tuple(sorted(renamed))


def report(name: str, values: dict[str, Any], protocol: Protocol, u: int, *,
           symmetry: bool, max_states: int | None = None, time_limit: float | None = None,
           progress: Progress | None = None,
           searched: tuple[Outcome, list[GlobalState]] | None = None) -> AvailabilityReport:
    """``check_availability`` as a report: trace, unreachable nodes, reasons."""
    outcome, recovery, unreachable = check_availability(
        protocol, u, symmetry=symmetry, max_states=max_states, time_limit=time_limit,
        progress=progress, searched=searched)
    reasons: list[str] = []
    if outcome.verdict == "violation":
        world = World(protocol, outcome.path[-1])
        reasons = protocol.why_stuck(world, frozenset(unreachable))
    return AvailabilityReport(name, values, protocol, outcome, (PROPERTY,),
                              unreachable=unreachable, u=u, reasons=reasons, recovery=recovery)

