"""Pruning stale messages (modelcheck.actors.stale): the pruned search
reaches exactly the pruned images of the unpruned model's states, gives the
same verdicts at the same depths, prints real traces, and refuses rules
that are wrong."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from modelcheck import explore
from modelcheck.cli import main
from modelcheck.run import Options, run, verdicts
from modelcheck.trace import label_path
from tests.independent_availability import recovery_from
from tests.test_storage import reachable

SPEC = str(Path(__file__).with_name("stale_specs.py"))


def build(spec: str, params: list[str], prune: bool, **options):
    return run(spec, params, Options(prune=prune, **options)).model


class Raw:
    """A node's raw state read by field name, without the node class's code."""

    def __init__(self, cls, state):
        self.cls, self.state = cls, state

    def volatile(self, name):
        return self.state[0][next(f.index for f in self.cls._volatile_fields if f.name == name)]

    def file(self, name):
        return self.state[1][next(f.index for f in self.cls._durable_fields if f.name == name)]


def pruned_images(protocol, states, stale):
    """The states less every message for which ``stale(message, receiver)``
    holds: the shipped rules, written again on raw states."""
    cls = protocol.node_classes[0]
    images = set()
    for nodes, bag, *rest in states:
        receivers = {name: Raw(cls, node) for name, node in zip(protocol.node_names, nodes)}
        images.add((nodes, tuple(m for m in bag if not stale(m, receivers[m.dst])), *rest))
    return images


def below_floor(stamp, field):
    """A message whose ``stamp`` is below every value of the receiver's
    durable ``field`` a power loss may leave."""
    def stale(message, receiver):
        value = getattr(message, stamp, None)
        return value is not None and value < min(receiver.file(field))
    return stale


def raft_stale(fsync):
    """Raft's rule: a term below the fsynced floor; at the floor, a vote for
    someone no longer a candidate of that term, an answer to someone no
    longer its leader, and (where votes are fsynced with their terms) a
    request for a vote the receiver's disk has given to another."""
    def stale(message, receiver):
        floor, term = min(receiver.file("current_term")), receiver.file("current_term")[-1]
        role = receiver.volatile("role")
        if message.term != floor:
            return message.term < floor
        if message.kind == "RequestVoteResponse":
            return (role, term) != ("candidate", floor)
        if message.kind == "AppendEntriesResponse":
            return (role, term) != ("leader", floor)
        return (message.kind == "RequestVote" and fsync != "never"
                and None not in receiver.file("voted_for")
                and message.src not in receiver.file("voted_for"))
    return stale


def paxos_stale(message, receiver):
    """Multi-Paxos's rule: a round below the fsynced floor of promises; at
    the floor, any Prepare, a Promise or Accepted to a replica not standing
    or leading in that round, an Accept whose sender no surviving promise
    names for that round."""
    if message.kind not in ("Prepare", "Promise", "Accept", "Accepted"):
        return False
    promises = receiver.file("promised")
    floor = min(round_ for round_, _ in promises)
    if message.round != floor:
        return message.round < floor
    if message.kind == "Prepare":
        return True
    if message.kind == "Accept":
        return (floor, message.src) not in promises
    return receiver.volatile("role") == "follower" or promises[-1][0] != floor


def quorum_log_stale(fsync):
    """quorum_log's rule: below the fsynced floor of terms anything but an
    Append (which is answered); a Newer not above it; at the floor, a vote
    or an acknowledgement to a node no longer candidate or leader of that
    term, and (where votes are fsynced with their terms) a request for a
    vote the receiver's disk has given to another."""
    def stale(message, receiver):
        floor, term = min(receiver.file("term")), receiver.file("term")[-1]
        role = receiver.volatile("role")
        if message.kind == "Newer":
            return message.term <= floor
        if message.term != floor:
            return message.term < floor and message.kind != "Append"
        if message.kind == "Vote":
            return (role, term) != ("candidate", floor)
        if message.kind == "Appended":
            return (role, term) != ("leader", floor)
        return (message.kind == "RequestVote" and fsync != "never"
                and None not in receiver.file("voted_for")
                and message.src not in receiver.file("voted_for"))
    return stale


