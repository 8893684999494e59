"""Pruning stale messages: the same searches with and without it, in one run.

    python bench/pruning.py [--case NAME ...] [--repeat N] [--workers N]

Each case is searched with ``--prune`` and ``--no-prune`` (alternately,
``--repeat`` times each) in this process; the verdict, property, depth
and trace length must agree, and the kept states, distinct states and
wall time of each are printed with the ratios.  An availability case
(``unreachable``) counts the normal search's states and times both
searches, the normal one and the recovery runs.  The five-node cases are
bounded by depth, so both searches cover the same levels.

Figures: docs/design.md, "Stale messages".
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modelcheck.run import Options, run, verdicts  # noqa: E402

CASES = {  # name: (spec, params, options)
    "raft 3 always": ("raft", ["fsync=always"], Options()),
    "raft 3 log_async": ("raft", ["fsync=log_async"], Options()),
    "raft 3 always, one write": ("raft", ["fsync=always"], Options(writes=1)),
    "raft 5 log_async, 11 levels": ("raft", ["nodes=5", "fsync=log_async"],
                                    Options(max_depth=11)),
    "multi_paxos 3 never": ("multi_paxos", ["fsync=never"], Options()),
    "multi_paxos 3 always": ("multi_paxos", ["fsync=always"], Options()),
    # Availability: the normal search and every recovery run, pruned.
    "raft 3 always, available with 1 unreachable": ("raft", ["fsync=always"],
                                                    Options(unreachable=1)),
    "quorum_log 4 W=R=3, available with 1 unreachable": (
        "quorum_log", ["nodes=4", "W=3", "R=3"], Options(unreachable=1)),
}


def measure(spec: str, params: list[str], options: Options) -> tuple[tuple, float, int, int]:
    started = time.perf_counter()
    if options.unreachable is None:
        o = run(spec, params, options).outcome
    else:
        o = verdicts(spec, params, options).availability.outcome
    seconds = time.perf_counter() - started
    # A complete search's depth differs (stale deliveries lengthen runs);
    # where a search stops, on a violation or a depth bound, it must not.
    depth = o.stats.depth if o.verdict != "ok" else None
    return ((o.verdict, o.property, depth, len(o.path)), seconds,
            o.stats.kept_states, o.stats.distinct_states)


def shown_depth(verdict: tuple) -> str:
    return "(complete)" if verdict[2] is None else str(verdict[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", choices=list(CASES),
                        help="a case to run (repeatable; default: all)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    for name in args.case or CASES:
        spec, params, options = CASES[name]
        options = replace(options, workers=args.workers)
        seconds: dict[bool, list[float]] = {True: [], False: []}
        found = {}
        for _ in range(args.repeat):
            for prune in (True, False):
                verdict, took, kept, distinct = measure(spec, params,
                                                        replace(options, prune=prune))
                seconds[prune].append(took)
                found[prune] = (verdict, kept, distinct)
                print(f"  {name}, {'pruned' if prune else 'unpruned'}: {verdict[0]}"
                      f"{' of ' + verdict[1] if verdict[1] else ''}, depth {shown_depth(verdict)}, "
                      f"{kept:,} kept, {distinct:,} distinct, {took:.1f} s", flush=True)
        if found[True][0] != found[False][0]:
            sys.exit(f"{name}: the verdicts differ: {found[True][0]} against {found[False][0]}")
        kept_ratio = found[False][1] / found[True][1]
        time_ratio = min(seconds[False]) / min(seconds[True])
        print(f"{name}: {found[True][1]:,} against {found[False][1]:,} kept "
              f"({kept_ratio:.1f}x fewer), best {min(seconds[True]):.1f} against "
              f"{min(seconds[False]):.1f} s ({time_ratio:.1f}x faster), same verdict "
              f"{found[True][0][0]} at depth {shown_depth(found[True][0])}", flush=True)


if __name__ == "__main__":
    main()
