"""--workers 2 against --workers 1 (the one-process search), in the same run.

    python3 bench/workers.py                  # Raft fsync=always, power_loss=1
    python3 bench/workers.py --small          # Kafka 3.4 without faults (a minute)

Runs both searches back to back (one process first, then two workers, then
again in the other order when --repeat 2), checks that the kept and distinct
counts and the verdicts agree, and prints the times and their ratio.  The
machine's load at the start and end is printed too: on a shared machine the
ratio is only as good as the quiet it was measured in, so the CPU time
of both (workers included) is printed too.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modelcheck.run import Options, run  # noqa: E402

RAFT = ("raft", ["fsync=always"], Options(faults="power_loss=1"))
SMALL = ("kafka", ["version=3.4"], Options(faults="none"))


def cpu() -> float:
    """CPU seconds of this process and of its waited-for children (the workers)."""
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def timed(spec: str, params: list[str], options: Options) -> tuple[float, float, tuple]:
    started, cpu_before = time.perf_counter(), cpu()
    outcome = run(spec, params, options).outcome
    seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_before
    s = outcome.stats
    return seconds, cpu_seconds, (outcome.verdict, outcome.property, s.kept_states,
                                  s.distinct_states, s.transitions, s.depth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="Kafka 3.4 without faults")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="rounds, alternating the order")
    args = parser.parse_args()
    spec, params, options = SMALL if args.small else RAFT
    print(f"{spec} {' '.join(params)} faults={options.faults}; load {os.getloadavg()[0]:.1f}")
    times: dict[int, list[float]] = {1: [], args.workers: []}
    cpus: dict[int, list[float]] = {1: [], args.workers: []}
    results = set()
    for round_ in range(args.repeat):
        order = [1, args.workers] if round_ % 2 == 0 else [args.workers, 1]
        for workers in order:
            seconds, cpu_seconds, result = timed(spec, params, replace(options, workers=workers))
            times[workers].append(seconds)
            cpus[workers].append(cpu_seconds)
            results.add(result)
            print(f"  workers={workers}: {seconds:.1f} s, {cpu_seconds:.1f} CPU s  {result}",
                  flush=True)
    assert len(results) == 1, f"the searches disagree: {results}"
    one, many = min(times[1]), min(times[args.workers])
    overhead = min(cpus[args.workers]) / min(cpus[1])
    # On a loaded machine wall time says little; CPU time says what the
    # workers cost in all, so N / overhead is the best speedup N free cores give.
    print(f"wall ratio (best of each): {one / many:.2f}x faster with {args.workers} workers; "
          f"CPU time {overhead:.2f}x the one-process search's, so at best "
          f"{args.workers / overhead:.2f}x on {args.workers} free cores; "
          f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
