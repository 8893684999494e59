"""The frontier: for which cluster sizes can some design of a family be both
durable and available, with ``k`` power losses and ``u`` nodes unreachable?

A *design family* is an actor spec with parameters ``nodes``, ``W``
(commit quorum), ``R`` (election quorum) and ``fsync`` (``always`` is the
baseline, the other values the question: no log fsync); every other
``Literal`` parameter is a design choice too, and every combination the
spec accepts is a design.  A *cell* is ``(n, u, k)``.  Per cell and design:

* durability: the spec's invariants under ``power_loss=k`` (they do not
  depend on ``u``);
* availability: ``available`` with ``u`` nodes unreachable
  (``modelcheck.available``), judged only for designs not found to lose
  a write.

One search judges both: the normal search checks the invariants and, as it
goes, whether its states are stuck, and stops at whichever fails first.  A
design found stuck first is out of the cell whatever it keeps, so its
durability is shown as not searched; one that loses a write first is not
judged for availability.  Durability is kept for the design's other cells
(other ``u``), where only availability is searched.

Answers that follow from others are inferred, not searched, and say so:

* ``W > n - u`` or ``R > n - u`` is stuck from the initial state: the
  reachable nodes can neither commit nor elect (quorum counting);
* a loss found with ``k`` power losses is found with more (the budget only
  adds states), and a stuck state found with ``(u, k)`` is stuck with more
  of either (more unreachable nodes only forbid steps).

``W + R <= n`` is searched, not inferred: a write and an election need not
meet, but whether a second leader fits depends on the spec's bounds (with
``terms=1`` there is none), and the shortest loss is found in seconds.

Within a cell, designs that quorum intersection leaves a chance are
searched first, and the search stops at the first witness unless every
design is wanted (``--all-witnesses``).

Every search result is cached on disk, keyed by the spec file's content,
the design's parameters, the fault budget, ``u`` and the search budget, so
running the same frontier again checks nothing.  Searches run in parallel
processes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from modelcheck import interrupt
from modelcheck.errors import SpecError
from modelcheck.load import Spec, load

#: Bumped when what a cached result means changes.
CACHE_FORMAT = 2
BASELINE = "always"
#: The limit of a search that did not run: --from-cache, an interruption, a spent cell.
NOT_SEARCHED = "not searched"


@dataclass(frozen=True)
class Budget:
    """Limits of each search (``None``: none)."""

    time_limit: float | None = None
    max_states: int | None = None

    def key(self) -> dict[str, Any]:
        return {"time_limit": self.time_limit, "max_states": self.max_states}

    def covers(self, other: Budget) -> bool:
        """Whether every limit of this budget is at least ``other``'s."""
        return all(mine is None or (theirs is not None and mine >= theirs)
                   for mine, theirs in ((self.time_limit, other.time_limit),
                                        (self.max_states, other.max_states)))


@dataclass(frozen=True)
class Result:
    """One search, or an inference standing in for one.

    ``verdict`` is ok, violation, incomplete (``limit`` says why, "not
    searched" under ``--from-cache``) or skipped (not needed: another result
    answers the cell).  ``inferred`` says why no search was needed (empty
    when one ran).
    """

    verdict: str
    property: str | None = None
    steps: int = 0
    limit: str | None = None
    trace: str = ""
    kept_states: int = 0
    seconds: float = 0.0
    inferred: str = ""

    def text(self) -> str:
        match self.verdict:
            case "ok":
                word = "ok"
            case "violation":
                word = f"✗ {self.property}"
                if self.steps:
                    word += f", {self.steps} step{'' if self.steps == 1 else 's'}"
            case "skipped":
                return f"not searched: {self.inferred}"
            case _ if self.limit == NOT_SEARCHED:
                word = "? not searched"
            case _ if self.limit == interrupt.LIMIT:
                word = "? interrupted"
            case _:
                word = f"? {self.limit} reached"
        return f"{word} ({self.inferred})" if self.inferred else word

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "property": self.property, "steps": self.steps or None,
                "limit": self.limit, "inferred": self.inferred or None,
                "kept_states": self.kept_states, "seconds": round(self.seconds, 2)}


@dataclass(frozen=True)
class Design:
    """A point of the family: its parameters other than ``nodes``."""

    params: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str:
        return dict(self.params)[name]

    @property
    def W(self) -> int:
        return int(self.get("W"))

    @property
    def R(self) -> int:
        return int(self.get("R"))

    @property
    def baseline(self) -> bool:
        return self.get("fsync") == BASELINE

    def __str__(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.params)


