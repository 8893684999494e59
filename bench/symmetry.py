"""Symmetry reduction on TwoPhase: reduced vs unreduced, in the same run.

    python bench/symmetry.py

For n=8 both ways (the unreduced run is the baseline); for n=10 and 12 only
reduced (unreduced n=10 has 61.5M states). TLC on this machine kind with
SYMMETRY Permutations(RM) needed 508 s for n=8 (35-70 s with two
generators), per ../shared/DESIGN.md: cited, not measured here.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from modelcheck import explore  # noqa: E402
from specs.two_phase import TwoPhase  # noqa: E402


def main() -> None:
    print(f"{'n':>3} {'symmetry':>9} {'kept':>10} {'represented':>12} {'seconds':>8}")
    baseline = None
    for n, symmetry in [(8, False), (8, True), (10, True), (12, True)]:
        outcome = explore(TwoPhase(n), symmetry=symmetry)
        s = outcome.stats
        print(f"{n:>3} {str(symmetry):>9} {s.kept_states:>10,} {s.distinct_states:>12,} "
              f"{s.seconds:>8.2f}")
        if n == 8 and not symmetry:
            baseline = s
        elif n == 8 and baseline is not None:
            assert s.distinct_states == baseline.distinct_states
            print(f"    n=8: {baseline.seconds / s.seconds:,.0f}x faster, "
                  f"{baseline.kept_states / s.kept_states:,.0f}x fewer states kept")


if __name__ == "__main__":
    main()
