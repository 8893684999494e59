"""How fast `modelcheck simulate` finds the shipped violations, and how short
its shrunk traces are, against other simulators in the same run.

    python bench/simulate.py [--seeds 5] [--limit 120] [--workers 2]
                             [--modes swarm,uniform,eager] [--case "raft 5"]

Per case and seed: seconds until the first violating run (before shrinking),
runs, the run's length, the shrunk length, the shrinking time and steps/s.
Modes: ``swarm`` is the simulator as shipped; ``uniform`` the same with
swarm, delay tails and fault plans off, each step picked uniformly among
the enabled ones (what a plain random walk does); ``eager`` the simulator
before 2026-12-01, which took every step of a state as soon as a run
reached it and kept the garbage collector running.  Shortest lengths come
from `check` (breadth-first); for Raft with five nodes, whose search takes
about ten minutes with two workers, the length was counted by hand after
the three-node trace, and `check` has since found the same (2026-12-02):
elect A (timeout, two votes: 5), B times out into term 2 (1), write 1 and two followers acknowledge it
(5), one of them loses it in a power loss (1), B's RequestVotes reach it
and the node that never got the entry, and their votes come back (4), write
2 to B and B's AppendEntries reaches A, which truncates its committed entry
(2): 18 transitions.

Raft with five nodes, 2026-12-01, `--case "raft 5" --modes swarm,eager
--limit 60 --workers 1`, one core (the other busy with another search):
swarm found the loss with every seed, in 3.9, 59.6, 20.8, 38.4 and 57.1 s
(529 to 7,262 runs), median 38.4 s, shrunk to 18-21 transitions, at
4,148-5,349 steps/s; eager found it with none of them within 60 s, at
1,278-1,591 steps/s (3.4x fewer).  A state of five-node Raft has about 17
possible steps, of which a run takes about two: listing them costs 43 us,
taking them all 346 us; the collector took half of the rest.  The runs
themselves differ too, and the new ones find the loss more often (5 in
22,090 runs here; eager, 1 in about 45,000 over this run and the one
below).  Their one systematic difference: a step that is possible but
changes nothing yet keeps the due time drawn when it first became
possible, unless a run tries it first; such survivors are biased towards
long delays, so a step that becomes real late (the client's write to a
new leader, a timeout at a leader that steps down) tends to come later.

2026-12-02, with faults moved between nodes while shrinking, one core,
`--case "raft 5" --modes swarm --limit 60 --workers 1`: found by seeds
0-3 in 4.1, 54.7, 20.2 and 43.9 s (seed 4 over 60 s), median 43.9 s, each
shrunk to 18 (check's shortest) in 1.9-3.8 s; `--case "kafka 3.4" --case
"raft 3"`: Kafka 8 (check 8), Kafka durability 12 (check 11), three-node
Raft 12 on every seed (check 12).

2026-12-01, one core, `--case kafka --case "raft 3"`: Kafka 3.4's first
broken property median 5.2 s (eager 5.5 s), shrunk to 8 (check: 8); Kafka
3.4 durability median 17.3-17.8 s, two seeds over 60 s (eager 27.3 s),
shrunk to 12 with the ending pass (check: 11); Raft three nodes log_async
median 15.4 s, 3,159-9,350 runs (eager 5.3 s, 346-8,066 runs), shrunk to
12-13 (check: 12): there the new runs need about seven times as many runs
(docs/design.md, "Simulation", says why).

Kafka 3.4 durability, 2026-12-02, `--case "kafka 3.4 durability" --modes
swarm --limit 60`: with `--workers 2` on a quiet machine (load 0.5-1.7)
the median was 24.2 s, two seeds over 60 s, at 16,100-18,900 steps/s,
fewer than one worker's 20,700-24,100 (seeds 0-2 alone, same hour):
workers fingerprinted every state for coverage by ordering it whole, 33 us
a step.  With the search's memoised fingerprint (3.6 us) and the timing
bookkeeping trimmed (the same runs, draw for draw), two workers: 46.4,
5.3, 35.9, 8.9, 1.5 s, median 8.9 s, at 31,900-47,200 steps/s; one
worker (the other core busy with a frontier search): 7.2, 57.9, 10.6,
1.4 s and seed 0 over 60 s, median 10.6 s, at 27,700-37,000 steps/s.
Shrunk to 12 on every seed (check: 11).

Before, on a quiet machine (load 1.4-1.8), 2026-12-01, eager with two
workers and 120 s a seed: found by seed 0 only (35.9 s, 2,403 runs, shrunk
30 to 21).  Tried then and not kept: weighing deliveries by their sender
(seeds 2 and 4 of 5 found), by their link (no more runs got a power loss to
leave the write on fewer than a majority of logs), and coverage-guided
restarts from prefixes that first reached a new abstract state (3 of 10
seeds within 60 s on one core).
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager, nullcontext
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import modelcheck.simulate as simulate  # noqa: E402
from modelcheck.run import Options, run  # noqa: E402
from modelcheck.simreport import run_simulation  # noqa: E402

CASES = [  # (label, spec, params, options, shortest by check?)
    ("raft 5 log_async", "raft", ["nodes=5", "fsync=log_async"], Options(), False),
    ("kafka 3.4", "kafka", ["version=3.4"], Options(), True),
    ("kafka 3.4 durability", "kafka", ["version=3.4"], Options(only=("durability",)), True),
    ("raft 3 log_async", "raft", ["fsync=log_async"], Options(), True),
]


@contextmanager
def uniform():
    """Swarm, delay tails and fault plans off: each step picked uniformly."""
    old = simulate._SPREAD, simulate._JITTER, simulate._PLANNED
    simulate._SPREAD = simulate._JITTER = simulate._PLANNED = 0.0
    try:
        yield
    finally:
        simulate._SPREAD, simulate._JITTER, simulate._PLANNED = old


class _Eager(simulate._Choices):
    """Every step of a state taken as soon as a run reaches it, and only the
    real ones kept: the simulator before steps were taken lazily."""

    def __init__(self, model, state):
        super().__init__(model, state)
        steps = [self.take(i) for i in range(len(self.labels))]
        steps = [step for step in steps if step is not None]
        self.labels, self._takes, self._taken = [label for label, _ in steps], None, steps


@contextmanager
def eager():
    """Steps taken eagerly and the garbage collector running, as before."""
    choices, paused = simulate._Choices, simulate.collector_paused
    simulate._Choices, simulate.collector_paused = _Eager, nullcontext
    try:
        yield
    finally:
        simulate._Choices, simulate.collector_paused = choices, paused


def attempt(spec, params, options, seed, limit, workers):
    settings = simulate.Settings(seed=seed, time_limit=limit, workers=workers)
    report = run_simulation(spec, params, options, settings)
    tally = report.simulation.tally
    if report.simulation.found is None:
        return tally.runs, tally.steps_per_second
    return (tally.seconds, tally.runs, report.original_length, len(report.steps) - 1,
            report.shrink_seconds), tally.steps_per_second


MODES = {"swarm": nullcontext, "uniform": uniform, "eager": eager}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--limit", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--modes", default="swarm,uniform",
                        help="comma-separated, from: " + ", ".join(MODES))
    parser.add_argument("--case", action="append", help="only cases whose label contains this")
    args = parser.parse_args()
    modes = args.modes.split(",")
    if unknown := [m for m in modes if m not in MODES]:
        parser.error(f"unknown mode {unknown[0]!r}: choose from {', '.join(MODES)}")
    print(f"{'case':<22} {'mode':<8} {'seed':>4} {'found s':>8} {'runs':>7} {'length':>6} "
          f"{'shrunk':>6} {'shrink s':>8} {'steps/s':>8}")
    for label, spec, params, options, by_check in CASES:
        if args.case and not any(part in label for part in args.case):
            continue
        medians = {}
        for mode in modes:
            times, shrunk = [], []
            with MODES[mode]():
                for seed in range(args.seeds):
                    result, rate = attempt(spec, params, options, seed, args.limit, args.workers)
                    if isinstance(result, int):  # runs, none of which broke a property
                        times.append(float("inf"))
                        print(f"{label:<22} {mode:<8} {seed:>4} {'>' + str(args.limit):>8} "
                              f"{result:>7,} {'':>6} {'':>6} {'':>8} {rate:>8,.0f}")
                        continue
                    seconds, runs, length, short, shrink_s = result
                    times.append(seconds)
                    shrunk.append(short)
                    print(f"{label:<22} {mode:<8} {seed:>4} {seconds:>8.1f} {runs:>7,} "
                          f"{length:>6} {short:>6} {shrink_s:>8.1f} {rate:>8,.0f}", flush=True)
            medians[mode] = statistics.median(times)
            lengths = f"shrunk {min(shrunk)}-{max(shrunk)}" if shrunk else "nothing found"
            print(f"{label:<22} {mode:<8} median time to find {medians[mode]:.1f} s, {lengths}")
        for mode in modes[1:]:
            if medians[modes[0]] > 0:
                print(f"{label:<22} {mode}/{modes[0]} median time ratio "
                      f"{medians[mode] / medians[modes[0]]:.2f}")
        if by_check:
            started = time.perf_counter()
            report = run(spec, params, options)
            print(f"{label:<22} check: shortest {len(report.outcome.path) - 1} transitions "
                  f"({time.perf_counter() - started:.1f} s)")
        print(flush=True)


if __name__ == "__main__":
    main()
