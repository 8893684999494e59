"""Random simulation: seeded random runs for models too big to exhaust.

Each run starts in an initial state and takes random steps, checking every
invariant in every state it reaches, until a property breaks, no step is
enabled, or the run reaches ``max_depth`` steps.  Nothing is proven when no
run breaks a property: a simulation samples behaviours, ``explore`` covers
them all.

Runs are numbered 0, 1, 2, ...; run ``r`` draws everything from a generator
seeded by ``(seed, r)`` alone, so it is the same run whatever the number of
workers (worker ``w`` of ``N`` takes runs ``w``, ``w + N``, ...).  The
violation reported is the one in the lowest-numbered run that breaks a
property, which makes the result with ``runs`` a function of the seed only.

How a run picks its steps.  Replication bugs need some events to be *late*:
an AppendEntries still in flight while a new leader is elected, a second
write issued only after a fault.  Choosing uniformly among enabled steps
makes a delay of k steps exponentially unlikely, so instead every possible
step gets a random due time when it becomes possible and keeps it while it
stays possible; the step due first is taken, and only it: one that turns
out to change nothing is dropped, and the next due is tried.  Delays are
exponential times a heavy tail, so some messages stay in flight for a long
time at polynomial, not exponential, cost; without the tail, the choice is
uniform.

Swarm testing (Groce, Zhang, Eide, Chen, Regehr, "Swarm Testing", ISSTA
2012): rather than one distribution for every run, each run draws its own
configuration: how heavy its tail of delays is, a weight for every *feature*
of a step (its kind, the message type, the node, the atomic step), drawn the
first time the run meets it, by how much timers and the client are slower
than the network, and whether its faults come like other steps or on a plan
drawn up front (each at a log-uniform step count from the start or from the
client's first acknowledgement).  docs/design.md ("Simulation") gives the
distributions and the measurements behind them.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import signal
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from modelcheck import interrupt
from modelcheck.actors.protocol import Action, Protocol
from modelcheck.engine.memory import collector_paused
from modelcheck.errors import SpecError
from modelcheck.model import Model
from modelcheck.validate import diagnose_failure

#: Feature weights are drawn from 2**uniform(-_SPREAD, 0).
_SPREAD = 6.0
#: A step's delay is 2**uniform(0, _JITTER) over its features' weights.
_JITTER = 10.0
#: Timeouts' and client writes' delays are scaled by 2**uniform(0, _SLOW).
_SLOW = 6.0
#: States whose steps are remembered at most (then the memo starts over).
_EXPANDED_LIMIT = 20_000
#: How often a run plans its faults rather than taking them as other steps.
_PLANNED = 0.5
#: How often a run that plans its faults plans none at all.
_NO_FAULT = 0.25

Invariants = list[tuple[str, Callable[[Hashable], bool]]]


@dataclass(frozen=True)
class Settings:
    """How to simulate: ``runs`` and/or ``time_limit`` end the simulation."""

    seed: int = 0
    runs: int | None = None
    time_limit: float | None = None
    #: Steps per run (transitions after the initial state).
    max_depth: int = 200
    workers: int = 1


@dataclass
class Found:
    """A run that broke a property: its number, the property and its path."""

    run: int
    property: str
    labels: list[Any]
    states: list[Hashable]


@dataclass
class Tally:
    """What the runs did, added up over workers."""

    runs: int = 0
    steps: int = 0
    #: Fingerprints of the states the runs reached (coverage).
    seen: set[int] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Simulation:
    """The result: the tally, and the lowest-numbered violating run, if any."""

    tally: Tally
    found: Found | None
    #: What ended a simulation that found nothing: "runs", "time-limit" or
    #: "interrupted".
    limit: str | None = None


class PlannedFault(NamedTuple):
    """A fault a run will inject: ``after`` steps from the start or from the
    client's first acknowledgement."""

    after: int
    kind: str
    from_ack: bool