@dataclass
class Verdict:
    """A design in a cell: its durability and, unless it loses a write, its availability."""

    design: Design
    durability: Result
    availability: Result | None = None

    @property
    def answer(self) -> str:
        """yes (durable and available), no, undecided, or skipped (not judged:
        another design already answered the cell)."""
        if self.availability is not None and self.availability.verdict == "skipped":
            return "skipped"
        if self.availability is None and self.durability.verdict == "skipped":
            return "skipped"
        results = [self.durability] + ([self.availability] if self.availability else [])
        if any(r.verdict == "violation" for r in results):
            return "no"
        if all(r.verdict == "ok" for r in results) and self.availability is not None:
            return "yes"
        return "undecided"


@dataclass
class Cell:
    n: int
    u: int
    k: int
    #: Per column ("no log fsync", "fsync=always"): every design's verdict.
    columns: dict[str, list[Verdict]] = field(default_factory=dict)

    def answer(self, column: str) -> str:
        answers = {v.answer for v in self.columns[column]}
        if "yes" in answers:
            return "yes"
        return "undecided" if "undecided" in answers else "no"

    def witnesses(self, column: str) -> list[Verdict]:
        return [v for v in self.columns[column] if v.answer == "yes"]

    def candidates(self, column: str) -> list[Verdict]:
        """The designs not ruled out by quorum counting alone: those a "no"
        is worth explaining with counterexamples."""
        return [v for v in self.columns[column]
                if not v.durability.inferred.startswith("quorum")
                and not (v.availability and v.availability.inferred.startswith("quorum"))]

    @property
    def conjecture(self) -> bool:
        """The conjectured bound for designs without log fsync: n >= 2u + k + 1."""
        return self.n >= 2 * self.u + self.k + 1


COLUMNS = ("no log fsync", f"fsync={BASELINE}")


def parse_range(text: str, what: str) -> list[int]:
    """``3..5`` or ``4`` as a list of ints; a clear error otherwise."""
    low, sep, high = text.partition("..")
    try:
        first, last = int(low), int(high if sep else low)
    except ValueError:
        raise SpecError(f"{what} {text!r}: expected a number or a range like 3..5") from None
    if first < 0 or last < first:
        raise SpecError(f"{what} {text!r}: expected a range low..high with 0 <= low <= high")
    return list(range(first, last + 1))


def family(spec: Spec, n: int, fixed: tuple[str, ...] = ()) -> list[Design]:
    """Every design of ``spec`` for ``n`` nodes that the spec accepts, with
    the ``NAME=VALUE`` assignments in ``fixed`` for every design."""
    required = {"nodes", "W", "R", "fsync"}
    missing = required - set(spec.parameters)
    if missing:
        raise SpecError(f"{spec.name} is not a design family: it has no parameter "
                        f"{', '.join(sorted(missing))} (a family needs "
                        f"{', '.join(sorted(required))})")
    axes: dict[str, list[str]] = {"W": [str(w) for w in range(1, n + 1)],
                                  "R": [str(r) for r in range(1, n + 1)]}
    pinned = {a.partition("=")[0] for a in fixed}
    for name in pinned & required:
        raise SpecError(f"-p {name}=...: {name} is an axis of the frontier, not a fixed parameter")
    spec.resolve(list(fixed))  # a misspelt name or bad value is a usage error
    for name, p in spec.parameters.items():
        if isinstance(p.kind, tuple) and name not in axes and name not in pinned:
            axes[name] = list(p.kind)
    designs = []
    for combo in itertools.product(*axes.values()):
        params = tuple(zip(axes, combo))
        try:
            spec.build(spec.resolve([f"nodes={n}", *fixed, *(f"{k}={v}" for k, v in params)]))
        except SpecError:
            continue  # the spec refuses the combination: not a design
        designs.append(Design(params))
    return designs


def _faults(k: int) -> str:
    return f"power_loss={k}" if k else "none"


