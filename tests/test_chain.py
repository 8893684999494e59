"""Chain replication with a master: verdicts by fsync and re-admission, with
minimal counterexamples whose lengths are argued step by step below."""

from functools import cache

import pytest

from modelcheck import explore
from modelcheck.actors import on
from modelcheck.actors.faults import FaultBudget
from modelcheck.load import load
from modelcheck.trace import label_path
from specs.chain import Chain, Replica

CHAIN = load("chain")


def model(*params):
    return CHAIN.build(CHAIN.resolve(list(params)))


@cache
def outcome(*params, only=()):
    return explore(model(*params), only=only)


def kinds(result, *params):
    return [(s.action.kind, s.action.node) for s in label_path(model(*params), result.path)[1:]]


@pytest.mark.parametrize("params", [
    ("fsync=always",), ("fsync=always", "readmit=true"), ("fsync=never",),
    ("fsync=always", "network=tcp"), ("fsync=never", "network=tcp"),
])
def test_durable_configurations(params):
    # fsync=never without re-admission is safe too: the master removes a
    # replica that restarted, so one that forgot never serves again.
    result = outcome(*params)
    assert result.verdict == "ok", result.property


def test_readmitted_amnesiac_tail_misses_an_acknowledged_write():
    params = ("fsync=never", "readmit=true")
    result = outcome(*params, only=("tail_complete",))
    assert result.verdict == "violation"
    # Seven steps, none avoidable: the write passes head, middle and tail
    # before the tail acknowledges it (3); the tail loses it (1); it is
    # judged once back in its chain: it tells the master, the master's
    # Restarted arrives, the master's Config arrives (3).
    assert kinds(result, *params) == [
        ("write", "A"), ("deliver", "B"), ("deliver", "C"), ("power_loss", "C"),
        ("timeout", "C"), ("deliver", "M"), ("deliver", "C")]
    assert explore(model(*params), only=("tail_complete",),
                   max_depth=len(result.path) - 1).verdict != "violation"


def test_readmitted_amnesiac_head_breaks_update_propagation():
    params = ("fsync=never", "readmit=true")
    result = outcome(*params)
    assert result.verdict == "violation" and result.property == "update_propagation"
    # Six steps: the write reaches head and middle (2), the head loses it
    # (1) and comes back as head (3) with an empty log under the middle's [1].
    assert kinds(result, *params) == [
        ("write", "A"), ("deliver", "B"), ("power_loss", "A"),
        ("timeout", "A"), ("deliver", "M"), ("deliver", "A")]


def test_committed_prefixes_alone_never_see_the_loss():
    # The tail asks its predecessor for the writes after its (empty) log
    # and ignores a write past a gap, so no replica ever commits another
    # value where the lost one was: the built-in durability holds, and only
    # a read at the tail (tail_complete) sees the loss.
    assert outcome("fsync=never", "readmit=true", only=("durability",)).verdict == "ok"


def test_a_crash_keeps_the_page_cache_so_readmission_is_safe():
    crashing = model("fsync=never", "readmit=true")
    crashing.configure(faults=FaultBudget.parse("crash=1"))
    assert explore(crashing).verdict == "ok"


class Trusting(Replica):
    """A replica that trusts FIFO links and appends past a gap."""

    @on("Forward", label=("position", "value"))
    def on_forward(self, msg):
        if msg.src == self.neighbour(-1) and msg.position > len(self.log):
            self.append(msg.value)


class TrustingChain(Chain):
    roles = {"replica": Trusting, "master": Chain.roles["master"]}


def test_without_the_gap_check_the_next_write_takes_the_lost_position():
    # The seed's story: write 1 acknowledged at position 1 by the tail (3
    # steps), lost by it (1), the tail re-admitted (3), write 2 through the
    # chain (3) lands at position 1 on the tail: ten steps.
    result = explore(TrustingChain(fsync="never", readmit=True),
                     only=("durability",))
    assert result.verdict == "violation" and len(result.path) == 11
    assert "both acknowledged at position 1" in TrustingChain(
        fsync="never", readmit=True).explain("durability", result.path[-1])


def test_the_master_neither_fails_nor_takes_writes():
    chain = model("fsync=never")
    chain.configure(faults=FaultBudget.parse("crash=1,power_loss=1,partition=1"))
    assert chain.node_names == ("A", "B", "C", "M")
    state = next(chain.initial_states())
    nodes = {(a.kind, a.node) for a, _ in chain.successors(state)}
    assert ("crash", "A") in nodes and ("write", "A") in nodes
    assert not {kind for kind, node in nodes if node == "M"}
