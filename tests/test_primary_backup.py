"""The example protocol: durable with fsync, not without; minimal traces."""

import json

import pytest
from click.testing import CliRunner

from modelcheck import explore
from modelcheck.actors import FaultBudget
from modelcheck.cli import main
from modelcheck.trace import label_path
from specs.primary_backup import PrimaryBackup


def violated_within(model, depth):
    """Independent bounded DFS: is any state within `depth` steps violating?"""
    checks = list(model.invariants().values())
    best = {}

    def dfs(state, left):
        if best.get(state, -1) >= left:
            return False
        best[state] = left
        if not all(check(state) for check in checks):
            return True
        return left > 0 and any(dfs(t, left - 1) for _, t in model.successors(state))

    return any(dfs(s, depth) for s in model.initial_states())


def test_without_fsync_durability_breaks_minimally():
    model = PrimaryBackup(fsync=False)
    outcome = explore(model)
    assert outcome.verdict == "violation" and outcome.property == "durability"
    steps = label_path(model, outcome.path)
    kinds = [s.action.kind for s in steps[1:]]
    assert kinds.count("power_loss") == 1
    assert "both acknowledged at position 1" in model.explain("durability", outcome.path[-1])
    # No violating state is reachable in fewer steps.
    assert not violated_within(model, len(outcome.path) - 2)
    assert violated_within(model, len(outcome.path) - 1)


def test_with_fsync_durable_under_the_same_budget():
    outcome = explore(PrimaryBackup(fsync=True))
    assert outcome.verdict == "ok"


def test_more_faults_with_fsync_still_durable():
    model = PrimaryBackup(fsync=True)
    model.configure(faults=FaultBudget.parse("power_loss=1,crash=1,partition=1"))
    assert explore(model).verdict == "ok"


def test_minimize_faults_prefers_fewer_faults():
    args = ["check", "primary_backup", "--faults", "power_loss=1,crash=1,partition=1,drop=1",
            "--json"]
    fewest = json.loads(CliRunner().invoke(main, args + ["--minimize", "faults"]).output)
    assert fewest["verdict"] == "violation"
    assert sum(step.get("fault", False) for step in fewest["trace"]) == 1
    # With no faults at all the protocol is durable, so one fault is the fewest.
    zero = json.loads(CliRunner().invoke(main, ["check", "primary_backup", "--faults", "",
                                                "--json"]).output)
    assert zero["verdict"] == "ok"


def test_json_trace_marks_faults_and_messages():
    result = CliRunner().invoke(main, ["check", "primary_backup", "--json"])
    assert result.exit_code == 1
    trace = json.loads(result.output)["trace"]
    kinds = [step.get("kind") for step in trace[1:]]
    assert "power_loss" in kinds and "deliver" in kinds and "write" in kinds
    deliver = next(step for step in trace if step.get("kind") == "deliver")
    assert set(deliver["message"]) == {"src", "dst", "type", "fields"}
    assert all(step["fault"] == (step["kind"] == "power_loss") for step in trace[1:])


@pytest.mark.parametrize("fsync", ["true", "false"])
def test_human_output_names_nodes_and_faults(fsync):
    result = CliRunner().invoke(main, ["check", "primary_backup", "-p", f"fsync={fsync}"])
    if fsync == "true":
        assert result.exit_code == 0
    else:
        assert result.exit_code == 1
        assert "⚡ B power loss" in result.output or "⚡ A power loss" in result.output
        assert "✗ durability broken" in result.output
