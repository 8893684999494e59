"""Kafka ISR replication: the seed's lost record, unclean elections, KIP-966.

Verdicts come from the seed (Kafka 3.4 loses an acknowledged record after one
power loss; kill -9 alone loses nothing) and from the KIPs' own claims.
"""

import json
from functools import cache
from pathlib import Path

import pytest

from modelcheck import explore
from modelcheck.actors import FaultBudget
from modelcheck.actors.cluster import Cluster
from modelcheck.gallery import variants
from modelcheck.load import load
from modelcheck.report import Report
from modelcheck.run import build
from modelcheck.symmetry import verify
from modelcheck.trace import follow_json_trace, label_path
from specs.kafka import Kafka, Record

KAFKA = load("kafka")
GALLERY = Path(__file__).resolve().parent.parent / "counterexamples"


def model(*params, faults=None, writes=None, **mutations):
    """The shipped spec, or a mutant with some of its rules replaced."""
    built = KAFKA.build(KAFKA.resolve(list(params)))
    built.configure(writes=writes, faults=FaultBudget.parse(faults) if faults else None)
    for name, value in mutations.items():
        setattr(built, name, value)
    return built


@cache
def outcome(*params, faults=None, writes=None, only=()):
    """The search `check` makes: with sleep sets when only invariants are checked."""
    searched = model(*params, faults=faults, writes=writes)
    invariants_only = bool(only) and not set(only) & set(searched.recoverables())
    return explore(searched, symmetry=True, only=only, sleep=invariants_only)


def story(result, *params, faults=None):
    """The trace, replayed step by step on the unreduced model."""
    return label_path(model(*params, faults=faults), result.path)


def assert_minimal(result, *params, faults=None, only=()):
    shorter = explore(model(*params, faults=faults), symmetry=True, only=only,
                      max_depth=len(result.path) - 1)
    assert shorter.verdict != "violation"


def assert_gallery_agrees(result, stem):
    """tests/test_gallery.py replays this variant's committed trace instead
    of searching it again; this search is the gallery's, so the report it
    makes must be the committed one."""
    example = next(e for spec, e in variants() if f"{spec}-{e.name}" == stem)
    name, built, values = build("kafka", example.params, example.options)
    checked = example.options.only or (*built.invariants(), *built.recoverables())
    report = Report(name, values, built, result, checked)
    committed = json.loads((GALLERY / f"{stem}.json").read_text())
    assert report.to_json(timing=False) == committed


def leader_that_acked_first(steps):
    return next(s for s in steps if s.state[3][1]).state[5].leader


def test_3_4_reuses_the_offset_of_an_acknowledged_record():
    result = outcome("version=3.4", only=("durability",))
    assert result.verdict == "violation" and result.property == "durability"
    explanation = model().explain("durability", result.path[-1])
    assert "were both acknowledged at offset 0" in explanation
    steps = story(result, "version=3.4")
    losses = [s for s in steps[1:] if s.action.kind == "power_loss"]
    assert len(losses) == 1
    # The seed's story: the broker that led when the first record was
    # acknowledged loses it and is elected again, from an ISR of itself.
    leader_then = leader_that_acked_first(steps)
    assert losses[0].action.node == leader_then
    later = steps[steps.index(losses[0]):]
    assert any(s.action.kind == "step" and s.action.detail.startswith(
        f"controller elects {leader_then} leader") for s in later)
    assert_minimal(result, "version=3.4", only=("durability",))
    assert_gallery_agrees(result, "kafka-3.4")


def test_3_4_elects_a_leader_without_the_record_before_reusing_its_offset():
    result = outcome("version=3.4")
    assert result.verdict == "violation" and result.property == "leader_completeness"
    assert len(result.path) < len(outcome("version=3.4", only=("durability",)).path)
    steps = story(result, "version=3.4")
    assert steps[-1].state[5].leader == leader_that_acked_first(steps)
    assert "lacks record 1" in model().explain("leader_completeness", result.path[-1])
    assert_minimal(result, "version=3.4")


def test_3_4_without_power_loss_is_durable():
    assert outcome("version=3.4", faults="none").verdict == "ok"


def test_3_4_survives_kill_9():
    # kill -9 keeps the page cache: the seed's point is that only an OS
    # crash or power loss loses data.  One write keeps the search short.
    assert outcome("version=3.4", faults="crash=1", writes=1).verdict == "ok"


def test_unclean_election_loses_a_record_without_any_fault():
    result = outcome("unclean_leader_election=true", faults="none")
    assert result.verdict == "violation" and result.property == "leader_completeness"
    reused = outcome("unclean_leader_election=true", faults="none", only=("durability",))
    assert reused.verdict == "violation"
    steps = story(result, "unclean_leader_election=true", faults="none")
    assert not any(s.action.is_fault for s in steps[1:])
    assert any("unclean" in s.action.detail for s in steps[1:] if s.action.kind == "step")
    assert_minimal(result, "unclean_leader_election=true", faults="none")


