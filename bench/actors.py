"""The actor layer on Raft and Kafka, each figure against a baseline of the same run.

    python bench/actors.py

* symmetry: the unreduced search is the baseline (the orbit sums must equal
  its state count);
* memoised immutability checks of changed fields: the baseline runs the
  plain check (``find_mutable``) on every changed field.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import modelcheck.actors.protocol as protocol  # noqa: E402
from modelcheck import explore  # noqa: E402
from modelcheck.actors import FaultBudget  # noqa: E402
from modelcheck.load import load  # noqa: E402
from modelcheck.validate import find_mutable  # noqa: E402

CASES = [  # (label, spec, params, faults): complete searches of 5-20 s reduced
    ("raft log_async", "raft", ["fsync=log_async"], None),
    ("kafka 3.4, no faults", "kafka", ["version=3.4"], "none"),
]


def search(spec: str, params: list[str], faults: str | None, symmetry: bool):
    loaded = load(spec)
    model = loaded.build(loaded.resolve(params))
    # Stale messages kept, as when the figures above were measured.
    model.configure(faults=None if faults is None else FaultBudget.parse(faults), prune=False)
    started = time.perf_counter()
    outcome = explore(model, symmetry=symmetry)
    return outcome, time.perf_counter() - started


def row(label: str, what: str, outcome, seconds: float) -> None:
    s = outcome.stats
    print(f"{label:<22} {what:<22} {s.kept_states:>10,} {s.distinct_states:>11,} "
          f"{seconds:>8.2f} {s.kept_states / seconds:>9,.0f}")


def main() -> None:
    print(f"{'case':<22} {'run':<22} {'kept':>10} {'represented':>11} {'seconds':>8} "
          f"{'kept/s':>9}")
    memoised = protocol._mutable_part
    for label, spec, params, faults in CASES:
        reduced, fast = search(spec, params, faults, symmetry=True)
        row(label, "symmetry, memo", reduced, fast)
        protocol._mutable_part = lambda value, where: find_mutable(value, where)
        try:
            plain, slow = search(spec, params, faults, symmetry=True)
        finally:
            protocol._mutable_part = memoised
        row(label, "symmetry, no memo", plain, slow)
        full, unreduced = search(spec, params, faults, symmetry=False)
        row(label, "no symmetry, memo", full, unreduced)
        assert full.verdict == reduced.verdict and len(full.path) == len(reduced.path)
        if full.verdict == "ok":
            assert full.stats.distinct_states == reduced.stats.distinct_states
        print(f"    memo speed-up {slow / fast:.2f}x; symmetry speed-up {unreduced / fast:.1f}x, "
              f"{full.stats.kept_states / reduced.stats.kept_states:.1f}x fewer states kept")


if __name__ == "__main__":
    main()
