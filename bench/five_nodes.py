"""The five-node (2n+1, n=2) searches, each beside its three-node version
in the same run.

    python bench/five_nodes.py [--case NAME ...] [--workers 2]

Cases, with the verdict and depth each must give (depths counted by hand
from the three-node traces, which the five-node ones extend):

- raft log_async: the A/B/C loss at depth 19, the three-node story (13)
  with two more votes to win and two more followers to reach.
- raft always: exhaustively durable and election-safe.
- kafka 3.4: leader_completeness broken at depth 11, the three-broker
  story (9) with two more brokers dropped from the ISR.
- kafka 3.4 durability: an acknowledged offset reused at depth 14 (three
  brokers: 12), for the same reason.
- kafka kip966: exhaustively durable and available at two epochs and one
  record (its default bound, three epochs and two records, is out of reach
  at five brokers).

Searches use symmetry, pruning where the spec declares it, and
``--workers`` processes.  Exits 1 if a verdict or depth is not as expected.
Figures (2026-12-02, two workers): docs/design.md, "Performance".
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modelcheck.run import Options, run  # noqa: E402

CASES = {  # name: (spec, params, options, expected verdict, its depth at 3 and at 5)
    "raft log_async": ("raft", ["fsync=log_async"], Options(), "violation", (13, 19)),
    "raft always": ("raft", ["fsync=always"], Options(), "ok", (None, None)),
    "kafka 3.4": ("kafka", ["version=3.4"], Options(), "violation", (9, 11)),
    "kafka 3.4 durability": ("kafka", ["version=3.4"], Options(only=("durability",)),
                             "violation", (12, 14)),
    "kafka kip966": ("kafka", ["version=kip966", "epochs=2"], Options(writes=1), "ok",
                     (None, None)),
}


def measure(spec: str, params: list[str], options: Options) -> tuple[str, int | None, int, float]:
    started = time.perf_counter()
    outcome = run(spec, params, options).outcome
    seconds = time.perf_counter() - started
    depth = outcome.stats.depth if outcome.verdict != "ok" else None
    return outcome.verdict, depth, outcome.stats.kept_states, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", choices=list(CASES),
                        help="a case to run (repeatable; default: all)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    failed = []
    for name in args.case or CASES:
        spec, params, options, expected, depths = CASES[name]
        found = {}
        for nodes, depth in zip((3, 5), depths):
            verdict, reached, kept, seconds = measure(
                spec, [*params, f"nodes={nodes}"], replace(options, workers=args.workers))
            found[nodes] = (kept, seconds)
            as_expected = verdict == expected and reached == depth
            print(f"  {name}, {nodes} nodes: {verdict}"
                  f"{'' if reached is None else f' at depth {reached}'}, {kept:,} kept, "
                  f"{seconds:.1f} s{'' if as_expected else ' -- NOT AS EXPECTED'}", flush=True)
            if not as_expected:
                failed.append(f"{name} ({nodes} nodes)")
        print(f"{name}: five nodes keep {found[5][0] / found[3][0]:.0f}x the states of three "
              f"and take {found[5][1] / found[3][1]:.0f}x the time", flush=True)
    if failed:
        sys.exit(f"not as expected: {', '.join(failed)}")


if __name__ == "__main__":
    main()