class Swarm:
    """One run's configuration: feature weights, and its faults."""

    def __init__(self, rng: random.Random, model: Model, max_depth: int) -> None:
        self._rng = rng
        self._random = rng.random
        self._weights: dict[Hashable, float] = {}
        #: Steps' weights, each drawn (its features') the first time a run
        #: meets the step: a run times the same steps again and again.
        self._step_weights: dict[Any, float] = {}
        # The run's own spread of weights and tail of delays: near zero
        # both, steps are picked uniformly at random.
        self._spread = rng.uniform(0.0, _SPREAD)
        self._jitter = rng.uniform(0.0, _JITTER)
        # Timers and the client are slow next to the network in most runs,
        # as in real systems (or Raft's split votes would be the rule, and
        # every write would be issued before anything else happens).
        self._slow = {kind: 2.0 ** rng.uniform(0.0, _SLOW) for kind in ("timeout", "write")}
        # Reads are the client's too: as slow as its writes (no draw of their
        # own, so that runs of specs without reads stay as they were).
        self._slow["read"] = self._slow["write"]
        self.faults: list[PlannedFault] = []
        #: Whether faults happen on the plan below, or like any other step.
        self.planned = isinstance(model, Protocol) and rng.random() < _PLANNED
        if self.planned:
            for kind, budget in zip(model.faults.kinds(), model.faults.limits()):
                count = rng.randint(1, budget) if budget and rng.random() >= _NO_FAULT else 0
                self.faults += [PlannedFault(_log_uniform(rng, max_depth), kind, rng.random() < 0.5)
                                for _ in range(count)]
            self.faults.sort()

    def weight(self, label: Any) -> float:
        product = self._step_weights.get(label)
        if product is None:
            product = 1.0
            for feature in features(label):
                w = self._weights.get(feature)
                if w is None:
                    w = self._weights[feature] = 2.0 ** self._rng.uniform(-self._spread, 0.0)
                product *= w
            self._step_weights[label] = product
        return product

    def delay(self, label: Any) -> float:
        # Exponential: memoryless, so without spread and jitter this is a
        # uniform choice among the enabled steps.  Spelled out with the
        # generator's own formulas (uniform(0, jitter), expovariate(1)): a
        # run times a handful of steps per step it takes, and the calls
        # were a fifth of its time.
        tail = 2.0 ** (self._jitter * self._random())
        tail *= self._slow.get(getattr(label, "kind", None), 1.0)
        return -math.log(1.0 - self._random()) * tail / self.weight(label)


def _log_uniform(rng: random.Random, top: int) -> int:
    """A step count in [0, top), as likely in [1, 2) as in [10, 20) or [50, 100)."""
    return min(top - 1, int(math.exp(rng.uniform(0.0, math.log(top + 1)))) - 1)


def features(label: Any) -> tuple[Hashable, ...]:
    """What a swarm configuration weighs a step by."""
    if not isinstance(label, Action):
        # Model-level labels: the action's name, "RMPrepare(r1)" -> "RMPrepare".
        return (("action", str(label).split("(", 1)[0]),)
    kind = ("kind", label.kind)
    if label.kind == "deliver":
        return kind, ("message", label.message.kind), ("to", label.message.dst)
    if label.kind == "timeout":
        return kind, ("timeout", label.detail), ("to", label.node)
    if label.kind == "step":
        return kind, ("step", label.detail.split(": ", 1)[0])
    if label.node is not None:
        return kind, ("to", label.node)
    return (kind,)


def run_seed(seed: int, run: int) -> random.Random:
    """Run ``run``'s generator: a function of the seed and run number only
    (string seeds are hashed with SHA-512, not the per-process string hash)."""
    return random.Random(f"modelcheck-simulate:{seed}:{run}")


class Split(NamedTuple):
    """A state's steps as a run with planned faults sees them."""

    others: list[int]
    other_labels: list[Any]
    #: The labels' numbers (``_label_numbers``), which runs time them by.
    other_numbers: list[int]
    faults: dict[str, list[int]]


#: A number per step label met in this process: equal labels of two states
#: are two tuples, and a run looks up its pending steps' due times by label
#: at every step (three times over: a fifth of its time on Kafka).  Never
#: cleared, so that a label keeps its number for the process's lifetime.
_label_numbers: dict[Any, int] = {}