def _search(task: dict[str, Any]) -> dict[str, Any]:
    """One search in a worker process, of a design: its durability, its
    availability, or (kind ``design``) its durability and, as that search
    goes, its availability, whichever fails first."""
    from modelcheck.available import PROPERTY
    from modelcheck.available import report as availability_report
    from modelcheck.engine import explore
    from modelcheck.engine.memory import default_limit
    from modelcheck.report import Report
    from modelcheck.run import Options, build

    options = Options(faults=_faults(task["k"]), time_limit=task["time_limit"],
                      max_states=task["max_states"])
    name, model, values = build(task["spec"], task["params"], options)
    memory = default_limit() // (task["jobs"] or 1)
    invariants = tuple(model.invariants()) if task["kind"] != "availability" else ()
    if task["kind"] == "durability":
        outcome = explore(model, symmetry=model.symmetry_size() > 1, only=invariants,
                          max_states=options.max_states, time_limit=options.time_limit,
                          memory=memory)
        return {"durability": _result(Report(name, values, model, outcome, invariants))}
    report = availability_report(name, {**values, "unreachable": task["u"]}, model, task["u"],
                                 symmetry=model.symmetry_size() > 1,
                                 max_states=options.max_states,
                                 time_limit=options.time_limit, check=invariants,
                                 memory=memory)
    o, normal = report.outcome, report.recovery.normal
    lost = o.verdict == "violation" and o.property != PROPERTY
    if task["kind"] != "design":
        return {"availability": _result(report)}
    if lost:  # availability is not judged: the design is out
        return {"durability": _result(Report(name, values, model, o, invariants))}
    if normal == "violation":  # stuck before the normal search ended: durability unknown
        return {"availability": _result(report)}
    durability = replace(o, verdict=normal, property=None, path=[],
                         limit=o.limit if normal == "incomplete" else None)
    return {"durability": _result(Report(name, values, model, durability, invariants)),
            "availability": _result(report)}


def _result(report: Any) -> dict[str, Any]:
    o = report.outcome
    violated = o.verdict == "violation"
    return {"verdict": o.verdict, "property": o.property, "limit": o.limit,
            # As the trace numbers its lines: the initial state is step 1.
            "steps": len(o.path) if violated else 0,
            "trace": report.to_text(timing=False) if violated else "",
            "kept_states": o.stats.kept_states, "seconds": o.stats.seconds}


