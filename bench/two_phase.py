"""Engine vs hand-written BFS on TwoPhase, measured in the same run.

    python bench/two_phase.py [N ...]      (default: 7 8)

Prints distinct states/s for both and the engine's ratio; TLC's figure on this
machine kind (about 59k distinct states/s with 2 workers, ../shared/DESIGN.md)
is printed for reference, not measured here.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from handwritten_two_phase import explore_two_phase  # noqa: E402

from modelcheck import explore  # noqa: E402
from specs.two_phase import TwoPhase  # noqa: E402

TLC_STATES_PER_SECOND = 59_000


def main(sizes: list[int]) -> None:
    print(f"{'n':>2} {'states':>10} {'engine s':>9} {'engine st/s':>12} "
          f"{'hand s':>7} {'hand st/s':>10} {'ratio':>6} {'vs TLC':>7}")
    for n in sizes:
        hand_states, hand_depth, hand_seconds = explore_two_phase(n)
        outcome = explore(TwoPhase(n))
        stats = outcome.stats
        if (stats.distinct_states, stats.depth) != (hand_states, hand_depth):
            raise SystemExit(f"n={n}: engine and hand-written BFS disagree")
        engine_rate = stats.distinct_states / stats.seconds
        hand_rate = hand_states / hand_seconds
        print(f"{n:>2} {stats.distinct_states:>10,} {stats.seconds:>9.2f} {engine_rate:>12,.0f} "
              f"{hand_seconds:>7.2f} {hand_rate:>10,.0f} {engine_rate / hand_rate:>6.2f} "
              f"{engine_rate / TLC_STATES_PER_SECOND:>6.2f}x")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [7, 8])