class _Choices:
    """A state's possible steps, each taken only when a run picks it, then
    remembered (runs share their first steps, and cyclic models revisit
    states all the time).

    An actor protocol says what its steps are without taking them
    (``Protocol.candidates``), unless its spec refines ``successors``; any
    other model is asked for its successors in full.
    """

    __slots__ = ("labels", "_takes", "_taken", "_state", "_split")

    def __init__(self, model: Model, state: Hashable) -> None:
        self._state = state
        self._split: dict[frozenset[str], Split] = {}
        if isinstance(model, Protocol) and type(model).successors is Protocol.successors:
            candidates = list(model.candidates(state))
            self.labels: list[Any] = [label for label, _take in candidates]
            self._takes: list[Callable[[], Any]] | None = [take for _label, take in candidates]
            self._taken: list[Any] = [_UNTAKEN] * len(candidates)
        else:
            steps = [(label, nxt) for label, nxt in model.successors(state) if nxt is not state]
            self.labels, self._takes, self._taken = [label for label, _nxt in steps], None, steps

    def split(self, budgeted: frozenset[str]) -> Split:
        """The steps apart from the ``budgeted`` fault kinds, and those faults' steps by kind."""
        split = self._split.get(budgeted)
        if split is None:
            others: list[int] = []
            faults: dict[str, list[int]] = {}
            for index, label in enumerate(self.labels):
                kind = getattr(label, "kind", None)
                if kind in budgeted:
                    faults.setdefault(kind, []).append(index)
                else:
                    others.append(index)
            labels = [self.labels[i] for i in others]
            numbers = [_label_numbers.setdefault(label, len(_label_numbers)) for label in labels]
            split = self._split[budgeted] = Split(others, labels, numbers, faults)
        return split

    def take(self, index: int) -> tuple[Any, Hashable] | None:
        """Step ``index``'s label and next state; None if it is no step here."""
        step = self._taken[index]
        if step is _UNTAKEN:
            step = self._takes[index]()  # type: ignore[index]
            if step is not None and step[1] is self._state:
                step = None
            self._taken[index] = step
        return step


_UNTAKEN = object()


def one_run(
    model: Model, invariants: Invariants, seed: int, run: int, max_depth: int,
    seen: set[int] | None = None, expanded: dict[Hashable, _Choices] | None = None,
) -> tuple[int, Found | None]:
    """Run number ``run``: how many steps it took, and what it broke (if anything).

    ``expanded`` keeps states' possible steps across runs, with those taken.
    """
    if expanded is None:
        expanded = {}
    rng = run_seed(seed, run)
    initial = list(model.initial_states())
    state = initial[rng.randrange(len(initial))]
    swarm = Swarm(rng, model, max_depth)
    planned = swarm.faults
    budgeted = frozenset(model.faults.kinds() if swarm.planned else ())
    acked_at: int | None = None
    due: dict[int, float] = {}  # possible steps' due times, by label number
    now = 0.0
    labels: list[Any] = []
    states = [state]
    try:
        for steps in range(max_depth + 1):
            if seen is not None:
                seen.add(hash(state))
            for name, holds in invariants:
                if not holds(state):
                    return steps, Found(run, name, labels, states)
            if steps == max_depth:
                return steps, None
            if acked_at is None and budgeted and state[3][1]:  # type: ignore[index]
                acked_at = steps
            choices = expanded.get(state)
            if choices is None:
                if len(expanded) >= _EXPANDED_LIMIT:
                    expanded.clear()
                choices = expanded[state] = _Choices(model, state)
            split = choices.split(budgeted)
            faults = split.faults.get(planned[0].kind, []) if planned else []
            # Budgeted faults happen on schedule only, or when nothing else can.
            step = None
            if faults and _is_due(planned[0], steps, acked_at):
                step = _fault(rng, swarm, choices, faults)
            if step is None:
                step, now, due = _earliest(swarm, choices, split, due, now)
                if step is None and faults:
                    step = _fault(rng, swarm, choices, faults)
            if step is None:
                return steps, None
            if getattr(step[0], "kind", None) in budgeted:  # the planned fault
                planned = planned[1:]
            label, state = step
            labels.append(label)
            states.append(state)
    except SpecError:
        raise
    except Exception as exc:
        raise diagnose_failure(model, state, states, exc) from exc
    return max_depth, None


def _fault(rng: random.Random, swarm: Swarm, choices: _Choices, faults: list[int]
           ) -> tuple[Any, Hashable] | None:
    """One of the planned fault's steps, drawn by the swarm's weights."""
    faults = list(faults)
    while faults:
        drawn = _pick(rng, [swarm.weight(choices.labels[i]) for i in faults])
        step = choices.take(faults[drawn])
        if step is not None:
            return step
        del faults[drawn]
    return None


def _earliest(swarm: Swarm, choices: _Choices, split: Split, due: dict[int, float],
              now: float) -> tuple[tuple[Any, Hashable] | None, float, dict[int, float]]:
    """The step due first, the time it is taken, and the others' due times.

    A possible step keeps its due time while it stays possible, until it is
    tried: one that turns out to be no step here is dropped (and timed
    afresh at the next step), so the choice among the real steps is as if
    only they were timed.
    """
    numbers = split.other_numbers
    ats = list(map(due.get, numbers))
    for position, at in enumerate(ats):
        if at is None:
            ats[position] = now + swarm.delay(split.other_labels[position])
    pending = dict(zip(numbers, ats))
    others = split.others
    for position in sorted(range(len(ats)), key=ats.__getitem__):
        del pending[numbers[position]]
        step = choices.take(others[position])
        if step is not None:
            return step, ats[position], pending
    return None, now, pending


