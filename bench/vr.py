"""Viewstamped Replication's recovery: the searches behind README's rows.

    python3 bench/vr.py [--time-limit SECONDS]

Runs, one after the other (each can take many minutes on two cores):
``recovery=published`` to its shortest loss of a committed write,
``recovery=crash_vectors`` exhaustively under the same budget (views 1,
one timer-started view change, one write, two crashes one after the other),
and both exhaustively under one crash.  Prints each verdict with its
figures; the fingerprint store keeps memory small.
"""

from __future__ import annotations

import argparse
import time

from modelcheck.run import Options, run

SEARCHES = [
    ("published, crash=2", ["recovery=published"], "crash=2"),
    ("crash_vectors, crash=2", ["recovery=crash_vectors"], "crash=2"),
    ("published, crash=1", ["recovery=published"], "crash=1"),
    ("crash_vectors, crash=1", ["recovery=crash_vectors"], "crash=1"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=3600.0)
    args = parser.parse_args()
    for title, params, faults in SEARCHES:
        started = time.perf_counter()
        report = run("vr", params, Options(faults=faults, store="fingerprint",
                                           time_limit=args.time_limit))
        o, s = report.outcome, report.outcome.stats
        found = f"{o.property} after {len(report.steps)} steps" if o.property else ""
        print(f"{title}: {o.verdict} {found} {s.distinct_states:,} states, depth {s.depth}, "
              f"{time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