class Cache:
    """Search results on disk, one JSON file per key (spec content, design,
    faults, u), each with the budget it was searched with.  A decided result
    holds whatever the budget; an undecided one is reused only for a budget
    no larger than its own, so raising the limits searches again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: dict[str, Any]) -> Path:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
        return self.directory / f"{digest[:32]}.json"

    def get(self, key: dict[str, Any], budget: Budget) -> dict[str, Any] | None:
        entry, old = self._read(key), False
        if entry is None and key.get("format") == CACHE_FORMAT:
            entry, old = self._read({**key, "format": 1}), True
        try:
            result, searched = entry["result"], Budget(**entry["budget"])  # type: ignore[index]
            if old and result["steps"]:
                # Format 1 counted a counterexample's transitions; format 2
                # counts its steps as the trace numbers them, initial state first.
                result["steps"] += 1
        except (KeyError, TypeError):
            return None
        if result["verdict"] != "incomplete" or searched.covers(budget):
            return result
        return None

    def _read(self, key: dict[str, Any]) -> Any:
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: dict[str, Any], budget: Budget, result: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps({"key": key, "budget": budget.key(), "result": result}),
                           encoding="utf-8")
        os.replace(partial, path)  # never a half-written entry


#: A search to run: kind (design, durability or availability), n, design, k, u.
Job = tuple[str, int, "Design", int, int]


@dataclass
class Counts:
    """What a frontier run did: searches run, answered from the cache, inferred."""

    searched: int = 0
    cached: int = 0
    inferred: int = 0


class Frontier:
    """Computes cells in order (n, then k, then u, all ascending), so that
    inferences from smaller budgets are available."""

    def __init__(self, spec: str, budget: Budget, cache: Cache, jobs: int = 1,
                 all_witnesses: bool = False, fixed: tuple[str, ...] = (),
                 from_cache: bool = False, cell_time: float | None = None,
                 on_search: Callable[[str], None] | None = None) -> None:
        self.spec_name = spec
        self.spec = load(spec)
        self.spec_digest = hashlib.sha256(self.spec.path.read_bytes()).hexdigest()
        self.budget = budget
        self.cache = cache
        self.jobs = jobs
        #: Judge every design, durability and availability, not just until a
        #: witness is found.
        self.all_witnesses = all_witnesses
        self.on_search = on_search
        self.counts = Counts()
        #: NAME=VALUE parameters every design gets (e.g. terms=1).
        self.fixed = fixed
        #: Search nothing: what the cache lacks is shown as not searched.
        self.from_cache = from_cache
        #: Seconds after which a cell starts no more searches (None: no limit).
        self.cell_time = cell_time

    def _key(self, kind: str, n: int, design: Design, k: int, u: int) -> dict[str, Any]:
        return {"format": CACHE_FORMAT, "spec": self.spec_digest, "kind": kind, "nodes": n,
                "design": dict(design.params), "k": k,
                "u": u if kind == "availability" else None,
                **({"fixed": list(self.fixed)} if self.fixed else {})}

    def _cached(self, job: Job) -> dict[str, Result] | None:
        """What the cache answers for ``job``, None when it must be searched.

        A design job is answered by its durability alone, or by a stuck
        state found before its durability was (durability unknown)."""
        kind, n, design, k, u = job
        found = {}
        for what in ("durability", "availability") if kind == "design" else (kind,):
            cached = self.cache.get(self._key(what, n, design, k, u), self.budget)
            if cached is not None:
                found[what] = Result(**cached)
        if kind != "design" or "durability" in found:
            return found or None
        stuck = found.get("availability")
        return found if stuck is not None and stuck.verdict == "violation" else None

    def _run(self, jobs: list[Job]) -> dict[Job, dict[str, Result]]:
        """Search ``jobs`` (kind, n, design, k, u), from the cache where
        possible: for each, its results by what they judge (durability,
        availability)."""
        results: dict[Job, dict[str, Result]] = {}
        todo = []
        for job in jobs:
            cached = self._cached(job)
            if cached is not None:
                self.counts.cached += 1
                results[job] = cached
            else:
                todo.append(job)
        tasks = [{"spec": str(self.spec.path), "kind": kind, "k": k, "u": u,
                  "params": [f"nodes={n}", *self.fixed, *(f"{a}={b}" for a, b in design.params)],
                  "jobs": min(self.jobs, len(todo)), **self.budget.key()}
                 for kind, n, design, k, u in todo]
        if not tasks:
            return results
        if self.from_cache or interrupt.requested():
            unsearched = Result("incomplete", limit=NOT_SEARCHED)
            results.update((job, {"durability": unsearched, "availability": unsearched}
                            if job[0] == "design" else {job[0]: unsearched}) for job in todo)
            return results
        if self.jobs > 1 and len(tasks) > 1:
            # Forked, so that the workers see a stop requested here.
            interrupt.shared_flag()
            with ProcessPoolExecutor(max_workers=self.jobs,
                                     mp_context=multiprocessing.get_context("fork")) as pool:
                found: Iterable[dict[str, Any]] = pool.map(_search, tasks)
                results.update(self._store(todo, found))
        else:
            results.update(self._store(todo, map(_search, tasks)))
        return results

    def _store(self, todo: list[Job], found: Iterable[dict[str, Any]]
               ) -> dict[Job, dict[str, Result]]:
        stored = {}
        for job, results in zip(todo, found):
            self.counts.searched += 1
            kind, n, design, k, u = job
            stored[job] = {what: Result(**result) for what, result in results.items()}
            for what, result in results.items():
                if result["limit"] != interrupt.LIMIT:  # an interruption says nothing to keep
                    self.cache.put(self._key(what, n, design, k, u), self.budget, result)
            if self.on_search is not None:
                told = ", ".join(f"{what} {r.text()}" for what, r in stored[job].items())
                self.on_search(f"n={n} k={k} u={u} {design}: {told}")
        return stored

    def cells(self, nodes: list[int], unreachable: list[int], losses: list[int]) -> list[Cell]:
        cells = []
        for n in nodes:
            designs = family(self.spec, n, self.fixed)
            durability: dict[tuple[Design, int], Result] = {}
            availability: dict[tuple[Design, int, int], Result] = {}
            for k in losses:
                for u in unreachable:
                    if u >= n:
                        continue  # a cluster with every node unreachable has nothing to say
                    cell = Cell(n, u, k, {column: [] for column in COLUMNS})
                    for baseline, column in zip((False, True), COLUMNS):
                        chosen = [d for d in designs if d.baseline == baseline]
                        self._column(n, u, k, chosen, durability, availability)
                        cell.columns[column] = [
                            Verdict(d, durability[d, k] if (d, k) in durability
                                    else _not_searched(availability[d, u, k]),
                                    availability.get((d, u, k)))
                            for d in chosen]
                    cells.append(cell)
                    # A search not run (--from-cache, an interruption) stands
                    # in this cell only: the design's other cells look again.
                    for key in [key for key, r in durability.items()
                                if r.limit == NOT_SEARCHED]:
                        del durability[key]
        return cells

    def _column(self, n: int, u: int, k: int, designs: list[Design],
                durability: dict[tuple[Design, int], Result],
                availability: dict[tuple[Design, int, int], Result]) -> None:
        """Decide ``designs`` in cell (n, u, k): inferences first, then
        searches a batch at a time (durability with availability as it goes,
        then the rest of availability for designs whose durability was
        known already), until a witness if not all wanted."""
        open_designs = []
        for d in designs:
            if (d, k) not in durability:
                lost = [j for j in range(k) if (d, j) in durability
                        and durability[d, j].verdict == "violation"]
                if lost:
                    first = durability[d, lost[0]]
                    durability[d, k] = Result("violation", first.property, first.steps,
                                              trace=first.trace, inferred=f"as with k={lost[0]}")
                    self.counts.inferred += 1
            if (d, k) in durability and durability[d, k].verdict == "violation":
                continue
            stuck = [(uu, kk) for (dd, uu, kk), r in availability.items()
                     if dd == d and uu <= u and kk <= k and r.verdict == "violation"]
            if d.W > n - u or d.R > n - u:
                which = "W" if d.W > n - u else "R"
                availability[d, u, k] = Result("violation", "available", inferred=(
                    f"quorum counting: {which}={getattr(d, which)} > n-u={n - u}"))
                self.counts.inferred += 1
            elif stuck:
                uu, kk = stuck[0]
                first = availability[d, uu, kk]
                availability[d, u, k] = Result("violation", "available", first.steps,
                                               trace=first.trace,
                                               inferred=f"as with u={uu}, k={kk}")
                self.counts.inferred += 1
            else:
                open_designs.append(d)
        open_designs.sort(key=lambda d: not _promising(d, n, u, k))
        started = time.monotonic()
        while open_designs:
            if self.cell_time is not None and time.monotonic() - started >= self.cell_time:
                for d in open_designs:
                    availability[d, u, k] = Result(
                        "incomplete", limit=NOT_SEARCHED,
                        inferred=f"the cell's {self.cell_time:g} s were spent")
                return
            batch, open_designs = open_designs[: self.jobs], open_designs[self.jobs :]
            # One search judges durability and, as it goes, availability:
            # a stuck state found first settles the design without the rest.
            found = self._run([("design", n, d, k, u) for d in batch
                               if (d, k) not in durability])
            for (_, _, d, _, _), results in found.items():
                if "durability" in results:
                    durability[d, k] = results["durability"]
                if "availability" in results:
                    availability[d, u, k] = results["availability"]
            keeping = [d for d in batch if (d, k) not in durability
                       or durability[d, k].verdict != "violation"]
            found = self._run([("availability", n, d, k, u) for d in keeping
                               if (d, u, k) not in availability])
            for (_, _, d, _, _), results in found.items():
                availability[d, u, k] = results["availability"]
            if self.all_witnesses:  # a design found stuck may also lose data: say which
                found = self._run([("durability", n, d, k, u) for d in batch
                                   if (d, k) not in durability])
                for (_, _, d, _, _), results in found.items():
                    durability[d, k] = results["durability"]
            elif any(
                    (d, k) in durability and durability[d, k].verdict == "ok"
                    and availability[d, u, k].verdict == "ok" for d in keeping):
                for d in open_designs:
                    availability[d, u, k] = Result("skipped", inferred="the cell has a witness")
                return


def _promising(design: Design, n: int, u: int, k: int) -> bool:
    """Whether quorum intersection leaves ``design`` a chance in cell
    (n, u, k): W + R >= n + k + 1 without log fsync (a write and an
    election quorum still share a node after k of it forgot), n + 1 with,
    and neither quorum larger than the n - u reachable nodes.  Searching
    these first finds a witness sooner; the others are still searched when
    the cell needs them, so the order changes the cost, never the answer."""
    losses = 0 if design.baseline else k
    return design.W + design.R >= n + losses + 1 and max(design.W, design.R) <= n - u


def _not_searched(availability: Result) -> Result:
    """The durability shown for a design whose durability was not searched."""
    if availability.verdict == "skipped" or availability.limit == NOT_SEARCHED:
        return availability
    return Result("skipped", inferred="stuck whatever it keeps")


# --- output ---------------------------------------------------------------------


def _pairs(verdicts: list[Verdict]) -> str:
    """The (W, R) pairs of some designs, compactly: ``W2R3, W3R3``."""
    pairs = sorted({(v.design.W, v.design.R) for v in verdicts})
    return ", ".join(f"W{w}R{r}" for w, r in pairs) or "none"


def agreement(cell: Cell) -> str:
    """The no-log-fsync answer against the conjectured bound."""
    answer = cell.answer(COLUMNS[0])
    if answer == "undecided":
        return "undecided"
    return "agrees" if (answer == "yes") == cell.conjecture else "DISAGREES"


def summary_rows(cells: list[Cell]) -> tuple[list[str], list[list[str]]]:
    header = ["n", "u", "k", "n>=2u+k+1", "no log fsync", "witnesses (W,R)",
              "fsync=always", "conjecture"]
    rows = []
    for c in cells:
        rows.append([str(c.n), str(c.u), str(c.k), "yes" if c.conjecture else "no",
                     c.answer(COLUMNS[0]), _pairs(c.witnesses(COLUMNS[0])),
                     c.answer(COLUMNS[1]), agreement(c)])
    return header, rows


def text_table(cells: list[Cell], markdown: bool = False) -> str:
    header, rows = summary_rows(cells)
    if markdown:
        return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                         + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(x) for x in column) for column in zip(header, *rows)]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip()
                     for r in [header, *rows])


def csv_table(cells: list[Cell]) -> str:
    import csv
    import io
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header, rows = summary_rows(cells)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def to_json(cells: list[Cell]) -> list[dict[str, Any]]:
    return [{
        "n": c.n, "u": c.u, "k": c.k, "conjectured_bound_holds": c.conjecture,
        "agreement": agreement(c),
        "columns": {column: {
            "answer": c.answer(column),
            "designs": [{"design": dict(v.design.params), "answer": v.answer,
                         "durability": v.durability.to_json(),
                         "availability": v.availability.to_json() if v.availability else None}
                        for v in verdicts],
        } for column, verdicts in c.columns.items()},
    } for c in cells]


def design_table(verdicts: list[Verdict]) -> str:
    """Markdown: a row per design, durability and availability."""
    lines = ["| design | durable | available | answer |", "|---|---|---|---|"]
    for v in verdicts:
        avail = v.availability.text() if v.availability else "not judged: loses data"
        lines.append(f"| {v.design} | {v.durability.text()} | {avail} | {v.answer} |")
    return "\n".join(lines)


def counterexamples(verdicts: list[Verdict]) -> str:
    """Markdown: each searched (not inferred) counterexample, collapsed."""
    parts = []
    for v in verdicts:
        for what, r in (("loses data", v.durability), ("stuck", v.availability)):
            if r is not None and r.verdict == "violation" and r.trace and not r.inferred:
                parts += [f"<details><summary>{v.design}: {what} ({r.property}, "
                          f"{r.steps} step{'' if r.steps == 1 else 's'})</summary>", "",
                          "```", r.trace, "```", "",
                          "</details>", ""]
    return "\n".join(parts)


def bound_conditions(cells: list[Cell]) -> list[str]:
    """Per decided cell of the question's column, how the witnesses' (W, R)
    compare with the bound's: W+R >= n+k+1 and W, R <= n-u."""
    lines = []
    for c in cells:
        answer = c.answer(COLUMNS[0])
        if answer == "undecided":
            continue
        bound = {(w, r) for w in range(1, c.n + 1) for r in range(1, c.n + 1)
                 if w + r >= c.n + c.k + 1 and max(w, r) <= c.n - c.u}
        found = {(v.design.W, v.design.R) for v in c.witnesses(COLUMNS[0])}
        unjudged = {(v.design.W, v.design.R) for v in c.columns[COLUMNS[0]]
                    if v.answer == "skipped"}
        outside = sorted(found - bound)
        missing = sorted(bound - found - unjudged)
        note = f"n={c.n} u={c.u} k={c.k}: "
        if not bound and not found:
            note += "no (W, R) meets the bound, and no design is a witness"
        else:
            note += (f"bound allows {', '.join(f'W{w}R{r}' for w, r in sorted(bound)) or 'none'}; "
                     f"witnesses {', '.join(f'W{w}R{r}' for w, r in sorted(found)) or 'none'}")
            if outside:
                note += ("; witnesses outside the bound: "
                         f"{', '.join(f'W{w}R{r}' for w, r in outside)}")
            if missing:
                note += (f"; within the bound but no witness: "
                         f"{', '.join(f'W{w}R{r}' for w, r in missing)}")
            if unjudged - found:
                note += (f"; not judged once a witness was found: "
                         f"{', '.join(f'W{w}R{r}' for w, r in sorted(unjudged - found))}")
        lines.append(note)
    return lines