def _is_due(fault: PlannedFault, steps: int, acked_at: int | None) -> bool:
    if not fault.from_ack:
        return steps >= fault.after
    return acked_at is not None and steps >= acked_at + fault.after


def _pick(rng: random.Random, weights: list[float]) -> int:
    """An index drawn in proportion to ``weights``, using one draw."""
    point = rng.random() * math.fsum(weights)
    for index, w in enumerate(weights):
        point -= w
        if point < 0:
            return index
    return len(weights) - 1


def simulate(model: Model, invariants: Invariants, settings: Settings) -> Simulation:
    """Run the simulation ``settings`` describe; raises SpecError on spec errors."""
    if settings.runs is None and settings.time_limit is None:
        raise SpecError("simulate needs --runs or --time-limit (or both)")
    started = time.perf_counter()
    with collector_paused():  # forked workers inherit the pause
        if settings.workers == 1:
            tally, found = _worker_loop(model, invariants, settings, 0, None, started)
        else:
            tally, found = _in_parallel(model, invariants, settings, started)
    tally.seconds = time.perf_counter() - started
    if found is not None:
        return Simulation(tally, found)
    if interrupt.requested():
        return Simulation(tally, None, interrupt.LIMIT)
    ran_out = settings.runs is not None and tally.runs >= settings.runs
    return Simulation(tally, None, "runs" if ran_out else "time-limit")


def _worker_loop(
    model: Model, invariants: Invariants, settings: Settings, worker: int,
    best: Any, started: float,
) -> tuple[Tally, Found | None]:
    """Runs ``worker``, ``worker + workers``, ... until a limit or a find.

    ``best`` (shared between workers, or None with one worker) holds the
    lowest violating run number found so far: runs beyond it are not needed.
    """
    tally = Tally()
    found = None
    expanded: dict[Hashable, _Choices] = {}
    run = worker
    while settings.runs is None or run < settings.runs:
        if best is not None and run > best.value:
            break
        if settings.time_limit is not None and time.perf_counter() - started >= settings.time_limit:
            break
        if interrupt.requested():
            break
        steps, found = one_run(model, invariants, settings.seed, run, settings.max_depth,
                               tally.seen, expanded)
        tally.runs += 1
        tally.steps += steps
        if found is not None:
            if best is not None:
                with best.get_lock():
                    best.value = min(best.value, run)
            break
        run += settings.workers
    return tally, found


def _in_parallel(
    model: Model, invariants: Invariants, settings: Settings, started: float,
) -> tuple[Tally, Found | None]:
    # Fork: workers inherit the model (specs need not pickle) and the
    # process's string-hash secret, so states hash alike in every worker
    # (messages hash by content) and coverage counts each state once.
    context = multiprocessing.get_context("fork")
    interrupt.shared_flag()  # a stop requested here reaches the workers
    best = context.Value("q", 2**62)
    results = context.Queue()
    procs = [
        context.Process(target=_worker_main,
                        args=(model, invariants, settings, w, best, started, results))
        for w in range(settings.workers)
    ]
    for proc in procs:
        proc.start()
    reports = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    errors = [r for r in reports if isinstance(r, str)]
    if errors:
        raise SpecError(errors[0])
    total = Tally()
    finds = []
    for runs, steps, seen, found_run in reports:
        total.runs += runs
        total.steps += steps
        total.seen |= seen
        if found_run is not None:
            finds.append(found_run)
    if not finds:
        return total, None
    # Only the run's number crossed the process boundary: repeat the run
    # here (it is deterministic) to get its states.
    run = min(finds)
    _steps, found = one_run(model, invariants, settings.seed, run, settings.max_depth)
    assert found is not None, f"run {run} broke a property in a worker but not on repeat"
    return total, found


def _worker_main(
    model: Model, invariants: Invariants, settings: Settings, worker: int, best: Any,
    started: float, results: Any,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator's stop request ends us
    try:
        tally, found = _worker_loop(model, invariants, settings, worker, best, started)
    except SpecError as exc:
        results.put(str(exc))
        return
    results.put((tally.runs, tally.steps, tally.seen, None if found is None else found.run))

