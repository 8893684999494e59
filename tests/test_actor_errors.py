"""A misbehaving actor spec gets a message naming node, handler and trace."""

import textwrap

import pytest
from click.testing import CliRunner

from modelcheck.cli import main

TEMPLATE = """
    from modelcheck.actors import timeout
    from tests.mistakes._correct import Correct, Peer

    class Faulty(Peer):
        @timeout
        def start(self):
            if not self.items:
                self.items = ("started",)
                {body}

    class Spec(Correct):
        node = Faulty
        default_writes = 0
"""

CASES = {
    "in_place": ("self.items = ['started']", "left a mutable value (field items is a list",
                 "start"),
    "unhashable_send": ("self.send(self.peers[0], 'Hello', items=[1])", "field items is a list",
                        "node A"),
    "unknown_node": ("self.send('Z', 'Hello')", "unknown node 'Z'", "node A"),
    "raises": ("raise RuntimeError('oops')", "handler start of node A raised RuntimeError", "oops"),
    "no_handler": ("self.send(self.peers[0], 'Helo')", "no node handles", "did you mean 'Hello'",
                   "node A"),
    "name_dependent": ("self.send('B', 'Hello')", "symmetric = False"),
    "log_assign": ("self.log = (1,)", "use log.append", "start"),
}


@pytest.mark.parametrize("case", CASES)
def test_actor_spec_errors(tmp_path, case):
    body, *needles = CASES[case]
    path = tmp_path / "spec.py"
    path.write_text(textwrap.dedent(TEMPLATE).replace("{body}", body))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output
    assert "trace that reached it" in result.output


def test_writes_and_faults_refused_for_model_level_spec():
    result = CliRunner().invoke(main, ["check", "two_phase", "--faults", "crash=1"])
    assert result.exit_code == 2 and "actor specs" in result.output


def test_bad_fault_budget():
    result = CliRunner().invoke(main, ["check", "primary_backup", "--faults", "meteor=1"])
    assert result.exit_code == 2 and "unknown fault kind 'meteor'" in result.output


STEP_TEMPLATE = """
    from modelcheck.actors import Node, Protocol, Volatile
    from modelcheck.actors.cluster import step

    class Peer(Node):
        mark = Volatile(0)

    class Spec(Protocol):
        node = Peer
        default_writes = 0

        def initial_shared(self):
            return ()

        @step("{} is poked")
        def poke(self, cluster, name):
            {body}
"""

STEP_CASES = {
    "raises": ("cluster[name].mark = 1 / 0", "step poke (about node A) raised ZeroDivisionError"),
    "mutable_shared": ("cluster.shared = [name]", "step poke (about node A) left a mutable "
                       "shared state (the shared state is a list"),
    "mutable_field": ("cluster['B'].mark = {name}", "step poke (about node A), on node B, left "
                      "a mutable value (field mark is a set"),
    "unknown_node": ("cluster['Z'].mark = 1", "in step poke (about node A): no node named 'Z' (nodes: A, B, C)"),
}


@pytest.mark.parametrize("case", STEP_CASES)
def test_step_errors(tmp_path, case):
    body, needle = STEP_CASES[case]
    path = tmp_path / "spec.py"
    path.write_text(textwrap.dedent(STEP_TEMPLATE).replace("{body}", body))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert needle in result.output, result.output


def test_a_set_is_refused_even_after_the_equal_frozenset_passed():
    # Sets are looked up in a set as the equal frozenset: the memo of values
    # already checked must not let a set through.
    from modelcheck.actors.protocol import _mutable_part

    assert _mutable_part(frozenset({"A"}), "field mark") is None
    assert "is a set" in _mutable_part({"A"}, "field mark")


def test_a_fault_kind_given_twice_is_refused():
    result = CliRunner().invoke(main, ["check", "primary_backup", "--faults",
                                       "power_loss=2,power_loss=0"])
    assert result.exit_code == 2 and "power_loss is given twice" in result.output
