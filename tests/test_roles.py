"""Node roles: layout, per-role faults and client access, sends across
roles, and symmetry only within a role (against brute force, with a mutant)."""

import textwrap

import pytest
from click.testing import CliRunner

from modelcheck import SpecError, explore
from modelcheck.actors import Protocol
from modelcheck.actors.cluster import Cluster, step
from modelcheck.actors.faults import FaultBudget
from modelcheck.cli import main
from modelcheck.symmetry import brute_force_canonical, verify
from tests.roles_specs import Coordinator, Office, Relay, Worker
from tests.test_storage import reachable


def actions(model):
    return {(a.kind, a.node) for s in reachable(model) for a, _ in model.successors(s)}


def test_layout_names_classes_and_roles():
    office = Office(3)
    assert office.node_names == ("A", "B", "C", "K")
    assert office.node_classes == (Worker, Worker, Worker, Coordinator)
    assert office.names_of("worker") == ("A", "B", "C")
    assert office.kin("K") == ("K",)
    assert Office().symmetry_classes() == ((0, 1), (2,))


def test_each_role_suffers_its_own_faults_and_only_some_serve_the_client():
    office = Office()
    office.configure(faults=FaultBudget.parse("crash=1,power_loss=1,partition=1"))
    seen = actions(office)
    assert {("crash", "A"), ("power_loss", "B"), ("write", "A")} <= seen
    assert not {k for k, node in seen if node == "K" and k in ("crash", "power_loss", "write")}
    cuts = {a.detail for s in reachable(office) for a, _ in office.successors(s)
            if a.kind == "partition"}
    assert cuts == {"{A} | {B, K, client}", "{B} | {A, K, client}", "{A, B} | {K, client}"}


def test_peers_and_majority_are_the_nodes_role():
    office = Office(3)
    a = Worker._thaw("A", office, Worker._initial(), writable=False)
    assert a.peers == ["B", "C"] and a.majority == 2


class Chatty(Worker):
    def on_client_write(self, value):
        self.send("K", "Grant", value=value)  # the coordinator handles no Grant


class WrongOffice(Office):
    roles = {"worker": Chatty, "coordinator": Coordinator}


def test_a_kind_the_receiving_role_does_not_handle_is_refused():
    with pytest.raises(SpecError, match=r"K \(Coordinator\) handles no Grant messages"):
        explore(WrongOffice())


BAD_ROLES = {
    "unknown fault": ("faults = ('meteor',)", "", "lists ['meteor'], which no node suffers"),
    "name taken": ("names = ('K',)", "", "two nodes are named alike (A, B, K, K)"),
    "too few names": ("names = ('L',)", ", odd=2",
                      "role 'odd' has 2 nodes but Odd.names lists only 1"),
}


@pytest.mark.parametrize("case", BAD_ROLES)
def test_bad_role_declarations_exit_2(tmp_path, case):
    body, counts, needle = BAD_ROLES[case]
    path = tmp_path / "spec.py"
    path.write_text(textwrap.dedent(f"""
        from modelcheck.actors import Protocol
        from tests.roles_specs import Coordinator, Office, Worker

        class Odd(Worker):
            {body}

        class Spec(Office):
            roles = {{"worker": Worker, "coordinator": Coordinator, "odd": Odd}}

            def __init__(self, workers: int = 2) -> None:
                Protocol.__init__(self, workers{counts})
    """))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and needle in result.output, result.output
    assert str(path) in result.output


def test_counts_by_role_need_roles():
    class Plain(Protocol):
        node = Worker

    with pytest.raises(SpecError, match="declares no roles"):
        Plain(2, worker=2)


def assert_role_symmetry_sound(model):
    """Reduced search against the unreduced one and brute force within roles."""
    result = verify(model)
    assert result.ok, result.mismatches
    assert result.kept == result.orbits < result.states
    for s in reachable(model):
        fast, size = model.canonical(s)
        assert (size, model.canonical(brute_force_canonical(model, s)[0])[0]) == (
            brute_force_canonical(model, s)[1], fast)
    reduced, full = explore(model, symmetry=True), explore(model)
    assert reduced.verdict == full.verdict
    assert reduced.stats.distinct_states == full.stats.distinct_states
    assert reduced.stats.kept_states == result.orbits


class CoordinatorFirst(Office):
    """The coordinator laid out before the workers: K, A, B."""

    roles = {"coordinator": Coordinator, "worker": Worker}

    def __init__(self, workers: int = 2) -> None:
        Protocol.__init__(self, 1, worker=workers)


@pytest.mark.parametrize("model", [Office(2), CoordinatorFirst(2), Relay(2),
                                   Relay(2, network="tcp")],
                         ids=["office", "coordinator-first", "relay-fifo", "relay-tcp"])
def test_symmetry_renames_within_roles_only(model):
    assert_role_symmetry_sound(model)


def test_a_symmetry_that_renames_across_roles_is_caught():
    mutant = CoordinatorFirst(2)
    assert mutant.node_names == ("K", "A", "B")
    # Mutant: every node ranked alike, so sorting puts the coordinator (whose
    # state sorts after a worker's) in a worker's place.
    mutant._symmetry._role_rank = [0] * len(mutant.node_names)
    # Nodes renamed across roles: brute force disagrees, or the search runs
    # a worker's handler on the coordinator's state.
    with pytest.raises((AssertionError, SpecError)):
        assert_role_symmetry_sound(mutant)


def test_node_specs_without_roles_keep_one_class_of_all_nodes():
    class Plain(Protocol):
        node = Worker

    plain = Plain(3)
    assert plain.node_classes == (Worker,) * 3 and plain.symmetry_classes() == ((0, 1, 2),)


class Audited(Office):
    """An atomic step that reads the coordinator and changes a worker."""

    @step("audit of {}")
    def audit(self, cluster, name):
        if name in cluster["K"].seen and not cluster[name].granted:
            cluster[name].granted = -1


def test_atomic_steps_reach_nodes_of_every_role():
    model = Audited()
    model.configure(faults=FaultBudget())
    audits = {(a.detail, t[0][0][0][0]) for s in reachable(model)
              for a, t in model.successors(s) if a.kind == "step" and a.node == "A"}
    assert audits == {("audit of A", -1)}
    assert type(Cluster(model, next(model.initial_states())[0], None)["K"]) is Coordinator
