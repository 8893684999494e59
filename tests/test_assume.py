"""Fault-model constraints (@assume, modelcheck.actors.assume).

A step whose resulting state breaks an assumption is not a step: the
search never sees such states.  Figures come from tests/restarts_spec.py,
whose hand count is in tests/test_restarts.py.
"""

import os
import textwrap

import pytest
from click.testing import CliRunner

from modelcheck.cli import main
from modelcheck.run import Options, run, verdicts

SPEC = os.path.join(os.path.dirname(__file__), "restarts_spec.py")


def figures(faults, *params, **options):
    stats = run(SPEC, ["watch=false", *params], Options(faults=faults, **options)).outcome.stats
    return stats.distinct_states, stats.kept_states


@pytest.mark.parametrize("options", [
    {}, {"symmetry": False}, {"workers": 2}, {"store": "fingerprint"},
])
def test_an_assumption_cuts_the_search_to_its_model(options):
    # "At most one restart in all" with two crashes allowed is the model
    # with one crash: the same 5 states (tests/test_restarts.py), whichever
    # way the search runs.  Without the assumption two crashes reach more.
    assert figures("crash=2", "assumed=true", **options) == figures("crash=1", **options)
    assert figures("crash=2", **options)[0] > figures("crash=1", **options)[0]


def test_a_step_out_of_the_model_is_no_step():
    # Nothing may be written: the client's write leads out of the model, so
    # it is never taken and the space is that of no writes at all.
    frozen = run(SPEC, ["watch=false", "frozen=true"], Options(faults="crash=1", writes=1))
    assert frozen.outcome.stats.distinct_states == figures("crash=1")[0] == 5
    assert figures("crash=1", writes=1)[0] > 5


def test_recovery_runs_stay_in_the_model():
    # Nothing may ever be written: the probe write can never be taken, so
    # the initial state is already stuck.  Without the assumption it is not.
    stuck = verdicts(SPEC, ["frozen=true"], Options(faults="none", unreachable=1,
                                                    only=("available",)))
    assert stuck.availability.outcome.verdict == "violation"
    assert len(stuck.availability.outcome.path) == 1
    fine = verdicts(SPEC, [], Options(faults="none", unreachable=1, only=("available",)))
    assert fine.availability.outcome.verdict == "ok"


BROKEN = """
    from modelcheck.actors import assume
    from tests.restarts_spec import Restarts

    class Spec(Restarts):
        @assume
        def bad(self, world):
            {body}
"""


@pytest.mark.parametrize("body, message", [
    ("return world.nodes['A'].nope", "assumption bad raised AttributeError"),
    ("return 1", "assumption bad returned int 1: return True or False"),
    ("return False", "the initial state breaks the assumption bad"),
])
def test_a_broken_assumption_is_named(tmp_path, body, message):
    spec = tmp_path / "broken.py"
    spec.write_text(textwrap.dedent(BROKEN).format(body=body))
    result = CliRunner().invoke(main, ["check", str(spec)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_assumption_with_the_wrong_parameters_is_refused(tmp_path):
    spec = tmp_path / "params.py"
    spec.write_text(textwrap.dedent(BROKEN).replace("def bad(self, world)", "def bad(self)")
                    .format(body="return True"))
    result = CliRunner().invoke(main, ["check", str(spec)])
    assert result.exit_code == 2
    assert "an @assume method, called as bad(self, world)" in result.output


def test_verify_symmetry_catches_an_assumption_that_reads_names(tmp_path):
    # "A never restarts" keeps B's restart but not A's: the reachable set is
    # no longer closed under renaming, and the reduced search overcounts.
    spec = tmp_path / "named.py"
    spec.write_text(textwrap.dedent(BROKEN).replace("def bad", "def a_only").format(
        body="return world.nodes['A'].restarts == 0"))
    result = CliRunner().invoke(main, ["check", str(spec), "-p", "watch=false",
                                       "--verify-symmetry"])
    assert result.exit_code == 1 and "symmetry is NOT sound" in result.output
