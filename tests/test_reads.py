"""Client reads: reads in durability, the history, and refused misuse."""

import textwrap

import pytest
from click.testing import CliRunner

from modelcheck import explore
from modelcheck.cli import main
from modelcheck.load import load
from modelcheck.trace import label_path
from tests.test_primary_backup import violated_within

LEADER_READS = "tests/log_reads_spec.py"


def leader_reads(**params):
    loaded = load(LEADER_READS)
    model = loaded.build(loaded.resolve([f"{k}={v}" for k, v in params.items()]))
    model.check_setup()
    return model


def test_prefix_durability_alone_misses_the_leaders_loss():
    """With no read, the leader's empty committed prefix hides the lost write."""
    model = leader_reads()
    model.configure(reads=0)
    assert explore(model).verdict == "ok"


def test_a_read_served_by_the_amnesiac_leader_breaks_durability():
    model = leader_reads()
    outcome = explore(model)
    assert outcome.verdict == "violation" and outcome.property == "durability"
    steps = label_path(model, outcome.path)
    # write, Append, Appended (acknowledged), power loss, read: the module docstring.
    assert [s.action.kind for s in steps[1:]] == [
        "write", "deliver", "deliver", "power_loss", "read"]
    assert model.explain("durability", outcome.path[-1]) == (
        "durability broken: read 1 returned [], but write 1 was acknowledged at position 1 "
        "before the read began: the read missed write 1")
    assert not violated_within(model, 4)


def test_a_synced_leader_serves_every_acknowledged_write():
    assert explore(leader_reads(leader_fsync="true")).verdict == "ok"


def test_reads_refused_without_an_object():
    result = CliRunner().invoke(main, ["check", "primary_backup", "--reads", "1"])
    assert result.exit_code == 2
    assert "--reads 1:" in result.output and "behaves_as = Register() or Log()" in result.output
    assert "Traceback" not in result.output


SPEC = """
from modelcheck.actors import Durable, Node, Protocol
from modelcheck.linearizable import Register

class Cell(Node):
    value = Durable(None)
{methods}

class Cells(Protocol):
    node = Cell
    behaves_as = Register()
    default_reads = 1
    default_writes = 0

    def __init__(self):
        super().__init__(1)
"""


@pytest.mark.parametrize("methods, message", [
    ("", "Cell ("),
    ("    def on_client_read(self, op):\n        self.respond(op + 1, self.value)",
     "node A responded to read 2, which the client never issued (issued so far: 1)"),
], ids=["no on_client_read", "unknown read"])
def test_read_mistakes(tmp_path, methods, message):
    path = tmp_path / "spec.py"
    path.write_text(SPEC.format(methods=methods))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_explorer_opens_a_trace_found_with_reads():
    from modelcheck.explorer.session import ModelChoice, Session
    from modelcheck.run import Options, run

    report = run("abd", ["write_back=false"], Options(reads=2)).to_json(timing=False)
    choice = ModelChoice.of_trace(report)
    assert choice.reads == 2 and choice.params == ("nodes=3", "fsync=always", "write_back=false")
    session = Session(choice, "abd")
    assert session.values["reads"] == 2