def test_kip966_keeps_under_one_power_loss_what_3_4_loses():
    # At a bound where 3.4 loses a record (one record, two epochs): the
    # default bound (three epochs, two records) takes minutes and is
    # searched by bench/long_searches.py.
    bound = dict(writes=1)
    assert outcome("version=3.4", "epochs=2", **bound).verdict == "violation"
    assert outcome("version=kip966", "epochs=2", **bound).verdict == "ok"


def test_kip966_stays_durable_but_two_unclean_shutdowns_leave_it_stuck():
    # The gallery's search (tests/test_gallery.py keeps its file up to date)
    # checks every property.  Invariants are judged during the search and
    # recoverability after it, so a violation of "available" means no record
    # was lost anywhere.
    variant = next(e for spec, e in variants() if spec == "kafka" and e.name == "kip966-stuck")
    assert not variant.options.only and variant.options.faults == "power_loss=1,crash=1"
    report = json.loads((GALLERY / "kafka-kip966-stuck.json").read_text())
    assert report["verdict"] == "violation" and report["property"] == "available"
    stuck = model("version=kip966", "epochs=2", faults="power_loss=1,crash=1", writes=1)
    assert set(stuck.invariants()) <= {"durability", "leader_completeness"}
    last = follow_json_trace(stuck, report["trace"])[2][-1][5]
    assert last.leader is None and not (last.elr & last.live)


def test_last_known_leader_restores_availability_and_loses_a_record():
    params = ("version=kip966", "last_known_leader=true")
    result = outcome(*params, faults="power_loss=1,crash=1")
    assert result.verdict == "violation" and result.property == "leader_completeness"
    steps = story(result, *params, faults="power_loss=1,crash=1")
    assert any("the last known leader" in s.action.detail
               for s in steps[1:] if s.action.kind == "step")
    assert_minimal(result, *params, faults="power_loss=1,crash=1")
    assert_gallery_agrees(result, "kafka-kip966-last_known_leader")


def test_kip966_needs_its_strict_min_isr_rule_for_what_consumers_read():
    # With guarantee=visible every record the HW passes counts as read.  If
    # the HW could advance with the ISR below min_isr, a record read by a
    # consumer would exist on one broker only.
    params = ("version=kip966", "guarantee=visible")
    assert outcome(*params, faults="none").verdict == "ok"
    lax = explore(model(*params, faults="none", strict_min_isr=False), symmetry=True)
    assert lax.verdict == "violation"


def test_isr_expansion_needs_the_follower_caught_up():
    # Without the rule, a follower missing an acknowledged record joins the
    # ISR and can be elected: a loss with no fault at all.
    mutant = model("version=3.4", faults="none", caught_up=lambda leader, end: True)
    result = explore(mutant, symmetry=True)
    assert result.verdict == "violation"
    assert outcome("version=3.4", faults="none").verdict == "ok"


def test_kip966_still_loses_with_unclean_elections():
    result = outcome("version=kip966", "unclean_leader_election=true", faults="none")
    assert result.verdict == "violation"


def broker_state(protocol, log, **fields):
    node = protocol.node._thaw("A", protocol, protocol.node._initial(), writable=True)
    node.log.extend(log)
    for name, value in fields.items():
        setattr(node, name, value)
    return node._freeze()


@pytest.mark.parametrize("follower_log, leader_log, kept", [
    # KIP-101: the follower's epoch-1 tail beyond the leader's epoch-1 end.
    ([Record(1, 1), Record(1, 2)], [Record(1, 1), Record(2, 3)], 1),
    # KIP-279: the follower's last epoch (2) is unknown to the leader, whose
    # largest epoch below it (1) ends at offset 2; the follower's epoch 1
    # ends at 1, so it keeps 1 record.
    ([Record(1, 1), Record(2, 9)], [Record(1, 1), Record(1, 2), Record(3, 4)], 1),
    # Logs that agree keep everything and copy the rest.
    ([Record(1, 1)], [Record(1, 1), Record(2, 3)], 1),
    ([], [Record(2, 3)], 0),
])
def test_fetch_truncates_where_the_logs_diverge(follower_log, leader_log, kept):
    kafka = Kafka()
    shared = kafka.initial_shared()._replace(leader="A", epoch=3)
    nodes = (broker_state(kafka, leader_log, leader="A", epoch=3, isr=shared.isr),
             broker_state(kafka, follower_log, leader="A", epoch=3),
             broker_state(kafka, [], leader="A", epoch=3))
    cluster = Cluster(kafka, nodes, shared)
    kafka.fetch(cluster, "B")
    # What it kept, then one record copied from the leader.
    assert cluster["B"].log.entries == tuple(follower_log[:kept]) + tuple(leader_log[kept:kept + 1])
    assert tuple(leader_log[:kept]) == tuple(follower_log[:kept])
    truncated = len(follower_log) - kept
    assert any("truncates" in n for n in cluster._notes) == (truncated > 0 and bool(follower_log))


@pytest.mark.parametrize("params", [["version=kip966"], ["unclean_leader_election=true"]])
def test_symmetry_is_exact_with_a_controller(params):
    # The controller's state names brokers (leader, ISR, ELR): renaming must
    # reach it.  Brute force over every state of a small instance.
    small = model(*params, "epochs=2", faults="none", writes=1)
    result = verify(small)
    assert result.ok, result.mismatches
