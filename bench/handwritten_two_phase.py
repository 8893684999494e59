"""A hand-written, specialised BFS of TwoPhase: the baseline the engine is
measured against.

Same semantics as specs/two_phase.py and the same work per state as the
engine (parent links kept, TCConsistent checked on every new state), but the
state is one bit-packed int and every action is inlined bit arithmetic.

Layout, from the low bits:  rmState  2 bits per RM   (0 working, 1 prepared,
2 committed, 3 aborted) | tmState 2 bits (0 init, 1 committed, 2 aborted) |
tmPrepared  n bits | Prepared messages  n bits | Commit bit | Abort bit.
"""

from __future__ import annotations

import time


def explore_two_phase(n: int) -> tuple[int, int, float]:
    """Return (distinct states, depth, seconds)."""
    started = time.perf_counter()
    tm_shift = 2 * n
    prep_shift = tm_shift + 2
    msg_shift = prep_shift + n
    commit_bit = 1 << (msg_shift + n)
    abort_bit = commit_bit << 1
    tm_mask = 3 << tm_shift
    tm_committed = 1 << tm_shift
    tm_aborted = 2 << tm_shift
    all_prepared = ((1 << n) - 1) << prep_shift
    rm_masks = [3 << (2 * r) for r in range(n)]
    rm_prepared = [1 << (2 * r) for r in range(n)]
    rm_committed = [2 << (2 * r) for r in range(n)]
    rm_aborted = [3 << (2 * r) for r in range(n)]
    prep_bits = [1 << (prep_shift + r) for r in range(n)]
    msg_bits = [1 << (msg_shift + r) for r in range(n)]
    rms = list(zip(rm_masks, rm_prepared, rm_committed, rm_aborted, prep_bits, msg_bits))

    def consistent(s: int) -> bool:
        states = [(s >> (2 * r)) & 3 for r in range(n)]
        return not (3 in states and 2 in states)

    parents: dict[int, int | None] = {0: None}
    frontier = [0]
    depth = 1
    while frontier:
        nxt_frontier = []
        for s in frontier:
            succ = []
            if not s & tm_mask:
                if s & all_prepared == all_prepared:
                    succ.append(s | tm_committed | commit_bit)
                succ.append(s | tm_aborted | abort_bit)
                for _m, _p, _c, _a, prep, msg in rms:
                    if s & msg:
                        succ.append(s | prep)
            for mask, prepared, committed, aborted, _prep, msg in rms:
                cleared = s & ~mask
                if not s & mask:
                    succ.append(s | prepared | msg)
                    succ.append(s | aborted)
                if s & commit_bit:
                    succ.append(cleared | committed)
                if s & abort_bit:
                    succ.append(cleared | aborted)
            for t in succ:
                if t not in parents:
                    parents[t] = s
                    nxt_frontier.append(t)
                    if not consistent(t):
                        raise AssertionError("TCConsistent violated")
        if nxt_frontier:
            depth += 1
        frontier = nxt_frontier
    return len(parents), depth, time.perf_counter() - started
