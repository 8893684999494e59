"""Sleep sets: the same searches with and without them, in one run.

    python bench/sleep_sets.py [--case NAME ...] [--repeat N]

Each case is searched with ``--por`` and ``--no-por`` (alternately,
``--repeat`` times each) in this process, with symmetry and pruning as
``check`` uses them.  Sleep sets skip steps, never states: the verdict,
trace length, depth and states kept must be equal (the script stops
otherwise); it prints the steps each search took and its wall time, and the
ratios.  The five-node cases are bounded by depth, so both searches cover
the same levels; ``raft 5 log_async`` runs to the loss (many minutes).

Figures: docs/design.md, "Partial-order reduction".
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modelcheck.run import Options, run  # noqa: E402

CASES = {  # name: (spec, params, options)
    "raft 3 always": ("raft", ["fsync=always"], Options()),
    "raft 3 log_async": ("raft", ["fsync=log_async"], Options()),
    "raft 3 never, durability": ("raft", ["fsync=never"], Options(only=("durability",))),
    "raft 5 always, 13 levels": ("raft", ["nodes=5", "fsync=always"], Options(max_depth=13)),
    "raft 5 log_async, 15 levels": ("raft", ["nodes=5"], Options(max_depth=15)),
    "kafka 3.4 invariants": ("kafka", ["version=3.4"],
                             Options(only=("durability", "leader_completeness"))),
    "chain never": ("chain", ["fsync=never"], Options()),
    "abd with a read": ("abd", [], Options(reads=1)),
}
LONG = {"raft 5 log_async": ("raft", ["nodes=5"], Options())}


def measure(spec: str, params: list[str], options: Options) -> tuple[tuple, float, int]:
    started = time.perf_counter()
    o = run(spec, params, options).outcome
    seconds = time.perf_counter() - started
    same = (o.verdict, o.property, len(o.path), o.stats.depth, o.stats.kept_states)
    return same, seconds, o.stats.transitions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", choices=[*CASES, *LONG],
                        help="a case to run (repeatable; default: all but the long one)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for name in args.case or CASES:
        spec, params, options = {**CASES, **LONG}[name]
        seconds: dict[bool, list[float]] = {True: [], False: []}
        found, steps = {}, {}
        for round_ in range(args.repeat):
            # Alternate which goes first: the first search of a process pays its warm-up.
            for por in ((True, False) if round_ % 2 else (False, True)):
                found[por], took, steps[por] = measure(spec, params, replace(options, por=por))
                seconds[por].append(took)
        if found[True] != found[False]:
            sys.exit(f"{name}: sleep sets changed the search: {found[True]} != {found[False]}")
        verdict, _prop, length, depth, kept = found[True]
        fast, slow = min(seconds[True]), min(seconds[False])
        print(f"{name}: {verdict} (trace {length}, depth {depth}, {kept:,} kept); "
              f"steps {steps[False]:,} -> {steps[True]:,} "
              f"({steps[False] / steps[True]:.2f}x fewer); "
              f"{slow:.1f} s -> {fast:.1f} s ({slow / fast:.2f}x faster)", flush=True)


if __name__ == "__main__":
    main()
