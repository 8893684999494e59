"""Lamport's two-phase commit (TwoPhase.tla), at the Model level.

A transaction manager (TM) and ``n`` resource managers (RMs).  Messages form a
set that only grows: a message once sent can be received any number of times,
exactly as in the TLA+ spec, so the distinct-state counts match TLC's.

A state is the tuple ``(rmState, tmState, tmPrepared, msgs)``:

* ``rmState``    a tuple, one of working/prepared/committed/aborted per RM;
* ``tmState``    init, committed or aborted;
* ``tmPrepared`` the frozenset of RMs whose Prepared message the TM received;
* ``msgs``       the frozenset of messages sent: ``("Prepared", r)``,
                 ``"Commit"`` and ``"Abort"``.

Steps that change nothing (receiving a message twice) return the state
object itself: TLA+ counts them as enabled, and the explorer skips them
without hashing.

Variant ``bug="commit_early"`` lets the TM commit as soon as *one* RM has
prepared, so another RM may still choose to abort: TCConsistent breaks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from math import factorial
from typing import Literal

from modelcheck import Model, invariant
from modelcheck.gallery import Counterexample

WORKING, PREPARED, COMMITTED, ABORTED = "working", "prepared", "committed", "aborted"
INIT = "init"
COMMIT, ABORT = "Commit", "Abort"

State = tuple[tuple[str, ...], str, frozenset, frozenset]


def set_rm(rm_state: tuple[str, ...], r: int, value: str) -> tuple[str, ...]:
    """[rmState EXCEPT ![r] = value]"""
    return rm_state[:r] + (value,) + rm_state[r + 1 :]


class TwoPhase(Model):
    summary = "Lamport's two-phase commit (TwoPhase.tla); bug=commit_early breaks it"
    counterexamples = [
        Counterexample("commit_early", "the TM commits before every RM has prepared",
                       params=("bug=commit_early",)),
    ]

    def __init__(self, n: int = 3, bug: Literal["none", "commit_early"] = "none") -> None:
        if n < 1:
            raise ValueError("n must be at least 1")
        self.n = n
        self.commit_early = bug == "commit_early"
        self.rms = range(n)
        self.all_rms = frozenset(self.rms)
        self.names = [f"r{r + 1}" for r in self.rms]
        self.prepared_msg = [("Prepared", r) for r in self.rms]
        # Built once: the explorer asks for a label on every step.
        self.tm_rcv_prepared = [f"TMRcvPrepared({rm})" for rm in self.names]
        self.rm_prepare = [f"RMPrepare({rm})" for rm in self.names]
        self.rm_choose_to_abort = [f"RMChooseToAbort({rm})" for rm in self.names]
        self.rm_rcv_commit = [f"RMRcvCommitMsg({rm})" for rm in self.names]
        self.rm_rcv_abort = [f"RMRcvAbortMsg({rm})" for rm in self.names]

    def initial_states(self) -> Iterator[State]:
        yield ((WORKING,) * self.n, INIT, frozenset(), frozenset())

    def successors(self, s: State) -> Iterator[tuple[str, State]]:
        rm_state, tm_state, tm_prepared, msgs = s

        if tm_state == INIT:
            if tm_prepared == self.all_rms or (self.commit_early and tm_prepared):
                yield "TMCommit", (rm_state, COMMITTED, tm_prepared, msgs | {COMMIT})
            yield "TMAbort", (rm_state, ABORTED, tm_prepared, msgs | {ABORT})
            for r in self.rms:
                if self.prepared_msg[r] in msgs:
                    yield self.tm_rcv_prepared[r], (
                        s if r in tm_prepared
                        else (rm_state, tm_state, tm_prepared | {r}, msgs)
                    )

        for r in self.rms:
            if rm_state[r] == WORKING:
                yield self.rm_prepare[r], (
                    set_rm(rm_state, r, PREPARED), tm_state, tm_prepared,
                    msgs | {self.prepared_msg[r]},
                )
                yield self.rm_choose_to_abort[r], (
                    set_rm(rm_state, r, ABORTED), tm_state, tm_prepared, msgs
                )
            if COMMIT in msgs:
                yield self.rm_rcv_commit[r], (
                    s if rm_state[r] == COMMITTED
                    else (set_rm(rm_state, r, COMMITTED), tm_state, tm_prepared, msgs)
                )
            if ABORT in msgs:
                yield self.rm_rcv_abort[r], (
                    s if rm_state[r] == ABORTED
                    else (set_rm(rm_state, r, ABORTED), tm_state, tm_prepared, msgs)
                )

    # --- symmetry: the RMs are interchangeable ---------------------------

    def symmetry_size(self) -> int:
        return self.n

    def permute(self, s: State, perm: tuple[int, ...]) -> State:
        rm_state, tm_state, tm_prepared, msgs = s
        renamed = [WORKING] * self.n
        for r, value in enumerate(rm_state):
            renamed[perm[r]] = value
        return (
            tuple(renamed), tm_state, frozenset(perm[r] for r in tm_prepared),
            frozenset(m if isinstance(m, str) else ("Prepared", perm[m[1]]) for m in msgs),
        )

    def canonical(self, s: State) -> tuple[State, int]:
        """Sort the RMs by everything the state says about each one.

        An RM's whole part of the state is (rmState, in tmPrepared, sent
        Prepared), and nothing relates one RM to another, so RMs with equal
        profiles are interchangeable and sorting the profiles is exact.
        """
        rm_state, tm_state, tm_prepared, msgs = s
        profiles = sorted(
            (rm_state[r], r in tm_prepared, self.prepared_msg[r] in msgs) for r in self.rms
        )
        orbit = factorial(self.n)
        for count in Counter(profiles).values():
            orbit //= factorial(count)
        return (
            tuple(p[0] for p in profiles),
            tm_state,
            frozenset(r for r, p in enumerate(profiles) if p[1]),
            frozenset(m for m in msgs if isinstance(m, str))
            | frozenset(self.prepared_msg[r] for r, p in enumerate(profiles) if p[2]),
        ), orbit

    @invariant(name="TCConsistent")
    def tc_consistent(self, s: State) -> bool:
        """No RM has aborted while another has committed."""
        rm_state = s[0]
        return not (ABORTED in rm_state and COMMITTED in rm_state)

    def explain(self, prop: str, s: State) -> str:
        status = dict(zip(self.names, s[0]))
        committed = [rm for rm, st in status.items() if st == COMMITTED]
        aborted = [rm for rm, st in status.items() if st == ABORTED]
        return (
            f"{prop} broken: {', '.join(committed)} committed "
            f"while {', '.join(aborted)} aborted"
        )

    def describe_state(self, s: State) -> dict:
        rm_state, tm_state, tm_prepared, msgs = s
        return {
            "rmState": dict(zip(self.names, rm_state)),
            "tmState": tm_state,
            "tmPrepared": frozenset(self.names[r] for r in tm_prepared),
            "msgs": frozenset(
                m if isinstance(m, str) else f"Prepared({self.names[m[1]]})" for m in msgs
            ),
        }
