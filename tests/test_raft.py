"""Raft under fsync policies: the seed's A/B/C loss, and fsync=always safe.

Each search runs once per test session (they take tens of seconds).
"""

import json
from functools import cache
from pathlib import Path

from modelcheck import explore
from modelcheck.gallery import variants
from modelcheck.load import load
from modelcheck.run import run
from modelcheck.trace import label_path

RAFT = load("raft")
GALLERY = Path(__file__).resolve().parent.parent / "counterexamples"


def model(*params):
    return RAFT.build(RAFT.resolve(list(params)))


@cache
def outcome(fsync, only):
    return explore(model(f"fsync={fsync}"), symmetry=True, only=only)


@cache
def log_async():
    """The gallery's raft-log_async search, ``modelcheck check raft -p fsync=log_async``."""
    example = next(e for spec, e in variants() if spec == "raft" and e.name == "log_async")
    return run("raft", example.params, example.options)


def kinds(path, fsync):
    steps = label_path(model(f"fsync={fsync}"), path)  # replays step by step
    return [s.action.kind for s in steps[1:]], steps


def test_unsynced_log_loses_an_acknowledged_write():
    fsync = "log_async"
    result = log_async().outcome
    assert result.verdict == "violation" and result.property == "durability"
    actions, steps = kinds(result.path, fsync)
    assert actions.count("power_loss") == 1
    # The A/B/C story: a write is acknowledged, a holder loses it, and a
    # leader elected without it puts another write at its position.
    acked_at = next(i for i, s in enumerate(steps) if s.state[3][1])
    lost_at = actions.index("power_loss") + 1
    assert acked_at < lost_at
    assert "write 1 is lost" in model(f"fsync={fsync}").explain("durability", result.path[-1])


def test_counterexample_is_minimal():
    result = log_async().outcome
    shorter = explore(model("fsync=log_async"), symmetry=True, max_depth=len(result.path) - 1)
    assert shorter.verdict == "incomplete" and shorter.limit == "max-depth"


def test_the_gallery_holds_what_this_search_finds():
    # The gallery test replays this variant's committed trace instead of
    # searching it again, so its counts and trace are checked here.
    committed = json.loads((GALLERY / "raft-log_async.json").read_text())
    assert json.loads(json.dumps(log_async().to_json(timing=False))) == committed


def test_never_fails_first_on_a_forgotten_vote():
    result = explore(model("fsync=never"), symmetry=True)
    assert result.verdict == "violation" and result.property == "election_safety"


def test_never_breaks_election_safety_on_its_own():
    result = outcome("never", ("election_safety",))
    assert result.verdict == "violation" and result.property == "election_safety"
    actions, _ = kinds(result.path, "never")
    assert actions.count("power_loss") == 1
    shorter = explore(model("fsync=never"), symmetry=True, only=("election_safety",),
                      max_depth=len(result.path) - 1)
    assert shorter.verdict != "violation"


def test_log_async_keeps_election_safety():
    # Term and vote are synced, so no server votes twice in one term.
    result = explore(model("fsync=log_async"), symmetry=True, only=("election_safety",),
                     max_depth=9)
    assert result.verdict != "violation"


def test_fsync_always_is_durable_and_safe_exhaustively():
    # With one write (117,680 states kept); with the default two (767,534
    # kept, minutes) bench/long_searches.py searches it.
    always = model("fsync=always")
    always.configure(writes=1)
    result = explore(always, symmetry=True)
    assert result.verdict == "ok"
    assert set(model().invariants()) == {"durability", "election_safety"}
