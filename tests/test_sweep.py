"""modelcheck sweep: one check per combination, tabulated."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelcheck import explore
from modelcheck.cli import main
from modelcheck.errors import SpecError
from modelcheck.load import load
from modelcheck.run import Options, verdicts
from modelcheck.sweep import grid, parse_sweep, sweep

LADDER = Path(__file__).resolve().parent / "ladder_spec.py"  # verdicts worked out there


@pytest.fixture
def ladder():
    return str(LADDER)


def test_grid_is_every_combination():
    assert grid({"a": ["1", "2"], "b": ["x", "y", "z"]}) == [
        {"a": a, "b": b} for a in "12" for b in "xyz"
    ]
    assert parse_sweep(["a=1,2", "b=x"]) == {"a": ["1", "2"], "b": ["x"]}
    with pytest.raises(SpecError, match="given twice"):
        parse_sweep(["a=1", "a=2"])


def test_each_cell_by_hand(ladder):
    rows = sweep(ladder, {"trap": ["false", "true"], "bug": ["false", "true"]}, [None], Options())
    cells = {(r.params["trap"], r.params["bug"]): (r.safety, r.recovery) for r in rows}
    assert cells["false", "false"][0].verdict == "ok" and cells["false", "false"][1].verdict == "ok"
    assert cells["true", "false"][0].verdict == "ok"
    # Steps as the trace numbers them, the initial state 0 being step 1:
    # 3 is three transitions in, the trace's step 4.
    assert (cells["true", "false"][1].property, cells["true", "false"][1].steps) == ("home", 4)
    # The invariant breaks first (at 2, step 3), so recovery needs its own search.
    for trap, recovers in (("false", "ok"), ("true", "violation")):
        safety, recovery = cells[trap, "true"]
        assert (safety.property, safety.steps) == ("below_two", 3)
        assert recovery.verdict == recovers


def test_cells_agree_with_separate_checks():
    rows = sweep("two_phase", {"n": ["2", "3"], "bug": ["none", "commit_early"]}, [None],
                 Options())
    spec = load("two_phase")
    for row in rows:
        alone = explore(spec.build(spec.resolve([f"{k}={v}" for k, v in row.params.items()])))
        assert row.safety.verdict == alone.verdict
        assert row.safety.property == alone.property
        assert row.safety.steps == len(alone.path)
        assert row.recovery.verdict == ""  # TwoPhase declares no @recoverable


def test_refused_combinations_are_rows(ladder):
    result = CliRunner().invoke(main, ["sweep", ladder, "-p", "height=3,4", "-p", "trap=false"])
    assert result.exit_code == 0, result.output
    assert "invalid: the ladder needs 4 rungs" in result.stdout
    assert result.stdout.count("invalid (below)") == 1


def test_json_rows(ladder):
    result = CliRunner().invoke(main, ["sweep", ladder, "-p", "trap=false,true", "--json"])
    rows = json.loads(result.stdout)
    assert [row["recovery"]["verdict"] for row in rows] == ["ok", "violation"]


@pytest.mark.parametrize("args, needle", [
    (["-p", "trapp=true"], "trapp"),
    (["-p", "trap=maybe"], "not a boolean"),
    (["-p", "trap"], "expected NAME=VALUE"),
    (["--faults", "power_loss=1"], "actor specs"),
])
def test_bad_sweeps_exit_2(ladder, args, needle):
    result = CliRunner().invoke(main, ["sweep", ladder, *args])
    assert result.exit_code == 2 and needle in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("markdown", [[], ["--markdown"]])
def test_parameters_every_row_shares_are_named_above_the_table(markdown):
    result = CliRunner().invoke(main, ["sweep", "primary_backup", "-p", "fsync=false,true",
                                       "-p", "epochs=1", "--faults", "none", *markdown])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "primary_backup with epochs=1"
    assert "epochs" not in result.stdout.splitlines()[2 if markdown else 1]


def test_fault_budgets_are_a_dimension():
    result = CliRunner().invoke(main, [
        "sweep", "primary_backup", "-p", "fsync=false,true",
        "--faults", "none", "--faults", "power_loss=1", "--markdown",
    ])
    assert result.exit_code == 0, result.output
    body = [line for line in result.stdout.splitlines() if line.startswith("| ")][1:]
    verdicts = {tuple(c.strip() for c in line.split("|")[1:3]): line.split("|")[3].strip()
                for line in body}
    assert verdicts["false", "none"] == "ok"
    assert verdicts["true", "power_loss=1"] == "ok"
    assert verdicts["false", "power_loss=1"].startswith("✗ durability")


def test_unreachable_judges_availability_per_row():
    """With --unreachable each row is the verdict pair of `check
    --unreachable`.  By hand (terms=1, one node cut off, no faults): with
    W=1 the write's only copy may sit on the cut-off node, so the others
    are stuck; with W=R=2 a reachable node holds it and commits the probe
    after it as the next term's leader."""
    values = {"terms": ["1"], "W": ["1", "2"], "R": ["2"]}
    rows = sweep("quorum_log", values, ["none", "power_loss=1"], Options(unreachable=1))
    cells = {(r.params["W"], r.faults): r for r in rows}
    assert cells["1", "none"].available.verdict == "violation"
    assert (cells["2", "none"].safety.verdict, cells["2", "none"].available.verdict) == ("ok", "ok")
    for row in rows:
        params = [f"{k}={v}" for k, v in row.params.items()]
        pair = verdicts("quorum_log", params, Options(faults=row.faults, unreachable=1))
        for judged, report in ((row.safety, pair.safety), (row.available, pair.availability)):
            assert (judged.verdict, judged.property, judged.steps) == (
                report.outcome.verdict, report.outcome.property, len(report.outcome.path))
        assert row.recovery.verdict == ""
        if pair.safety.outcome.verdict == "ok":
            # One normal search judged both halves: its states count once.
            assert row.kept_states == pair.safety.outcome.stats.kept_states


def test_unreachable_rows_in_the_table():
    result = CliRunner().invoke(main, ["sweep", "quorum_log", "-p", "terms=1", "-p", "W=1,2",
                                       "--unreachable", "1", "--faults", "none", "--markdown"])
    assert result.exit_code == 0, result.output
    header, _, *body = [line for line in result.stdout.splitlines() if line.startswith("|")]
    assert "available" in header and "recovery" not in header
    assert [line.split("|")[4].strip() for line in body][0].startswith("✗ available")