@pytest.mark.parametrize("spec, params, writes, stale", [
    (SPEC, [], None, below_floor("epoch", "epoch")),
    (SPEC, ["fsync=False", "nodes=2"], None, below_floor("epoch", "epoch")),
    ("raft", ["nodes=2"], 1, raft_stale("log_async")),
    ("raft", ["nodes=2", "fsync=never"], 1, raft_stale("never")),
    ("raft", ["nodes=2", "fsync=parallel"], 1, raft_stale("parallel")),
    ("raft", ["nodes=2", "rejoin=abstain"], 1, raft_stale("log_async")),
    ("multi_paxos", ["nodes=2"], 1, paxos_stale),
    ("multi_paxos", ["nodes=2", "fsync=never", "rejoin=pml"], 1, paxos_stale),
    ("quorum_log", ["nodes=2"], 1, quorum_log_stale("log_async")),
    ("quorum_log", ["nodes=2", "fsync=always"], 1, quorum_log_stale("always")),
    ("quorum_log", ["nodes=2", "W=1", "R=1", "rejoin=detect"], 1, quorum_log_stale("log_async")),
    ("quorum_log", ["nodes=2", "W=1", "fsync=never"], 1, quorum_log_stale("never")),
])
def test_pruned_search_reaches_exactly_the_images_of_the_unpruned_states(
        spec, params, writes, stale):
    only = ["few_in_flight"] if spec == SPEC else ["durability"]
    unpruned = build(spec, params, prune=False, writes=writes)
    images = pruned_images(unpruned, reachable(unpruned), stale)
    pruned = build(spec, params, prune=True, writes=writes)
    outcome = explore(pruned, only=only)
    assert outcome.verdict == "ok"
    assert outcome.stats.distinct_states == outcome.stats.kept_states == len(images)
    # Under symmetry, the orbits of the pruned states add up to the same count.
    symmetric = explore(pruned, symmetry=True, only=only)
    assert symmetric.stats.distinct_states == len(images)
    assert symmetric.stats.kept_states < len(images)


# Every shipped spec that says which messages it ignores, and its gallery
# variants: verdict, property and depth with and without pruning.  (Raft
# log_async at three nodes is checked against its committed gallery trace by
# tests/test_raft.py, and pruned searches on workers against one process by
# tests/test_workers.py.)
DIFFERENTIAL = [
    ("raft", ["fsync=never", "nodes=2"], {"only": ("durability",)}),
    ("raft", ["fsync=never"], {"only": ("election_safety",)}),
    ("raft", ["fsync=log_async", "rejoin=abstain", "nodes=2"], {}),
    ("raft", ["fsync=always", "nodes=2"], {}),
    ("raft", ["fsync=parallel", "nodes=2"], {}),
    ("multi_paxos", ["fsync=never", "rejoin=pml", "nodes=2"], {}),
    ("multi_paxos", ["fsync=always"], {"writes": 1}),
    (SPEC, [], {"only": ("someone_unheard",)}),
    (SPEC, ["fsync=False"], {"only": ("someone_unheard",)}),
]


@pytest.mark.parametrize("spec, params, options", DIFFERENTIAL)
def test_same_verdict_property_and_depth_with_and_without_pruning(spec, params, options):
    with_pruning = run(spec, params, Options(prune=True, **options))
    without = run(spec, params, Options(prune=False, **options))
    assert with_pruning.model.pruning and not without.model.pruning
    found = [(r.outcome.verdict, r.outcome.property, len(r.outcome.path))
             for r in (with_pruning, without)]
    assert found[0] == found[1]
    if without.outcome.verdict != "ok":  # where it stopped; a whole search's depth differs
        assert with_pruning.outcome.stats.depth == without.outcome.stats.depth
    assert with_pruning.outcome.stats.kept_states <= without.outcome.stats.kept_states
    if without.outcome.path:
        # The trace is a real run of the unpruned model: replaying its
        # steps there gives its states, stale messages in flight included.
        path = with_pruning.outcome.path
        assert len(label_path(without.model, path)) == len(path)
        prop = without.outcome.property
        assert not dict(without.model.invariants())[prop](path[-1])


