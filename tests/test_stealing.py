"""Work stealing must not change what a partitioned search finds.

Forked workers steal only when one runs ahead, which a test cannot count
on.  So the shares run here in one process, with every state dealt out in
one-state chunks: one after the other, the last one first, so that it
expands its own part of each level and steals everyone else's, in the
order that most upsets the key order a worker's own part is expanded in;
and in threads switching every microsecond, so that claims and steals
interleave as they come.  Every report must still be the one-process
search's, on every shipped spec at small bounds.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from modelcheck.engine import stealing
from modelcheck.engine.bfs import explore
from modelcheck.engine.partitioned import explore_partitioned
from modelcheck.engine.share import Expanded, Received, Share, forked_owner
from modelcheck.run import Options, build

ROOT = Path(__file__).resolve().parent.parent


class LastFirst:
    """A pool of shares in this process, expanded last share first."""

    def __init__(self, model, workers: int, symmetry: bool, deadlock: bool) -> None:
        self.workers = workers
        self.owner = forked_owner
        self.board = stealing.Board(workers)
        self.shares = [Share(model, index, workers, symmetry, (), deadlock, "exact",
                             forked_owner, self.board) for index in range(workers)]
        #: Per level after the first, how many states each share expanded.
        self.expanded: list[list[int]] = []
        self.levels = 0

    def call(self, method, args):
        return [getattr(share, method)(*arguments) for share, arguments in zip(self.shares, args)]

    def level(self, deadline, memory) -> tuple[list[Expanded], list[Received]]:
        expanded = self.expand(deadline, memory)
        if self.levels:
            self.expanded.append([len(share.expanded_ids) for share in self.shares])
        self.levels += 1
        batches = [e.batches for e in expanded]
        for e in expanded:
            e.batches = []
        received = [share.receive([b[index] for b in batches])
                    for index, share in enumerate(self.shares)]
        return expanded, received

    def expand(self, deadline, memory) -> list[Expanded]:
        return [share.expand(deadline, memory) for share in reversed(self.shares)][::-1]

    def close(self) -> None:
        self.board.close()


class Threads(LastFirst):
    """The same shares, each level expanded by all of them at once."""

    def expand(self, deadline, memory) -> list[Expanded]:
        expanded: list[Expanded] = [None] * self.workers  # type: ignore[list-item]

        def expand_one(index: int) -> None:
            expanded[index] = self.shares[index].expand(deadline, memory)

        threads = [threading.Thread(target=expand_one, args=(index,))
                   for index in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return expanded


CASES = [
    pytest.param("two_phase", ["n=4"], Options(), id="two_phase-ok"),
    pytest.param("two_phase", ["n=3", "bug=commit_early"], Options(), id="two_phase-violation"),
    pytest.param("two_phase", ["n=4"], Options(max_states=700), id="two_phase-max-states"),
    pytest.param("two_phase", ["n=3"], Options(deadlock=True), id="two_phase-deadlock"),
    pytest.param(str(ROOT / "tests" / "ladder_spec.py"), [], Options(), id="ladder-stuck"),
    pytest.param("raft", ["fsync=log_async"], Options(writes=1, max_depth=7), id="raft-max-depth"),
    pytest.param("kafka", ["version=3.4"], Options(writes=1), id="kafka-violation"),
    pytest.param("quorum_log", ["fsync=log_async"], Options(), id="quorum_log-violation"),
    pytest.param("abd", [], Options(), id="abd-ok"),
    pytest.param("chain", [], Options(), id="chain-ok"),
    pytest.param("multi_paxos", [], Options(max_depth=9), id="multi_paxos-max-depth"),
    pytest.param("primary_backup", [], Options(), id="primary_backup-violation"),
    pytest.param("vr", [], Options(max_depth=7), id="vr-max-depth"),
]


def searched(spec, params, options, workers, pool_kind):
    """The one-process search's outcome, the shares' outcome, and their pool."""
    model = build(spec, params, options)[1]
    symmetry = model.symmetry_size() > 1
    limits = dict(symmetry=symmetry, deadlock=options.deadlock, max_states=options.max_states,
                  max_depth=options.max_depth)
    alone = explore(model, **limits)
    pool = pool_kind(model, workers, symmetry, options.deadlock)
    try:
        shared = explore_partitioned(model, pool, **limits)
    finally:
        pool.close()
    return alone, shared, pool


def outcome_of(outcome):
    s = outcome.stats
    return (outcome.verdict, outcome.property, outcome.limit, s.kept_states,
            s.distinct_states, s.transitions, s.depth, outcome.path)


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize(("spec", "params", "options"), CASES)
def test_stolen_chunks_change_nothing(spec, params, options, workers, monkeypatch):
    monkeypatch.setattr(stealing, "CHUNK", 1)
    monkeypatch.setattr(stealing, "TAIL", 1.0)
    alone, shared, pool = searched(spec, params, options, workers, LastFirst)
    assert outcome_of(shared) == outcome_of(alone)
    # Past the initial states, the last share expanded every state.
    assert pool.expanded and all(not any(counts[:-1]) for counts in pool.expanded)
    assert any(counts[-1] for counts in pool.expanded)


@pytest.mark.parametrize(("spec", "params", "options"), CASES)
def test_chunks_claimed_and_stolen_at_once_change_nothing(spec, params, options, monkeypatch):
    monkeypatch.setattr(stealing, "CHUNK", 1)
    monkeypatch.setattr(stealing, "TAIL", 1.0)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        alone, shared, _pool = searched(spec, params, options, 3, Threads)
    finally:
        sys.setswitchinterval(switch)
    assert outcome_of(shared) == outcome_of(alone)


def test_a_worker_claims_its_own_chunks_from_the_front_and_thieves_from_the_back():
    board = stealing.Board(2)
    try:
        board.deal(0, [b"a", b"b", b"c"])
        board.deal(1, [])
        assert board.claim_own(0) == 0
        assert board.steal() == (0, 2)
        assert board.claim_own(0) == 1
        assert board.claim_own(0) is None
        assert board.steal() is None
    finally:
        board.close()
