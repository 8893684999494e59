"""Bad input at the command line: a message, exit status 2, no traceback."""

import json
import textwrap

import pytest
from click.testing import CliRunner

from modelcheck.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def write(tmp_path, body, name="spec.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


def assert_clean_error(result, *needles):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output


def test_list_names_shipped_specs_and_parameters():
    result = run("list")
    assert result.exit_code == 0
    assert "two_phase" in result.output and "n=3" in result.output


def test_missing_file(tmp_path):
    assert_clean_error(run("check", str(tmp_path / "nope.py")), "does not exist")


def test_a_directory_named_like_a_shipped_spec_does_not_hide_it(tmp_path, monkeypatch):
    (tmp_path / "two_phase").mkdir()
    monkeypatch.chdir(tmp_path)
    result = run("check", "two_phase", "-p", "n=2")
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


def test_unknown_shipped_name():
    assert_clean_error(run("check", "no_such_spec"), "no spec 'no_such_spec'", "two_phase")


def test_file_without_model(tmp_path):
    assert_clean_error(run("check", write(tmp_path, "x = 1\n")), "defines no model")


def test_syntax_error(tmp_path):
    assert_clean_error(run("check", write(tmp_path, "def (:\n")), "syntax error")


def test_unknown_parameter():
    assert_clean_error(run("check", "two_phase", "-p", "rms=3"), "no parameter 'rms'", "n, bug")


def test_parameter_given_twice_with_different_values():
    assert_clean_error(run("check", "two_phase", "-p", "n=2", "-p", "n=4"),
                       "parameter n given twice", "'n=2' and 'n=4'")


def test_wrong_type_and_bad_choice():
    assert_clean_error(run("check", "two_phase", "-p", "n=three"), "not an integer")
    assert_clean_error(run("check", "two_phase", "-p", "bug=maybe"), "not one of")
    assert_clean_error(run("check", "two_phase", "-p", "n"), "expected NAME=VALUE")


RAISING = """
    from modelcheck import Model, invariant

    class Spec(Model):
        def initial_states(self):
            yield 0

        def successors(self, x):
            if x < 2:
                yield "Tick", x + 1
            else:
                yield from self.divide(x)

        def divide(self, x):
            yield "Divide", 1 // (x - x)
"""


def test_raising_action_names_action_state_and_trace(tmp_path):
    result = run("check", write(tmp_path, RAISING))
    assert_clean_error(result, "action divide raised ZeroDivisionError", "3. Tick")


def test_debug_shows_traceback(tmp_path):
    result = run("check", write(tmp_path, RAISING), "--debug")
    assert result.exit_code == 2
    assert "Traceback" in result.output


UNHASHABLE = """
    from modelcheck import Model

    class Spec(Model):
        def initial_states(self):
            yield (0, [])

        def successors(self, s):
            return []
"""


def test_unhashable_state(tmp_path):
    assert_clean_error(run("check", write(tmp_path, UNHASHABLE)), "unhashable")


def test_limits_give_exit_3_and_never_ok():
    result = run("check", "two_phase", "-p", "n=5", "--max-states", "100", "--json")
    assert result.exit_code == 3
    report = json.loads(result.output)
    assert report["verdict"] == "incomplete" and report["limit"] == "max-states"


@pytest.mark.parametrize("flag", ["--max-depth", "--max-states", "--time-limit"])
def test_limits_must_be_positive(flag):
    assert run("check", "two_phase", flag, "0").exit_code == 2


def test_only_checks_named_properties(tmp_path):
    spec = write(tmp_path, """
        from modelcheck import Model, invariant

        class Spec(Model):
            def initial_states(self):
                yield 0

            def successors(self, x):
                if x < 5:
                    yield "Inc", x + 1

            @invariant
            def below_three(self, x):
                return x < 3

            @invariant
            def below_five(self, x):
                return x < 5
    """)
    both = json.loads(run("check", spec, "--json").output)
    assert both["property"] == "below_three" and len(both["trace"]) == 4
    alone = json.loads(run("check", spec, "--json", "--only", "below_five").output)
    assert alone["property"] == "below_five" and len(alone["trace"]) == 6
    assert_clean_error(run("check", spec, "--only", "nope"), "no property 'nope'", "below_five")


@pytest.mark.parametrize("verify", ["--verify-symmetry", "--verify-pruning"])
def test_verifying_refuses_json_rather_than_printing_text(verify):
    result = run("check", "raft", verify, "--json")
    assert result.exit_code == 2
    assert f"{verify} prints a text verdict: drop --json" in result.output
    assert result.stdout == ""


def test_memory_size_error_names_the_option_once():
    result = run("check", "raft", "--memory", "4XB")
    assert result.exit_code == 2
    assert result.output.count("--memory") == 1 and "'4XB'" in result.output