# Availability judges pruned states too: a stale message helps no recovery.
# Same verdicts and stuck depth with and without pruning, on every shipped
# spec with a rule, stuck and available.
AVAILABILITY = [
    ("raft", ["fsync=always", "terms=1"], {"writes": 1}),
    ("multi_paxos", ["fsync=always"], {"writes": 1}),
    ("multi_paxos", ["fsync=always", "nodes=2"], {"writes": 1}),
    ("quorum_log", ["fsync=log_async", "rejoin=detect"], {"faults": "power_loss=1"}),
    ("quorum_log", ["terms=1", "fsync=always", "W=2"], {"faults": "none"}),
    ("quorum_log", ["terms=1", "fsync=always", "W=3"], {"faults": "none"}),
]


@pytest.mark.parametrize("spec, params, options", AVAILABILITY)
def test_same_availability_with_and_without_pruning(spec, params, options):
    with_pruning, without = (verdicts(spec, params, Options(unreachable=1, prune=prune, **options))
                             for prune in (True, False))
    assert with_pruning.safety.model.pruning and not without.safety.model.pruning
    found = [(r.safety.outcome.verdict, r.availability.outcome.verdict,
              len(r.availability.outcome.path), len(r.availability.unreachable))
             for r in (with_pruning, without)]
    assert found[0] == found[1]
    assert (with_pruning.safety.outcome.stats.kept_states
            < without.safety.outcome.stats.kept_states)
    if with_pruning.availability.outcome.verdict == "violation":
        # A real run of the unpruned model, whose last state an independent
        # search finds stuck with the nodes named.
        path, model = with_pruning.availability.outcome.path, without.safety.model
        assert len(label_path(model, path)) == len(path)
        _seen, recovered = recovery_from(
            model, path[-1], frozenset(with_pruning.availability.unreachable))
        assert not recovered


def test_the_pruned_trace_keeps_stale_messages_in_flight():
    report = run("raft", ["fsync=log_async"], Options())
    model, last = report.model, report.outcome.path[-1]
    assert model.pruning and report.outcome.verdict == "violation"

    def floor(name):
        node = model.inspect(name, last[0][model.node_index[name]])
        return min(node.survivors("current_term"))

    assert [m for m in last[1] if m.term < floor(m.dst)], \
        "the violation's last state should still have a stale message in flight"


def test_raft_three_nodes_fsync_always_keeps_a_fifth_of_the_states_or_fewer():
    """The issue's figure (bench/pruning.py: 767,534 against 21,697 kept with
    two writes), on elections alone so that the unpruned search is quick:
    the same verdict, on state spaces whose every state is judged."""
    pruned = run("raft", ["fsync=always"], Options(writes=0))
    unpruned = run("raft", ["fsync=always"], Options(writes=0, prune=False))
    assert pruned.outcome.verdict == unpruned.outcome.verdict == "ok"
    assert pruned.outcome.stats.kept_states * 5 <= unpruned.outcome.stats.kept_states


def invoke(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("params", [
    [], ["-p", "fsync=never"], ["-p", "fsync=parallel"], ["-p", "rejoin=abstain"],
])
def test_verify_pruning_passes_on_raft(params):
    result = invoke("check", "raft", "-p", "nodes=2", "--writes", "1", *params,
                    "--verify-pruning")
    assert result.exit_code == 0, result.output
    assert "pruning verified" in result.output


@pytest.mark.parametrize("params", [
    [], ["-p", "fsync=always"], ["-p", "rejoin=detect"], ["-p", "W=1", "-p", "fsync=never"],
])
def test_verify_pruning_passes_on_quorum_log(params):
    result = invoke("check", "quorum_log", "-p", "nodes=2", *params, "--verify-pruning")
    assert result.exit_code == 0, result.output
    assert "pruning verified" in result.output


def test_verify_pruning_finds_a_rule_a_power_loss_breaks():
    result = invoke("check", SPEC, "-p", "rule=unstable", "-p", "fsync=False",
                    "--verify-pruning")
    assert result.exit_code == 1, result.output
    assert "power loss" in result.output and "no longer ignores Hello" in result.output
    # The same rule is sound when every epoch is fsynced at once.
    result = invoke("check", SPEC, "-p", "rule=unstable", "-p", "nodes=2", "--verify-pruning")
    assert result.exit_code == 0, result.output


def test_a_rule_naming_a_message_its_handler_acts_on_stops_the_search():
    result = invoke("check", SPEC, "-p", "rule=acts")
    assert result.exit_code == 2, result.output
    assert "Beacon.ignores says node" in result.output
    assert "handler on_hello would change the node's state" in result.output
    assert "Traceback" not in result.output
    assert invoke("check", SPEC, "-p", "rule=acts", "--no-prune").exit_code == 1


def test_a_rule_must_answer_true_or_false():
    result = invoke("check", SPEC, "-p", "rule=not_bool")
    assert result.exit_code == 2 and "return True or False" in result.output, result.output


def test_a_property_may_not_read_the_network_while_pruning():
    result = invoke("check", SPEC, "-p", "peek=True", "--only", "few_in_flight")
    assert result.exit_code == 2 and "reads world.network" in result.output, result.output
    result = invoke("check", SPEC, "-p", "peek=True", "--only", "few_in_flight", "--no-prune")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args, needle", [
    (["raft", "--prune", "--deadlock"], "--prune cannot be combined with --deadlock"),
    (["two_phase", "--prune"], "apply to actor specs"),
    (["primary_backup", "--prune"], "nothing to prune"),
    (["chain", "--verify-pruning"], "nothing to verify"),
])
def test_pruning_refused_where_it_cannot_apply(args, needle):
    result = invoke("check", *args)
    assert result.exit_code == 2 and needle in result.output, result.output
    assert "Traceback" not in result.output


