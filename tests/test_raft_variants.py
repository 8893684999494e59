"""Raft variants: the thesis's §10.2.1 leader that writes its log in parallel
with replication, and a restarted server that abstains until caught up.

The verdicts and step counts are worked out by hand in each test; the
checks that need a property Raft does not ship (what is on disk, Leader
Completeness) define it here, on the raw state, independently of the spec.
"""

from functools import cache

import pytest

from modelcheck import explore
from modelcheck.actors import disk
from modelcheck.errors import SpecError
from modelcheck.load import load
from modelcheck.run import Options, build, verdicts
from modelcheck.trace import label_path
from specs import raft
from tests.independent_availability import recovery_from

RAFT = load("raft")


def model(*params, node=None, extra=None):
    """Raft with ``params``, optionally another server class and one more
    invariant ``extra(model, state) -> bool`` named ``extra``."""
    built = RAFT.build(RAFT.resolve(list(params)))
    if node is not None:  # every server of the run is of the mutant class
        built.node = node
        built.node_classes = (node,) * len(built.node_names)
    if extra is not None:
        shipped = built.invariants
        built.invariants = lambda: {**shipped(), "extra": lambda s: extra(built, s)}
    return built


def log_files(protocol, state):
    index = [f.name for f in protocol.node._durable_fields].index("log")
    return [files[index] for _volatile, files in state[0]]


def on_disk_at_a_majority(protocol, state) -> bool:
    """§10.2.1's promise: every acknowledged entry is on the disk of a
    majority, i.e. in every version of the log a power loss could leave."""
    files = log_files(protocol, state)
    for value, position in state[3][1]:
        durable = sum(all(len(v) >= position and v[position - 1].value == value
                          for v in disk.survivors(f)) for f in files)
        if durable < len(files) // 2 + 1:
            return False
    return True


def leader_completeness(protocol, state) -> bool:
    """Raft's Leader Completeness for acknowledged writes: each is still on
    some log, and a leader of a later term than the write's holds it at its
    position (else that leader's next write takes the position)."""
    logs = [disk.current(f) for f in log_files(protocol, state)]
    roles = [protocol.inspect(name, ns) for name, ns in zip(protocol.node_names, state[0])]
    for value, position in state[3][1]:
        terms = [e.term for log in logs for e in log if e.value == value]
        if not terms:
            return False
        for node, log in zip(roles, logs):
            held = len(log) >= position and log[position - 1].value == value
            if node.role == "leader" and node.current_term > min(terms) and not held:
                return False
    return True


class CountsItsUnsyncedEntry(raft.ParallelLeader):
    """Mutant: the leader counts its own entry before its disk has it."""

    def stored_here(self) -> int:
        return len(self.log)


# --- fsync=parallel (thesis §10.2.1) ---------------------------------------------


def test_parallel_leader_acknowledges_only_what_a_majority_has_on_disk():
    # Two terms: every order of a leader's flush, replication and
    # acknowledgements, a second leader, and a power loss anywhere.
    result = explore(model("fsync=parallel", extra=on_disk_at_a_majority), symmetry=True)
    assert result.verdict == "ok"


def test_a_leader_counting_its_unsynced_entry_breaks_the_promise_in_six_steps():
    # A stands, B's vote arrives (3 steps), write 1 (4), B appends and
    # answers (6): A commits with itself and B, but only B's copy is on disk.
    result = explore(model("fsync=parallel", "terms=1", node=CountsItsUnsyncedEntry,
                           extra=on_disk_at_a_majority), symmetry=True)
    assert (result.verdict, result.property, len(result.path) - 1) == ("violation", "extra", 6)


def test_parallel_keeps_leader_completeness_where_log_async_does_not():
    # log_async: A elected (3 steps), write 1 (4), B appends and answers
    # (6), B loses the unsynced entry (7), C stands and B, as empty as C,
    # elects it (10): a leader of term 2 without write 1.
    lossy = explore(model("fsync=log_async", extra=leader_completeness), symmetry=True,
                    only=("extra",), max_depth=11)
    assert (lossy.verdict, len(lossy.path) - 1) == ("violation", 10)
    # Under parallel the follower's copy is on disk before it answers: no
    # reachable state has such a leader.
    safe = explore(model("fsync=parallel", extra=leader_completeness), symmetry=True,
                   only=("extra",))
    assert safe.verdict == "ok"


# --- rejoin=abstain ------------------------------------------------------------------


@cache
def abstaining_search():
    return explore(model("rejoin=abstain", extra=leader_completeness), symmetry=True,
                   only=("extra", "election_safety"))


def test_abstaining_server_elects_no_leader_without_an_acknowledged_write():
    # The loss above needs the restarted B's vote; abstaining, B gives none
    # until a leader of term 2 has sent it its log, and only B and C lack
    # the write.  Every reachable state is checked.
    assert abstaining_search().verdict == "ok"


def test_abstain_is_durable_but_stuck_with_one_server_unreachable():
    # The seed's proof at n=1: A loses power first (nothing lost, but it
    # cannot know), B is unreachable for good.  A abstains until a leader
    # of a later term catches it up; C needs A's vote to become that
    # leader.  Stuck after one step.
    pair = verdicts("raft", ["rejoin=abstain", "terms=1"], Options(writes=1, unreachable=1))
    assert pair.safety.outcome.verdict == "ok"
    stuck = pair.availability.outcome
    assert (stuck.verdict, len(stuck.path) - 1) == ("violation", 1)
    [_, lost] = label_path(model("rejoin=abstain", "terms=1"), stuck.path)
    assert lost.action.kind == "power_loss"
    assert lost.action.node not in pair.availability.unreachable
    # Rejoining at once is available from the same states (and, with one
    # write, durable: the loss needs a second write).
    immediate = verdicts("raft", ["terms=1"], Options(writes=1, unreachable=1))
    assert immediate.availability.outcome.verdict == "ok"


def test_abstaining_server_is_stuck_whatever_the_allowance():
    # The recovery search from the state after A's power loss, by hand:
    # with B cut off, no fault-free run gets the probe write acknowledged,
    # with the default terms=2 and its allowance of two more terms.
    _, protocol, _ = build("raft", ["rejoin=abstain"], Options(writes=1))
    initial = next(protocol.initial_states())
    restarted = next(nxt for action, nxt in protocol.successors(initial)
                     if action.kind == "power_loss" and action.node == "A")
    seen, recovered = recovery_from(protocol, restarted, frozenset({"B"}))
    assert not recovered
    assert any(ns[0][0] == "candidate" for s in seen for ns in s[0])  # C did stand


@pytest.mark.parametrize("fsync", ["always", "parallel"])
def test_abstain_where_nothing_acknowledged_is_lost_is_refused(fsync):
    with pytest.raises(SpecError, match="rejoin=abstain"):
        build("raft", [f"fsync={fsync}", "rejoin=abstain"], Options())


def test_figure_2_servers_are_unchanged_by_default():
    for fsync in ("always", "log_async", "never"):
        built = model(f"fsync={fsync}")
        assert built.node is type(built).node and built.node.__name__ == "Server"
