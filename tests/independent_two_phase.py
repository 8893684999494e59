"""An independent reading of TwoPhase.tla for cross-checking the engine.

Written from the TLA+ text with a different state encoding (dicts frozen as
sorted item tuples, messages as records) and a plain worklist, sharing no
code with specs/two_phase.py or modelcheck.
"""

from __future__ import annotations


def _freeze(rm_state: dict, tm_state: str, tm_prepared: set, msgs: set):
    return (tuple(sorted(rm_state.items())), tm_state, frozenset(tm_prepared), frozenset(msgs))


def next_states(state, rms, commit_early=False):
    rm_items, tm_state, tm_prepared, msgs = state
    rm_state = dict(rm_items)
    out = []

    def emit(rm=rm_state, tm=tm_state, prepared=tm_prepared, m=msgs):
        out.append(_freeze(rm, tm, set(prepared), set(m)))

    if tm_state == "init":
        for rm in rms:  # TMRcvPrepared(rm)
            if ("Prepared", rm) in msgs:
                emit(prepared=tm_prepared | {rm})
        if tm_prepared == set(rms) or (commit_early and tm_prepared):  # TMCommit
            emit(tm="committed", m=msgs | {("Commit",)})
        emit(tm="aborted", m=msgs | {("Abort",)})  # TMAbort
    for rm in rms:
        if rm_state[rm] == "working":  # RMPrepare, RMChooseToAbort
            emit(rm={**rm_state, rm: "prepared"}, m=msgs | {("Prepared", rm)})
            emit(rm={**rm_state, rm: "aborted"})
        if ("Commit",) in msgs:  # RMRcvCommitMsg
            emit(rm={**rm_state, rm: "committed"})
        if ("Abort",) in msgs:  # RMRcvAbortMsg
            emit(rm={**rm_state, rm: "aborted"})
    return out


def levels(n: int, commit_early: bool = False) -> list[set]:
    """States grouped by their BFS distance from the initial state."""
    rms = [f"rm{i}" for i in range(n)]
    init = _freeze({rm: "working" for rm in rms}, "init", set(), set())
    seen = {init}
    result = [{init}]
    while True:
        layer = {t for s in result[-1] for t in next_states(s, rms, commit_early)} - seen
        if not layer:
            return result
        seen |= layer
        result.append(layer)


def consistent(state) -> bool:
    values = {v for _, v in state[0]}
    return not ("committed" in values and "aborted" in values)