def test_pruning_is_off_by_default_with_deadlock_and_on_otherwise():
    assert not run("raft", ["nodes=2"], Options(deadlock=True, writes=0)).model.pruning
    assert run("raft", ["nodes=2"], Options(writes=0)).model.pruning
    assert not run("primary_backup", [], Options(writes=0, faults="")).model.pruning


def test_the_report_says_its_counts_are_of_the_pruned_model():
    report = run("raft", ["nodes=2"], Options(writes=0))
    assert "distinct states once stale messages are pruned" in report.to_text()
    assert report.to_json()["stale_messages_pruned"] is True
    assert run("raft", ["nodes=2"], Options(writes=0, prune=False)).to_json()[
        "stale_messages_pruned"] is False


@settings(max_examples=12, deadline=None)
@given(nodes=st.just(2), epochs=st.integers(1, 3), fsync=st.booleans(),
       faults=st.fixed_dictionaries({kind: st.integers(0, 1) for kind in (
           "power_loss", "crash", "partition", "drop", "duplicate")}))
def test_generated_beacons_agree_with_and_without_pruning(nodes, epochs, fsync, faults):
    """Random instances, fault budgets included: the same verdict at the
    same depth, and the pruned search reaches exactly the pruned images of
    the unpruned states, but for the fault counts (a drop spent on a stale
    message has no image: the run that keeps it covers it)."""
    params = [f"nodes={nodes}", f"epochs={epochs}", f"fsync={fsync}"]
    budget = ",".join(f"{kind}={n}" for kind, n in faults.items())
    if epochs == 3 and sum(faults.values()) > 2:
        budget = "power_loss=1,drop=1"  # keeps every example within seconds
    reports = {prune: run(SPEC, params, Options(prune=prune, faults=budget,
                                                only=("someone_unheard",)))
               for prune in (True, False)}
    found = {prune: (r.outcome.verdict, len(r.outcome.path)) for prune, r in reports.items()}
    assert found[True] == found[False]
    unpruned = build(SPEC, params, prune=False, faults=budget)
    pruned = build(SPEC, params, prune=True, faults=budget)

    def unbudgeted(states):
        return {(nodes_, bag, isolated, client) for nodes_, bag, isolated, client, _u, _s
                in states}

    images = pruned_images(unpruned, reachable(unpruned), below_floor("epoch", "epoch"))
    assert unbudgeted(images) == unbudgeted(reachable_pruned(pruned))


def reachable_pruned(protocol):
    """Every state the pruned search stores, without symmetry."""
    reduce = protocol.reduction(symmetry=False)
    seen, todo = set(), [reduce(s)[0] for s in protocol.initial_states()]
    while todo:
        s = todo.pop()
        if s not in seen:
            seen.add(s)
            todo.extend(reduce(t)[0] for _, t in protocol.successors(s))
    return seen
