"""Every spec-writing mistake in tests/mistakes/ (each file a correct spec,
_correct.py, with one mistake) is named in the author's terms: the spec
file (and line where there is one), the class, the handler or field, and
what to write instead; exit 2, no traceback."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from modelcheck.cli import main

MISTAKES = Path(__file__).parent / "mistakes"

#: Spec file -> what the message must say.
EXPECTED = {
    "no_super": ["no_super.py", "Spec.__init__ does not call super().__init__(nodes)"],
    "no_node_class": ["no_node_class.py", "Spec names no node class", "node = YourNode"],
    "mutable_default": ["mutable_default.py", "node A", "field items is a list", "ListPeer"],
    "handler_returns": ["handler_returns.py:", "handler start of node A returned tuple",
                        "return nothing"],
    "bare_on": ["bare_on.py:", "@on above on_hello needs its argument", '@on("Kind")'],
    "timeout_parentheses": ["timeout_parentheses.py", "@timeout() takes no argument"],
    "handler_parameters": ["handler_parameters.py:", "DeafPeer.on_hello",
                           "called as on_hello(self, msg)", "defined as on_hello(self)"],
    "client_write_parameters": ["client_write_parameters.py:", "ValuelessPeer.on_client_write",
                                "on_client_write(self, value)"],
    "two_handlers": ["two_handlers.py:", "TwicePeer.greet and .greet_again",
                     "both handle Hello"],
    "committed_count": ["committed_count.py:",
                        "CountingPeer.committed() of node A returned int"],
    "unknown_node": ["unknown_node.py:", "handler start of node A", "unknown node 'Z'",
                     'self.send("Z", "Hello")'],
    "bare_step": ["bare_step.py:", "@step above elect needs its argument"],
    "step_parameters": ["step_parameters.py:", "Spec.elect is a @step",
                        "elect(self, cluster, name)"],
    "unhashable_model": ["unhashable_model.py", "initial state 1 of Spec.initial_states()",
                         "state[1] is a list"],
}


def test_every_mistake_file_is_tested():
    assert sorted(p.stem for p in MISTAKES.glob("[a-z]*.py")) == sorted(EXPECTED)


def test_the_spec_without_mistakes_passes():
    # So each message is about its file's one mistake.
    result = CliRunner().invoke(main, ["check", str(MISTAKES / "_correct.py")])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("mistake", EXPECTED)
def test_mistake_is_named_in_the_authors_terms(mistake):
    result = CliRunner().invoke(main, ["check", str(MISTAKES / f"{mistake}.py")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    # Not blamed on the checker's own code.
    assert "modelcheck/engine" not in result.output
    assert "modelcheck/actors" not in result.output
    for needle in EXPECTED[mistake]:
        assert needle in result.output, result.output


def test_same_message_on_workers():
    # The coordinator builds the model and its initial states before forking.
    for mistake in ("no_super", "mutable_default", "unhashable_model"):
        result = CliRunner().invoke(main, ["check", str(MISTAKES / f"{mistake}.py"),
                                           "--workers", "2"])
        assert result.exit_code == 2, result.output
        assert all(needle in result.output for needle in EXPECTED[mistake]), result.output
