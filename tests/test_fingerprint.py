"""Fingerprints: equal states agree, different states differ, and the values
are the same in every process (not Python's salted hash)."""

import dataclasses
import json
import os
import subprocess
import sys
from typing import NamedTuple

import pytest

from modelcheck import SpecError
from modelcheck.actors.network import Message
from modelcheck.engine import fingerprint as fingerprint_module
from modelcheck.engine.fingerprint import fingerprint


class Point(NamedTuple):
    x: int
    y: int


@dataclasses.dataclass(frozen=True)
class Cell:
    name: str
    value: int


@dataclasses.dataclass(frozen=True)
class OtherCell:
    name: str
    value: int


def samples():
    """Values whose fingerprints the subprocess test compares."""
    names = frozenset(f"node{i}" for i in range(20))
    return [
        names, (names, 1), frozenset({("a", 1), ("b", 2)}), Point(1, 2),
        Message("A", "B", "Vote", (("term", 3), ("granted", True))),
        (None, True, -5, 2**70, "ünïcode"), Cell("x", 1), frozenset({frozenset({"p", "q"})}),
    ]


def test_equal_values_have_equal_fingerprints():
    forward = frozenset(f"n{i}" for i in range(50))
    backward = frozenset(f"n{i}" for i in reversed(range(50)))
    assert list(forward) != list(backward) or True  # iteration order may differ
    assert fingerprint((forward, 1)) == fingerprint((backward, 1))
    # As the exact store sees them (==): a NamedTuple is the tuple it equals.
    assert fingerprint(Point(1, 2)) == fingerprint((1, 2))
    assert fingerprint((True, 0)) == fingerprint((1, False))


@pytest.mark.parametrize("a, b", [
    (("ab", "c"), ("a", "bc")),
    ((1, (2,)), ((1,), 2)),
    (frozenset({1, 2}), (1, 2)),
    ("1", 1),
    (None, "n"),
    ((), frozenset()),
    ((1, 2), (2, 1)),
    (frozenset({(1, 2)}), frozenset({1, 2})),
    (Cell("x", 1), OtherCell("x", 1)),
    (Cell("x", 1), ("x", 1)),
    (Message("A", "B", "Vote", (("term", 1),)), Message("B", "A", "Vote", (("term", 1),))),
    (-1, 1),
    (1.5, "1.5"),
])
def test_different_values_have_different_fingerprints(a, b):
    assert a != b
    assert fingerprint(a) != fingerprint(b)


def test_fingerprints_are_the_same_in_another_process():
    """Another process, another hash seed: frozensets of strings iterate in
    another order there, and the fingerprints must not notice."""
    script = (
        "import json, sys; sys.path[:0] = [{root!r}, {tests!r}];"
        "from test_fingerprint import samples;"
        "from modelcheck.engine.fingerprint import fingerprint;"
        "print(json.dumps([fingerprint(v) for v in samples()]))"
    ).format(root=os.getcwd(), tests=os.path.dirname(__file__))
    results = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], env=env, check=True,
                             capture_output=True, text=True).stdout
        results.append(json.loads(out))
    assert results[0] == results[1] == [fingerprint(v) for v in samples()]


def test_memo_limit_does_not_change_values(monkeypatch):
    values = [(i, frozenset({f"x{i % 7}"}), ("shared", i % 3)) for i in range(200)]
    expected = [fingerprint(v) for v in values]
    fingerprint_module._memo.clear()
    monkeypatch.setattr(fingerprint_module, "MEMO_LIMIT", 5)
    assert [fingerprint(v) for v in values] == expected


def test_unsupported_value_is_refused():
    with pytest.raises(SpecError, match="cannot fingerprint a bytes"):
        fingerprint((1, b"raw"))
