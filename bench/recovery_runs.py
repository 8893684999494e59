"""Availability's recovery runs: steps tried in ``_FIRST``'s order, and
states past a pair's own steps kept as they come, against the protocol's
own step order with every recovery state canonicalised (the judge before
2026-12-01), in the same run over the same recorded normal search.

    python3 bench/recovery_runs.py                 # quorum_log, four nodes (minutes)
    python3 bench/recovery_runs.py --five 1000     # five nodes: the 1,000 deepest states

* four nodes: quorum_log W=2 R=3 fsync=always, no fault, one node
  unreachable: every pair is good, and all of them are judged deepest first.
* ``--five N``: quorum_log W=2 R=4 fsync=log_async, no fault, one node
  unreachable (the frontier's cell (5, 1, 0)); only the N deepest states are
  judged, where recovery runs are longest (a normal search of three minutes
  comes first).

Each configuration gets a fresh judge; verdicts must agree.  Printed: time,
pairs, expansions and transitions, and each time's ratio to the baseline.

Measured 2026-12-01 (load 1.0), ``--five 300``, same run, 784 pairs, all
good: baseline 32.3 s and 79,105 expansions; order only 8.5 s (3.80x),
19,807 expansions; order with runs kept as they come 6.3 s (5.11x), 22,420
expansions.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import modelcheck.available as available  # noqa: E402
from modelcheck.run import Options, build  # noqa: E402

FOUR = ["nodes=4", "W=2", "R=3", "fsync=always"]
FIVE = ["nodes=5", "W=2", "R=4", "fsync=log_async"]


class _Baseline(available._Judge):
    """Every recovery state canonicalised, and steps in the protocol's order."""

    def _steps(self, marked):
        state, unreachable = available._unmark(marked)
        self.relaxed.cut_off = unreachable
        for action, nxt in self.relaxed.successors(state):
            self.recovery.transitions += 1
            if available.allowed(action, unreachable):
                yield 0, self.canonical(available._mark(nxt, unreachable))[0]


class _OrderOnly(available._Judge):
    """Steps in ``_FIRST``'s order, every recovery state canonicalised."""

    def _steps(self, marked):
        root, self._root = self._root, marked  # canonicalise as if every state were a pair
        try:
            yield from super()._steps(marked)
        finally:
            self._root = root


def judged(kind: type, protocol, states) -> tuple[float, list, available.Recovery, int]:
    recovery = available.Recovery()
    judge = kind(protocol, 1, True, recovery)
    started = time.perf_counter()
    cuts = [judge.stuck_cut(state) for state in reversed(states)]
    seconds = time.perf_counter() - started
    judge.count()
    return seconds, cuts, recovery, judge.search.expansions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--five", type=int, metavar="N",
                        help="five nodes, judging the N deepest states only")
    args = parser.parse_args()
    params = FIVE if args.five else FOUR
    _name, protocol, _values = build("quorum_log", params, Options(faults="none", writes=1))
    gc.disable()  # as in the search
    outcome, states = available.explore_recording(protocol, symmetry=True)
    assert outcome.verdict == "ok", outcome.verdict
    if args.five:
        states = states[-args.five:]
    print(f"quorum_log {' '.join(params)}, one node unreachable: {len(states):,} states "
          f"judged deepest first; load {os.getloadavg()[0]:.1f}", flush=True)
    rows = {}
    for title, kind in [("baseline", _Baseline), ("order only", _OrderOnly),
                        ("order, raw runs", available._Judge)]:
        rows[title] = judged(kind, protocol, states)
        seconds, _cuts, recovery, expansions = rows[title]
        ratio = rows["baseline"][0] / seconds
        print(f"  {title:>16}: {seconds:7.1f} s ({ratio:.2f}x) · {recovery.pairs:,} pairs · "
              f"{expansions:,} expansions · {recovery.transitions:,} transitions", flush=True)
    if len({tuple(cut is None for cut in row[1]) for row in rows.values()}) != 1:
        sys.exit("the configurations disagree on which states are stuck")
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
