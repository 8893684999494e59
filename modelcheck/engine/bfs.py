"""Level-synchronous breadth-first exploration.

Every state of level L is expanded before any state of level L+1, and every
new state is checked the moment it is found, so the first violation reported
is one of minimal depth.  Parent links (state -> predecessor) let
``modelcheck.trace`` rebuild the shortest path afterwards; labels are
recovered by replaying, which keeps them out of the hot loop.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelcheck import interrupt
from modelcheck.engine.checkpoint import Checkpoint, Position
from modelcheck.engine.memory import collector_paused, rss
from modelcheck.engine.sleep import SleepSets
from modelcheck.engine.visited import Canonical, ExactVisited, FingerprintVisited
from modelcheck.errors import SpecError
from modelcheck.model import Model
from modelcheck.recover import first_stuck
from modelcheck.symmetry import realize, spot_check
from modelcheck.trace import ReplayError
from modelcheck.validate import context, diagnose_failure, sample_is_immutable

#: How many expanded states pass between clock reads (limit and progress).
_CLOCK_EVERY = 1024


@dataclass
class Stats:
    #: States of the unreduced model (under symmetry: the sum of orbit sizes).
    distinct_states: int = 0
    #: States actually stored: one per orbit under symmetry.
    kept_states: int = 0
    transitions: int = 0
    #: Steps not taken because a sleep set showed them to commute with a
    #: step taken (modelcheck.engine.sleep); None: no sleep sets.
    skipped: int | None = None
    #: Number of BFS levels seen, the initial states being level 1 (as TLC).
    depth: int = 0
    seconds: float = 0.0
    frontier: int = 0
    #: Resident set size in bytes at the last reading.
    memory: int = 0
    #: States expanded, in all and of the current level (for progress).
    expanded: int = 0
    level_expanded: int = 0

    @property
    def states_per_second(self) -> float:
        return self.kept_states / self.seconds if self.seconds > 0 else 0.0

    @property
    def reduction(self) -> float:
        """How many unreduced states each kept state stands for."""
        return self.distinct_states / self.kept_states if self.kept_states else 1.0


@dataclass
class Outcome:
    """What an exploration found.  ``verdict`` is ok, violation or incomplete."""

    verdict: str
    stats: Stats
    #: The broken property's name ("deadlock" for a state with no successor).
    property: str | None = None
    #: Initial state first, violating state last; empty unless a violation.
    path: list[Hashable] = field(default_factory=list)
    #: Which limit ended an incomplete search.
    limit: str | None = None
    #: The visited-state store: exact or fingerprint.
    store: str = "exact"
    #: The checkpoint directory, if the search wrote a checkpoint there.
    checkpoint: str | None = None


Progress = Callable[[Stats], None]


def explore(
    model: Model,
    *,
    max_depth: int | None = None,
    max_states: int | None = None,
    time_limit: float | None = None,
    deadlock: bool = False,
    symmetry: bool = False,
    only: Sequence[str] = (),
    progress: Progress | None = None,
    store: str = "exact",
    memory: int | None = None,
    checkpoint: Checkpoint | None = None,
    sleep: bool = False,
) -> Outcome:
    """Explore every reachable state of ``model`` breadth-first.

    ``max_depth`` counts levels (initial states are level 1), ``time_limit``
    is in seconds, ``deadlock`` makes a state without successors a violation,
    ``symmetry`` keeps one state per orbit of the model's declared symmetry,
    ``only`` names the properties to check (default: all invariants and
    recoverability properties),
    ``progress`` is called with the running Stats about once per thousand
    expanded states, ``store`` is ``exact`` or ``fingerprint`` (see
    ``engine.visited``), ``memory`` a limit in bytes on the resident set,
    ``checkpoint`` (fingerprint store only) saves the search from time
    to time, or resumes the one it holds, and ``sleep`` skips steps that
    commute with steps taken (``engine.sleep``; invariants only).  Raises
    ``SpecError`` when the spec misbehaves (an action or invariant raises, a
    state is unhashable or mutable).
    """
    with collector_paused():
        invariants, recoverables = _selected(model, only)
        canonical = model.reduction(symmetry)
        sleeping = _sleep_sets(model, symmetry, recoverables) if sleep else None
        visited = _visited_store(store, model, canonical, recoverables, memory, checkpoint)
        try:
            return _search(model, invariants, recoverables, max_depth, max_states, time_limit,
                           deadlock, symmetry, canonical, progress, memory, visited, store,
                           checkpoint, sleeping)
        finally:
            visited.close()


def _visited_store(store: str, model: Model, canonical: Canonical | None,
                   recoverables: Properties, memory: int | None, checkpoint: Checkpoint | None
                   ) -> ExactVisited | FingerprintVisited:
    if checkpoint is not None and store != "fingerprint":
        raise SpecError("--checkpoint needs --store fingerprint (an exact store is not saved)")
    if store == "exact":
        return ExactVisited()
    if store != "fingerprint":
        raise SpecError(f"no store {store!r}: exact or fingerprint")
    if checkpoint is None:
        return FingerprintVisited(model, canonical, memory, recoverables=recoverables)
    if recoverables:
        raise SpecError(
            f"--checkpoint cannot save the state graph that @recoverable properties need "
            f"({', '.join(name for name, _ in recoverables)}); check them without "
            "--checkpoint, or use --only to check the invariants alone"
        )
    return FingerprintVisited(model, canonical, memory, checkpoint.directory,
                              fresh=checkpoint.saved is None)


def _sleep_sets(model: Model, symmetry: bool, recoverables: Properties) -> SleepSets | None:
    """Sleep sets for this search, or None where the model declares no rules."""
    if recoverables:
        raise SpecError(
            f"sleep sets skip steps that @recoverable properties need "
            f"({', '.join(name for name, _ in recoverables)}): check them with --no-por, "
            "or use --only to check the invariants alone")
    rules = model.sleep_rules(symmetry)
    return SleepSets(rules) if rules is not None else None


def _in_original_names(
    model: Model, representatives: list[Hashable], prop: str,
    invariants: list[tuple[str, Callable[[Hashable], bool]]], canonical: Canonical,
) -> list[Hashable]:
    """The reduced counterexample as a real path of the unreduced model."""
    try:
        path = realize(model, representatives, canonical)
    except ReplayError as exc:
        raise SpecError(f"the reduction went wrong: {exc}") from exc
    holds = dict(invariants).get(prop)
    if holds is not None and holds(path[-1]):
        raise SpecError(
            f"invariant {prop} fails on a representative state but holds on a state of "
            "the same orbit: it is not symmetric, so symmetry reduction is unsound for "
            "it. Run with --no-symmetry, or make the invariant symmetric."
        )
    return path


Properties = list[tuple[str, Callable[[Hashable], bool]]]


def _selected(model: Model, only: Sequence[str]) -> tuple[Properties, Properties]:
    """The invariants and the recoverability properties to check."""
    invariants, recoverables = model.invariants(), model.recoverables()
    declared = [*invariants, *recoverables]
    unknown = [name for name in only if name not in declared]
    if unknown:
        close = difflib.get_close_matches(unknown[0], declared, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SpecError(
            f"no property {', '.join(map(repr, unknown))} in {type(model).__name__} "
            f"(its properties: {', '.join(declared) or 'none'}){hint}"
        )
    return tuple(  # type: ignore[return-value]
        [(name, holds) for name, holds in kind.items() if not only or name in only]
        for kind in (invariants, recoverables)
    )


def _search(
    model: Model,
    invariants: Properties,
    recoverables: Properties,
    max_depth: int | None,
    max_states: int | None,
    time_limit: float | None,
    deadlock: bool,
    symmetry: bool,
    canonical: Canonical | None,
    progress: Progress | None,
    memory: int | None,
    visited: ExactVisited | FingerprintVisited,
    store: str,
    checkpoint: Checkpoint | None,
    sleeping: SleepSets | None,
) -> Outcome:
    started = time.perf_counter()
    stats = Stats()
    successors = model.successors
    represented = 0
    # For recoverability: the states that step into each state.
    # (The fingerprint store records the graph itself, by state numbers.)
    into: dict[Hashable, list[Hashable]] | None = (
        {} if recoverables and isinstance(visited, ExactVisited) else None)

    # ``represented`` is passed in, not closed over: a closure variable would
    # slow down its updates in the hot loop.
    def finish(represented: int, verdict: str, **kw: Any) -> Outcome:
        stats.kept_states = visited.kept
        stats.distinct_states = represented
        stats.seconds = time.perf_counter() - started
        if sleeping is not None:
            stats.skipped = sleeping.skipped
        if checkpoint is not None and checkpoint.generation:
            kw["checkpoint"] = str(checkpoint.directory)
        if "path" in kw:
            kw["path"] = visited.path_to(kw["path"])
            if canonical is not None:
                kw["path"] = _in_original_names(model, kw["path"], kw["property"], invariants,
                                                canonical)
        return Outcome(verdict, stats, store=store, **kw)

    def real_path_to(ref: Any) -> list[Hashable]:
        """For error messages: the path in the unreduced model."""
        path = visited.path_to(ref)
        if canonical is None:
            return path
        try:
            return realize(model, path, canonical)
        except ReplayError:  # a model that is not really symmetric
            return path

    def sample_path(state: Hashable) -> list[Hashable]:
        return real_path_to(visited.ref_of(state))

    def first_broken(state: Hashable) -> str | None:
        for name, holds in invariants:
            if not holds(state):
                return name
        return None

    def save_checkpoint(in_level: int, represented: int, transitions: int, expanded: int) -> None:
        """Save the search as it stands, ``in_level`` states of the level expanded."""
        if checkpoint is not None:
            checkpoint.save(visited, Position(stats.depth, in_level, represented, transitions,
                                              expanded, time.perf_counter() - started))

    judged = invariants + recoverables

    def sample_checks() -> None:
        sample = visited.sample()
        sample_is_immutable(model, sample, sample_path)
        if symmetry:
            spot_check(model, sample, judged, lambda s: context(model, sample_path(s)))

    resumed = checkpoint.position() if checkpoint is not None else None
    skip = transitions = expanded = 0
    ref = state = None
    if resumed is None:
        try:
            for action, state in enumerate(model.initial_states()):
                size = 1
                if canonical is not None:
                    state, size = canonical(state)
                if visited.add_initial(state, action):
                    represented += size
        except Exception as exc:
            raise diagnose_failure(model, None, [], exc) from exc
        sample_checks()
        stats.depth = 1 if visited.level_size() else 0
        try:
            for ref, state in visited.level():
                if (broken := first_broken(state)) is not None:
                    return finish(represented, "violation", property=broken, path=ref)
        except Exception as exc:
            raise diagnose_failure(model, state, visited.path_to(ref), exc) from exc
    else:
        saved = checkpoint.saved["store"]  # type: ignore[union-attr, index]
        visited.restore(checkpoint.generation_dir(), saved)  # type: ignore[union-attr]
        represented, transitions = resumed.represented, resumed.transitions
        expanded, stats.depth, skip = resumed.expanded, resumed.depth, resumed.expanded_in_level
        started -= resumed.seconds

    cap = max_states if max_states is not None else float("inf")
    memory_cap = memory if memory is not None else float("inf")
    kept = visited.kept
    add = visited.add
    # With sleep sets, the reduction also says how it renamed each state.
    reduce = canonical if sleeping is None else sleeping.reduce
    key, added_key = visited.key, visited.added_key
    while visited.level_size():
        at_depth_limit = max_depth is not None and stats.depth >= max_depth
        full = at_depth_limit or kept >= cap
        stats.frontier = visited.level_size()
        ref = state = None
        in_level = skip
        try:
            for ref, state in visited.level(skip):
                before = transitions
                steps = (enumerate(successors(state)) if sleeping is None
                         else sleeping.steps(state, key))
                for action, (_label, nxt) in steps:
                    transitions += 1
                    # Stuttering steps are common in TLA-style specs: skip
                    # them before paying for a hash.
                    if nxt is state:
                        continue
                    size = 1
                    if reduce is not None:
                        nxt, size = reduce(nxt)
                    if into is not None:
                        into.setdefault(nxt, []).append(state)
                    # A new state past a limit means the search cannot finish.
                    if full:
                        if nxt in visited:
                            continue
                        stats.transitions = transitions
                        if checkpoint is not None:  # this state to be expanded again
                            save_checkpoint(in_level, represented, before, expanded)
                        limit = "max-depth" if at_depth_limit else "max-states"
                        return finish(represented, "incomplete", limit=limit)
                    new = add(nxt, ref, action)
                    if sleeping is not None:
                        sleeping.arrived(added_key(nxt), new)
                    if not new:
                        continue
                    kept += 1
                    full = kept >= cap
                    represented += size
                    if invariants and (broken := first_broken(nxt)) is not None:
                        stats.transitions = transitions
                        stats.depth += 1
                        return finish(represented, "violation", property=broken,
                                      path=visited.newest())
                if deadlock and transitions == before and not (
                        sleeping is not None and sleeping.skipped_here):
                    stats.transitions = transitions
                    return finish(represented, "violation", property="deadlock", path=ref)
                expanded += 1
                in_level += 1
                if not expanded % _CLOCK_EVERY:
                    stats.transitions = transitions
                    elapsed = time.perf_counter() - started
                    stats.memory = rss()
                    limit = None
                    if time_limit is not None and elapsed >= time_limit:
                        limit = "time-limit"
                    elif stats.memory + visited.headroom() > memory_cap:
                        limit = "memory"
                    elif interrupt.requested():
                        limit = interrupt.LIMIT
                    if checkpoint is not None and (limit or checkpoint.due()):
                        save_checkpoint(in_level, represented, transitions, expanded)
                    if limit is not None:
                        return finish(represented, "incomplete", limit=limit)
                    if progress is not None:
                        stats.distinct_states = represented
                        stats.kept_states = kept
                        stats.seconds = elapsed
                        stats.expanded = expanded
                        stats.level_expanded = in_level
                        progress(stats)
        except Exception as exc:
            real = real_path_to(ref)
            raise diagnose_failure(model, real[-1], real, exc) from exc
        skip = 0
        if sleeping is not None:
            sleeping.end_level()
        if visited.end_level():
            sample_checks()
            stats.depth += 1
            if checkpoint is not None and checkpoint.due():
                save_checkpoint(0, represented, transitions, expanded)
    stats.transitions = transitions
    for name, holds in recoverables:
        if into is not None:
            stuck = first_stuck(visited.parents, into, holds, name)  # type: ignore[union-attr]
        else:
            stuck = visited.first_stuck(name)  # type: ignore[union-attr]
        if stuck is not None:
            return finish(represented, "violation", property=name, path=stuck)
    return finish(represented, "ok")