def _unsearched(v: Verdict) -> bool:
    return any(r is not None and r.limit == NOT_SEARCHED for r in (v.durability, v.availability))


def document(cells: list[Cell], command: str, budget: Budget, from_cache: bool = False,
             notes: str = "", cell_time: float | None = None) -> str:
    """The whole frontier as a Markdown document; ``command`` regenerates it
    (``from_cache``: this one was printed from the cache, searching nothing,
    which the document says when that left searches out).
    ``notes``, Markdown written by hand, follow the summary table."""
    limits = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in budget.key().items() if v) or "none"
    out = [
        "# The frontier of a design family", "",
        f"Regenerate with `{command}` (results are cached: a re-run is instant).", "",
        *(["This copy was printed with `--from-cache`: searches that had not run are "
           "marked *not searched*, and their cells undecided. The command above runs them.",
           ""] if from_cache and any(_unsearched(v) for c in cells
                                     for verdicts in c.columns.values() for v in verdicts)
          else []),
        f"Per search: {limits}."
        + (f" Per cell: no search started after {cell_time:g} s, so designs left are *not "
           "searched* and a cell without a witness by then is undecided." if cell_time else "")
        + " A cell (n, u, k) has n nodes, u of them unreachable for good "
        "and k power losses. A design is a **witness** when it is durable (no acknowledged "
        "write lost, searched with k power losses) and available (from every reachable "
        "state, with every set of u nodes unreachable, the others get a new write "
        "acknowledged without losing one). The question is the *no log fsync* column "
        "(fsync=log_async or never); fsync=always is the baseline. *conjecture* compares "
        "that column with the bound n >= 2u + k + 1.", "",
        text_table(cells, markdown=True), "",
        *([notes.strip(), ""] if notes.strip() else []),
        "Answers that follow from others are inferred, not searched, and say so in the "
        "design tables: W > n-u or R > n-u is stuck from the start (the reachable nodes cannot "
        "commit or elect); a loss found with k power losses stands with more, and a stuck "
        "state with (u, k) stands with more of either. Designs that lose data are not "
        "judged for availability.", "",
        "## How the witnesses' quorums compare with the bound", "",
        "The bound's quorums: W + R >= n + k + 1 and W, R <= n - u.", "",
        *(f"- {line}" for line in bound_conditions(cells)), "",
    ]
    for c in cells:
        interesting = c.answer(COLUMNS[0]) != "yes" or (c.n, c.u, c.k) == (3, 1, 1)
        if not interesting:
            continue
        out += [f"## n={c.n}, u={c.u}, k={c.k}: no log fsync {c.answer(COLUMNS[0])}, "
                f"fsync=always {c.answer(COLUMNS[1])}", ""]
        for column in COLUMNS:
            shown = c.columns[column] if (c.n, c.u, c.k) == (3, 1, 1) else c.candidates(column)
            unsearched = [v for v in shown if _unsearched(v)]
            shown = [v for v in shown if not _unsearched(v)]
            if not shown and not unsearched:
                continue
            out += [f"### {column}", ""]
            if shown:
                out += [design_table(shown), ""]
                if c.answer(column) == "no" or (c.n, c.u, c.k) == (3, 1, 1):
                    out.append(counterexamples(shown))  # undecided cells: the table says enough
            if unsearched:
                out += [f"Not searched in this copy: {len(unsearched)} design(s), "
                        f"{_pairs(unsearched)}.", ""]
    return "\n".join(out).rstrip() + "\n"
