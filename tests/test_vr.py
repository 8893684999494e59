"""Viewstamped Replication's diskless recovery (specs/vr.py).

The attack below is derived by hand from the paper's rules (Liskov and
Cowling 2012, sections 4.2 and 4.3), not taken from the checker: replayed
on the model it must be a real run (each step an enabled successor) that
never leaves the paper's failure model and ends with view 1 started
without the committed write.  With crash vectors the stale message it
relies on is refused.  Exhaustive figures are in bench/vr.py.
"""

import pytest

from modelcheck.actors import World
from modelcheck.engine import explore
from modelcheck.run import Options, build
from modelcheck.trace import label_path

#: (kind, node, message kind, sender): B times out, crashes and recovers
#: into view 0; its old STARTVIEWCHANGE makes C send DOVIEWCHANGE (empty
#: log) to B; C crashes and recovers into view 0; A commits the write with
#: C; B counts C's old DOVIEWCHANGE and STARTVIEWCHANGE and starts view 1.
ATTACK = [
    ("timeout", "B", None, None),
    ("crash", "B", None, None),
    ("deliver", "A", "Recovery", "B"),
    ("deliver", "C", "Recovery", "B"),
    ("deliver", "B", "RecoveryResponse", "A"),
    ("deliver", "B", "RecoveryResponse", "C"),
    ("deliver", "C", "StartViewChange", "B"),
    ("crash", "C", None, None),
    ("deliver", "A", "Recovery", "C"),
    ("deliver", "B", "Recovery", "C"),
    ("deliver", "C", "RecoveryResponse", "A"),
    ("deliver", "C", "RecoveryResponse", "B"),
    ("write", "A", None, None),
    ("deliver", "C", "Prepare", "A"),
    ("deliver", "A", "PrepareOk", "C"),
    ("deliver", "B", "DoViewChange", "C"),
    ("deliver", "B", "StartViewChange", "C"),
]


def vr(*params):
    return build("vr", list(params), Options())[1]


def matches(action, kind, node, message, sender):
    return (action.kind == kind and action.node == node
            and (message is None or (action.message.kind == message
                                     and action.message.src == sender)))


def walk(model, plan):
    """The states of ``plan`` from the initial state; stops where a step is
    not enabled (the last state is then the one before it)."""
    states = [next(model.initial_states())]
    for wanted in plan:
        nxt = next((s for a, s in model.successors(states[-1]) if matches(a, *wanted)), None)
        if nxt is None:
            break
        states.append(nxt)
    return states


def test_the_published_recovery_loses_a_committed_write():
    model = vr("recovery=published")
    states = walk(model, ATTACK)
    assert len(states) == 18  # every step enabled: initial state + 17
    label_path(model, states)  # a real run of the model
    holds = model.invariants()["commits_survive_view_changes"]
    assert all(holds(s) for s in states[:-1]) and not holds(states[-1])
    world = World(model, states[-1])
    b = world.nodes["B"]
    assert (b.view, b.status, b.log) == (1, "normal", ())
    assert world.acked == {(1, 1)}
    assert "1 was committed at position 1 in view 0" in model.explain(
        "commits_survive_view_changes", states[-1])
    # Never more than one replica recovering at once: inside the model.
    assert all(sum(n.status == "recovering" for n in World(model, s).nodes.values()) <= 1
               for s in states)


def test_crash_vectors_refuse_the_stale_start_view_change():
    # B recovers in two rounds (its crash count, then the published
    # recovery with its new vector); by then C knows B crashed, so B's old
    # STARTVIEWCHANGE changes nothing at C and is no step.
    model = vr("recovery=crash_vectors")
    plan = [
        ("timeout", "B", None, None),
        ("crash", "B", None, None),
        ("deliver", "A", "CrashCount", "B"),
        ("deliver", "C", "CrashCount", "B"),
        ("deliver", "B", "CrashCountReply", "A"),
        ("deliver", "B", "CrashCountReply", "C"),
        ("deliver", "A", "Recovery", "B"),
        ("deliver", "C", "Recovery", "B"),
        ("deliver", "B", "RecoveryResponse", "A"),
        ("deliver", "B", "RecoveryResponse", "C"),
    ]
    states = walk(model, plan)
    assert len(states) == len(plan) + 1
    recovered = World(model, states[-1])
    assert recovered.nodes["B"].status == "normal" and recovered.nodes["C"].cv == (0, 1, 0)
    stale = [m for m in states[-1][1] if m.kind == "StartViewChange" and m.dst == "C"]
    assert stale and stale[0].cv == (0, 0, 0)
    assert not any(matches(a, "deliver", "C", "StartViewChange", "B")
                   for a, _ in model.successors(states[-1]))
    # Without the fix the same delivery moves C into view 1.
    published = walk(vr("recovery=published"), ATTACK[:7])
    assert World(vr(), published[-1]).nodes["C"].status == "view-change"


@pytest.mark.parametrize("recovery", ["published", "crash_vectors"])
def test_no_loss_in_a_short_run(recovery):
    # The loss needs two crashes and stale messages: nothing within 10 steps.
    outcome = explore(vr(f"recovery={recovery}"), max_depth=10)
    assert outcome.verdict == "incomplete" and outcome.property is None


def test_without_a_crash_both_keep_every_write():
    # No fault: view changes alone never lose a committed write, and the
    # crash vectors change nothing but the messages' tags.
    plain = build("vr", ["recovery=published"], Options(faults="none"))[1]
    fixed = build("vr", ["recovery=crash_vectors"], Options(faults="none"))[1]
    a, b = explore(plain), explore(fixed)
    assert a.verdict == b.verdict == "ok"
    assert a.stats.distinct_states == b.stats.distinct_states


#: The attack as the explorer's path (README links it: `modelcheck explore
#: vr`, then #/spec=vr&path=...).
EXPLORER_PATH = "0.5.0.2.0.2.1.8.1.4.0.1.6.1.2.3.3"


def test_the_readme_explorer_path_is_the_attack():
    from modelcheck.explorer.session import ModelChoice, Session
    session = Session(ModelChoice("vr"), "vr")
    view = session.view([int(i) for i in EXPLORER_PATH.split(".")])
    broken = [p["name"] for p in view["properties"] if not p["holds"]]
    assert broken == ["commits_survive_view_changes"]
    assert view["labels"][-1] == "C → B  StartViewChange(view=1)"
