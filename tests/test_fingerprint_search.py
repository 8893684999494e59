"""--store fingerprint against --store exact: the same counts, verdicts and
counterexamples on every shipped spec at small bounds, and the memory limit.

The exact store is the reference (itself checked against TLC's counts and an
independent implementation in tests/test_two_phase.py)."""

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from modelcheck import Model, explore, invariant
from modelcheck.engine import fingerprint as fingerprint_module
from modelcheck.engine.memory import rss
from modelcheck.run import Options, run

CASES = [
    ("two_phase", ["n=4"], Options()),
    ("two_phase", ["n=4"], Options(symmetry=False)),
    ("two_phase", ["n=3", "bug=commit_early"], Options()),
    ("two_phase", ["n=3", "bug=commit_early"], Options(symmetry=False)),
    ("primary_backup", [], Options()),
    ("primary_backup", ["fsync=true"], Options()),
    ("raft", ["fsync=always", "terms=1"], Options(writes=1)),
    ("raft", ["fsync=never"], Options(writes=1)),
    ("raft", ["fsync=log_async"], Options(max_depth=9)),
    ("kafka", ["epochs=2"], Options(writes=1, only=("leader_completeness",))),
    ("kafka", ["epochs=2"], Options(writes=1, faults="none", only=("durability",))),
    ("quorum_log", ["terms=1"], Options()),
    ("quorum_log", ["fsync=log_async"], Options()),
]


def facts(report):
    data = report.to_json(timing=False)
    data.pop("store", None)
    data.pop("collision_probability", None)
    return data


@pytest.mark.parametrize("spec, params, options", CASES,
                         ids=[f"{s}-{'-'.join(p)}-{i}" for i, (s, p, _) in enumerate(CASES)])
def test_fingerprint_store_agrees_with_exact_store(spec, params, options):
    exact = run(spec, params, options)
    fingerprinted = run(spec, params, replace(options, store="fingerprint"))
    assert facts(fingerprinted) == facts(exact)
    assert fingerprinted.to_json()["collision_probability"] > 0


def test_the_shipped_verdicts_are_all_covered():
    verdicts = {run(s, p, replace(o, max_depth=o.max_depth or 40)).outcome.verdict
                for s, p, o in CASES[:4]}
    assert verdicts == {"ok", "violation"}


def test_a_fingerprint_that_ignores_part_of_the_state_is_caught(monkeypatch):
    """The mutant: sets encoded by their size alone.  Distinct TwoPhase
    states then merge, and the counts differ from the exact store's."""
    original = fingerprint_module._encode

    def careless(value):
        if isinstance(value, frozenset):
            return b"{%d}" % len(value)
        return original(value)

    fingerprint_module._memo.clear()
    monkeypatch.setattr(fingerprint_module, "_encode", careless)
    exact = run("two_phase", ["n=3"], Options(symmetry=False))
    mutant = run("two_phase", ["n=3"], Options(symmetry=False, store="fingerprint"))
    fingerprint_module._memo.clear()
    assert mutant.outcome.stats.kept_states < exact.outcome.stats.kept_states


class Endless(Model):
    """A plane without end, explored diagonal by diagonal: only a limit stops it."""

    def initial_states(self):
        yield (0, 0, "x" * 20)

    def successors(self, state):
        x, y, pad = state
        yield "right", (x + 1, y, pad)
        yield "up", (x, y + 1, pad)

    @invariant
    def fine(self, state):
        return True


@pytest.mark.parametrize("store, room", [("exact", 48 << 20), ("fingerprint", 16 << 20)])
def test_memory_limit_ends_the_search_as_incomplete(store, room):
    limit = rss() + room
    outcome = explore(Endless(), store=store, memory=limit, time_limit=120)
    assert outcome.verdict == "incomplete" and outcome.limit == "memory"
    assert outcome.stats.kept_states > 1000
    assert outcome.stats.memory <= limit


def test_memory_limit_on_the_command_line():
    result = subprocess.run(
        [sys.executable, "-m", "modelcheck", "check", "two_phase", "-p", "n=7",
         "--no-symmetry", "--memory", "100MB", "--json"],
        capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "incomplete" and data["limit"] == "memory"
    assert 0 < data["kept_states"] < 296_448  # TwoPhase n=7 has 296,448 states


@pytest.mark.parametrize("args, message", [
    (["two_phase", "--memory", "lots"], "'--memory': 'lots'"),
    (["kafka", "--store", "fingerprint", "--checkpoint", "/nonexistent/ck"],
     "--checkpoint cannot save the state graph"),
])
def test_usage_errors(args, message):
    result = subprocess.run([sys.executable, "-m", "modelcheck", "check", *args],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
