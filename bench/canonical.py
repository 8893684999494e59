"""Canonical forms of actor states, with and without the tables keyed by bags.

    python bench/canonical.py [--rounds 4]

A search's first states (before canonicalisation) are collected once, then
canonicalised by fresh ``NodeSymmetry`` objects, alternately with the tables
keyed by whole bags (each node's sorted traffic, and a bag renamed by a
permutation) and with them turned off (``_BAG_CACHE_LIMIT`` below zero: every
entry is dropped as soon as it is made), in the same run.  The two must give
identical representatives and orbit sizes; the best time of each is printed,
since on a shared machine the same loop varies by a third between rounds.

Measured 2026-12-01 (quiet machine, best of 3 rounds, garbage collector off
as in the search): Raft three nodes 11.8 against 17.7 us a state (1.51x; a
bag recurs in 86% of its states), Raft with five nodes 55.1 against 59.7
(1.08x; 49%), quorum_log with five nodes 63.0 against 61.2 (0.97x; 21%).
The whole search of Raft fsync=always with one write (117,680 kept) took
32.1 against 33.9 s, best of three each on a noisy machine (means 35.2
against 37.1), against the code before these tables and the per-message
profiles.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import modelcheck.actors.symmetry as symmetry  # noqa: E402
from modelcheck import explore  # noqa: E402
from modelcheck.run import Options, build  # noqa: E402

CASES = [  # (label, spec, params, options, states collected from the search's start)
    # Stale messages kept, as when these figures were measured.
    ("raft 3 always", "raft", ["fsync=always"],
     Options(faults="power_loss=1", writes=1, prune=False), 60_000),
    ("raft 5 log_async", "raft", ["nodes=5", "fsync=log_async"], Options(prune=False), 15_000),
    ("quorum_log 5", "quorum_log", ["nodes=5", "W=2", "R=4", "fsync=always"],
     Options(faults="none"), 20_000),
]


def collected(spec: str, params: list[str], options: Options, kept: int):
    """The model, and the states its search canonicalised while keeping ``kept``."""
    _name, model, _values = build(spec, params, options)
    states = []
    plain = symmetry.NodeSymmetry.canonical

    def recording(self, state):
        states.append(state)
        return plain(self, state)

    symmetry.NodeSymmetry.canonical = recording
    try:
        explore(model, symmetry=True, max_states=kept)
    finally:
        symmetry.NodeSymmetry.canonical = plain
    return model, states


def timed(model, states, limit: int) -> tuple[float, list]:
    symmetry._BAG_CACHE_LIMIT = limit
    fresh = symmetry.NodeSymmetry(model.node_names, model.node_roles)
    fresh.arrange = model._symmetry.arrange
    started = time.perf_counter()
    images = [fresh.canonical(state) for state in states]
    return time.perf_counter() - started, images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    gc.disable()  # as the search does: states form no cycles
    cached_limit = symmetry._BAG_CACHE_LIMIT
    for label, spec, params, options, kept in CASES:
        model, states = collected(spec, params, options, kept)
        best = {"bag tables": float("inf"), "without": float("inf")}
        results = []
        for _ in range(args.rounds):
            for mode, limit in (("bag tables", cached_limit), ("without", -1)):
                seconds, images = timed(model, states, limit)
                best[mode] = min(best[mode], seconds)
                results.append(images)
        symmetry._BAG_CACHE_LIMIT = cached_limit
        assert all(images == results[0] for images in results), f"{label}: images differ"
        recurring = 1 - len({state[1] for state in states}) / len(states)
        per_state = {mode: seconds / len(states) * 1e6 for mode, seconds in best.items()}
        print(f"{label}: {len(states):,} states, a bag recurs in {recurring:.0%}; "
              f"{per_state['bag tables']:.1f} us a state with the bag tables, "
              f"{per_state['without']:.1f} without: "
              f"{per_state['without'] / per_state['bag tables']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
