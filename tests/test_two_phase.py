import json

import pytest
from click.testing import CliRunner

from modelcheck import explore
from modelcheck.cli import main
from specs.two_phase import TwoPhase
from tests.independent_two_phase import consistent, levels

# TLC's figures for TwoPhase.tla (../shared/DESIGN.md): distinct states, depth.
TLC = {3: (288, 11), 4: (1568, 14), 5: (8832, 17), 6: (50816, 20)}


@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_counts_match_tlc(n):
    outcome = explore(TwoPhase(n))
    assert outcome.verdict == "ok"
    assert (outcome.stats.distinct_states, outcome.stats.depth) == TLC[n]


@pytest.mark.parametrize("n", [3, 4, 5])
def test_counts_match_independent_implementation(n):
    layers = levels(n)
    outcome = explore(TwoPhase(n))
    assert outcome.stats.distinct_states == sum(map(len, layers))
    assert outcome.stats.depth == len(layers)
    assert all(consistent(s) for layer in layers for s in layer)


def test_cli_json_n6():
    result = CliRunner().invoke(main, ["check", "two_phase", "-p", "n=6", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["verdict"] == "ok"
    assert report["property"] is None
    assert report["distinct_states"] == 50816
    assert report["params"] == {"n": 6, "bug": "none"}


@pytest.mark.parametrize("n", [3, 4])
def test_commit_early_counterexample_is_shortest(n):
    outcome = explore(TwoPhase(n, bug="commit_early"))
    assert outcome.verdict == "violation"
    assert outcome.property == "TCConsistent"
    # Independent check: the first BFS level holding an inconsistent state.
    layers = levels(n, commit_early=True)
    first_bad = next(i for i, layer in enumerate(layers) if not all(map(consistent, layer)))
    assert len(outcome.path) == first_bad + 1
    assert outcome.stats.depth == first_bad + 1


def test_commit_early_cli_exit_1_with_trace():
    result = CliRunner().invoke(main, ["check", "two_phase", "-p", "bug=commit_early", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["verdict"] == "violation"
    assert report["property"] == "TCConsistent"
    actions = [step["action"] for step in report["trace"]]
    assert actions[0] == "Initial state"
    assert "TMCommit" in actions
    assert [s["step"] for s in report["trace"]] == list(range(1, len(actions) + 1))
    last = report["trace"][-1]["state"]["rmState"]
    assert "committed" in last.values() and "aborted" in last.values()
