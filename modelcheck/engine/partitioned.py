"""Breadth-first search across worker processes (``--workers N``, ``--backend ray``).

Each worker owns a share of the states (``modelcheck.engine.share``).  A level
is done in two rounds: every worker expands its part of the frontier and
sends each successor to its owner, then every owner merges what it received
with what it has seen and judges its new states.  The coordinator then
finds the level's first event by key (see ``share``), or ranks the new
states into ids for the next level.  Counts, verdicts and counterexamples
are those of the one-process search, whatever the number of workers.

How workers run and exchange batches is the pool's business: processes on
this machine (``modelcheck.engine.processes``) or Ray actors
(``modelcheck.engine.ray_pool``).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from modelcheck import interrupt
from modelcheck.engine.bfs import Outcome, Progress, Stats, _in_original_names, _selected
from modelcheck.engine.memory import rss
from modelcheck.engine.order import first_found
from modelcheck.engine.share import Event, Expanded, Owner, Received, split_key
from modelcheck.errors import SpecError
from modelcheck.model import Model
from modelcheck.symmetry import realize, spot_check
from modelcheck.trace import ReplayError
from modelcheck.validate import context, diagnose_failure, sample_is_immutable


@dataclass(frozen=True)
class Recipe:
    """How to build the model again in another process, possibly on another
    machine: the spec's source travels with it, so only modelcheck itself
    must be installed there."""

    #: The spec file's name without ``.py``: pickled spec classes refer to it.
    stem: str
    source: str
    params: tuple[str, ...]
    #: ``modelcheck.run.Options`` (not imported here: run imports this module).
    options: Any
    #: ``--minimize faults`` changes this on the model between searches.
    max_total_faults: int | None = None

    def build(self, directory: Path) -> Model:
        from modelcheck.run import build

        path = directory / f"{self.stem}.py"
        path.write_text(self.source, encoding="utf-8")
        model = build(str(path), self.params, self.options)[1]
        if self.max_total_faults is not None:
            model.max_total_faults = self.max_total_faults  # type: ignore[attr-defined]
        return model


class Pool(Protocol):
    """Workers, each holding a ``Share``, run side by side."""

    workers: int
    #: Who owns a state (``share.owner`` or ``share.forked_owner``).
    owner: Owner

    def call(self, method: str, args: Sequence[tuple]) -> list[Any]:
        """Run ``Share.method(*args[i])`` on every worker i; their results."""

    def level(self, deadline: float | None, memory: float
              ) -> tuple[list[Expanded], list[Received]]:
        """Expand every worker's frontier and deliver the batches to their owners
        (``Share.expand``'s limits); the Expanded results come back without their
        batches."""


def explore_partitioned(
    model: Model,
    pool: Pool,
    *,
    max_depth: int | None = None,
    max_states: int | None = None,
    time_limit: float | None = None,
    deadlock: bool = False,
    symmetry: bool = False,
    only: Sequence[str] = (),
    progress: Progress | None = None,
    memory: int | None = None,
    store: str = "exact",
) -> Outcome:
    """Like ``explore`` (same arguments and outcome), on the workers of ``pool``.

    ``memory`` bounds the resident sets of the workers and this process
    together: each worker stops expanding past its share of it, and the
    total is checked at the end of every level.

    The pool's shares must have been built from a model equal to ``model``
    with the same ``symmetry``, ``only``, ``deadlock`` and ``store``.
    """
    return _Search(model, pool, max_depth, max_states, time_limit, symmetry, only,
                   progress, memory, store).run()


class _Search:
    def __init__(self, model: Model, pool: Pool, max_depth: int | None,
                 max_states: int | None, time_limit: float | None, symmetry: bool,
                 only: Sequence[str], progress: Progress | None, memory: int | None,
                 store: str) -> None:
        self.model = model
        self.store = store
        self.pool = pool
        self.max_depth = max_depth
        self.max_states = max_states
        self.time_limit = time_limit
        self.symmetry = symmetry
        self.canonical = model.reduction(symmetry)
        self.invariants, self.recoverables = _selected(model, only)
        self.progress = progress
        self.memory = float("inf") if memory is None else memory
        self.started = time.perf_counter()
        self.wall_start = time.time()
        self.stats = Stats()
        self.initial: list[Hashable] = []
        self.kept = 0
        self.represented = 0

    # --- the search -------------------------------------------------------------

    def run(self) -> Outcome:
        try:
            return self._run()
        except interrupt.Interrupted:  # the partial level is dropped: counts as of the last
            return self._finish("incomplete", limit=interrupt.LIMIT)

    def _run(self) -> Outcome:
        if (ended := self._seed()) is not None:
            return ended
        while True:
            at_depth_limit = self.max_depth is not None and self.stats.depth >= self.max_depth
            # Wall-clock time: workers on other machines share no monotonic clock.
            deadline = None if self.time_limit is None else self.wall_start + self.time_limit
            share = (self.memory - rss()) / self.pool.workers
            expanded, received = self.pool.level(deadline, share)
            level_size = sum(len(r.keys) for r in received)
            self.stats.frontier = self._frontier_size
            self.stats.memory = rss() + sum(e.memory for e in expanded)
            stopped = next((e.stopped for e in expanded if e.stopped), None)
            if stopped is None and self.stats.memory > self.memory:
                stopped = "memory"
            if stopped is not None:  # the level is partial or too big: stop here
                self.stats.transitions += sum(e.transitions for e in expanded)
                return self._finish("incomplete", limit=stopped)
            first = first_found((e.key, e) for part in (*expanded, *received)
                                for e in part.events)
            limit = self._limit_event(received, level_size, at_depth_limit)
            # At one key the limit comes first: the state is not stored, nor judged.
            if limit is not None and (first is None or limit.key <= first.key):
                first = limit
            if first is not None and first.kind not in ("mutable", "asymmetric"):
                return self._end_at(first)
            if first is not None:  # sampled checks run once the level is complete
                self._repeat_check(first)
            self.stats.transitions += sum(e.transitions for e in expanded)
            if not level_size:
                break
            merged = np.sort(np.concatenate([r.keys for r in received]))
            self.pool.call("assign", [(self.kept, np.searchsorted(merged, r.keys))
                                      for r in received])
            self.kept += level_size
            self.represented += sum(r.represented for r in received)
            self._frontier_size = level_size
            self.stats.depth += 1
            if self.time_limit is not None and self._elapsed() >= self.time_limit:
                return self._finish("incomplete", limit="time-limit")
            if interrupt.requested():
                return self._finish("incomplete", limit=interrupt.LIMIT)
            if self.progress is not None:
                self._fill()
                self.progress(self.stats)
        for name, _holds in self.recoverables:
            if (stuck := self._first_stuck(name)) is not None:
                return self._finish("violation", property=name, path=self._path_to(stuck))
        return self._finish("ok")

    def _seed(self) -> Outcome | None:
        """Initial states, numbered and judged here, then handed to their owners."""
        model, canonical = self.model, self.canonical
        frontier: list[Hashable] = []
        sizes: dict[Hashable, int] = {}
        try:
            for state in model.initial_states():
                size = 1
                if canonical is not None:
                    state, size = canonical(state)
                if state not in sizes:
                    sizes[state] = size
                    frontier.append(state)
        except Exception as exc:
            raise diagnose_failure(model, None, [], exc) from exc
        self.initial = frontier
        self.kept = len(frontier)
        self.represented = sum(sizes.values())
        self._frontier_size = len(frontier)
        sample_is_immutable(model, frontier, self._real_path)
        if self.symmetry:
            spot_check(model, frontier, self.invariants + self.recoverables,
                       lambda s: context(model, self._real_path(s)))
        self.stats.depth = 1 if frontier else 0
        state = None
        try:
            for state in frontier:
                if (broken := self._first_broken(state)) is not None:
                    return self._finish("violation", property=broken, path=[state])
        except Exception as exc:
            raise diagnose_failure(model, state, [state], exc) from exc
        shares: list[list[tuple[int, Hashable, int]]] = [[] for _ in range(self.pool.workers)]
        for ident, state in enumerate(frontier):
            shares[self.pool.owner(state, self.pool.workers)].append((ident, state, sizes[state]))
        self.pool.call("seed", [(share,) for share in shares])
        return None

    def _limit_event(self, received: list[Received], level_size: int,
                     at_depth_limit: bool) -> Event | None:
        """Where the level's new states first exceed a limit, if they do."""
        if not level_size:
            return None
        room = level_size
        if at_depth_limit:
            room = 0
        elif self.max_states is not None:
            room = max(self.max_states - self.kept, 0)
        if room >= level_size:
            return None
        merged = np.sort(np.concatenate([r.keys for r in received]))
        return Event(int(merged[room]), "max-depth" if at_depth_limit else "max-states")

    def _end_at(self, event: Event) -> Outcome:
        """The outcome of the one-process search stopping at ``event``."""
        parent, action = split_key(event.key)
        if event.kind == "error":
            # Repeated here, on the real path, to explain it as one process would.
            path = self._realized(self._path_to(parent))
            raise diagnose_failure(self.model, path[-1], path, self._failure(path[-1]))
        below = self.pool.call("below", [(event.key,)] * self.pool.workers)
        count = sum(b[0] for b in below)
        self.stats.transitions += sum(b[2] for b in below)
        if event.kind == "deadlock":
            self.kept += count
            self.represented += sum(b[1] for b in below)
            return self._finish("violation", property="deadlock", path=self._path_to(parent))
        self.stats.transitions += action + 1
        if event.kind in ("max-depth", "max-states"):
            self.kept += count
            self.represented += sum(b[1] for b in below)
            return self._finish("incomplete", limit=event.kind)
        path = self._path_to(parent)
        state = self._step(path[-1], action)
        self.kept += count + 1
        self.represented += sum(b[1] for b in below) + (
            self.canonical(self._raw_step(path[-1], action))[1] if self.canonical else 1)
        self.stats.depth += 1
        return self._finish("violation", property=event.detail, path=[*path, state])

    def _failure(self, state: Hashable) -> Exception:
        """The exception expanding ``state`` raised in its worker, raised again here."""
        try:
            for _label, nxt in self.model.successors(state):
                if self.canonical is not None:
                    nxt = self.canonical(nxt)[0]
                self._first_broken(nxt)
        except Exception as exc:  # noqa: BLE001 - this is what we are after
            return exc
        return RuntimeError("a worker failed where this process does not")

    def _repeat_check(self, event: Event) -> None:
        """A sampled state failed a check in its worker: repeat it here, where the
        error message can show the trace."""
        parent, action = split_key(event.key)
        path = self._path_to(parent)
        path.append(self._step(path[-1], action))
        if event.kind == "mutable":
            sample_is_immutable(self.model, [path[-1]], lambda s: self._realized(path))
        else:
            spot_check(self.model, [path[-1]], self.invariants + self.recoverables,
                       lambda s: context(self.model, self._realized(path)))

    # --- recoverability --------------------------------------------------------

    def _first_stuck(self, name: str) -> int | None:
        """Backward search, by rounds across workers, from where ``name`` holds."""
        workers = self.pool.workers
        reached = self.pool.call("start_recovery", [(name,)] * workers)
        while any(reached):
            ids = sorted({i for part in reached for i in part})
            reached = self.pool.call("spread_recovery", [(ids,)] * workers)
        stuck = [s for s in self.pool.call("first_stuck", [()] * workers) if s is not None]
        return min(stuck) if stuck else None

    # --- paths -------------------------------------------------------------------

    def _path_to(self, ident: int) -> list[Hashable]:
        """The stored (representative) path to the state with id ``ident``."""
        actions: list[int] = []
        while ident >= len(self.initial):
            found = [s for s in self.pool.call("step_into", [(ident,)] * self.pool.workers)
                     if s is not None]
            ident, action = found[0]
            actions.append(action)
        path = [self.initial[ident]]
        for action in reversed(actions):
            path.append(self._step(path[-1], action))
        return path

    def _raw_step(self, state: Hashable, action: int) -> Hashable:
        for index, (_label, nxt) in enumerate(self.model.successors(state)):
            if index == action:
                return nxt
        raise ReplayError(f"a state has no action number {action} any more")

    def _step(self, state: Hashable, action: int) -> Hashable:
        nxt = self._raw_step(state, action)
        return self.canonical(nxt)[0] if self.canonical is not None else nxt

    def _realized(self, path: list[Hashable]) -> list[Hashable]:
        if self.canonical is None:
            return path
        try:
            return realize(self.model, path, self.canonical)
        except ReplayError:
            return path

    def _real_path(self, state: Hashable) -> list[Hashable]:
        return self._realized([state])

    # --- results -----------------------------------------------------------------

    def _first_broken(self, state: Hashable) -> str | None:
        for name, holds in self.invariants:
            if not holds(state):
                return name
        return None

    def _elapsed(self) -> float:
        return time.perf_counter() - self.started

    def _fill(self) -> None:
        self.stats.kept_states = self.kept
        self.stats.distinct_states = self.represented
        self.stats.seconds = self._elapsed()

    def _finish(self, verdict: str, **kw: Any) -> Outcome:
        self._fill()
        if self.canonical is not None and kw.get("path"):
            kw["path"] = _in_original_names(self.model, kw["path"], kw["property"],
                                            self.invariants, self.canonical)
        return Outcome(verdict, self.stats, store=self.store, **kw)



def explore_on_workers(model: Model, recipe: Recipe, workers: int, backend: str = "processes",
                       address: str | None = None, **limits: Any) -> Outcome:
    """``explore_partitioned`` on a pool started for this search and stopped after it.

    ``backend`` is ``processes`` (forked from this one) or ``ray`` (actors on
    the Ray cluster at ``address``, or on a local Ray instance started here);
    Ray actors build their model again from ``recipe``.
    """
    store = limits.get("store", "exact")
    if store != "exact" and _selected(model, limits.get("only", ()))[1]:
        raise SpecError("--workers with --store fingerprint checks invariants only: the "
                        "workers judge @recoverable properties on the states they keep; "
                        "use --only to check the invariants alone, or --store exact")
    limits.pop("checkpoint", None)  # refused before the search: see run.run
    settings = (limits.get("symmetry", False), tuple(limits.get("only", ())),
                limits.get("deadlock", False), store)
    if backend == "ray":
        from modelcheck.engine.ray_pool import RayPool

        recipe = replace(recipe, max_total_faults=getattr(model, "max_total_faults", None))
        pool: Any = RayPool(recipe, workers, *settings, address=address)
    else:
        from modelcheck.engine.processes import ProcessPool

        pool = ProcessPool(model, workers, *settings)
    with pool:
        return explore_partitioned(model, pool, **limits)
