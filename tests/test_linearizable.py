"""The incremental linearizability check (modelcheck.linearizable).

Hand-worked histories, the classic non-linearizable ones among them, and a
comparison with an independent brute-force checker (every order of the
operations that respects real time, pending operations in or out) on random
small histories.
"""

from __future__ import annotations

from itertools import combinations, permutations
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from modelcheck import linearizable
from modelcheck.linearizable import Log, Op, Register, SequentialObject

# A history is a list of events: ("invoke", op) or ("return", op, result).


def incremental(obj: SequentialObject, history: list[tuple]) -> list[bool]:
    """Whether each prefix of ``history`` is linearizable, by the checker under test."""
    lin = linearizable.start(obj)
    verdicts = []
    for event in history:
        if event[0] == "invoke":
            lin = linearizable.invoke(lin, event[1])
        elif lin.linearizable:
            lin = linearizable.respond(lin, obj, event[1], event[2])
        verdicts.append(lin.linearizable)
    return verdicts


def brute_force(obj: SequentialObject, history: list[tuple]) -> bool:
    """Herlihy and Wing's definition, checked literally: some subset of the
    pending operations together with every completed one has an order that
    respects real time (a before b when a returned before b was invoked)
    in which the object returns what the client saw."""
    invoked: dict[Op, int] = {}
    returned: dict[Op, tuple[int, Any]] = {}
    for time, event in enumerate(history):
        if event[0] == "invoke":
            invoked[event[1]] = time
        else:
            returned[event[1]] = (time, event[2])
    completed = list(returned)
    pending = [op for op in invoked if op not in returned]
    for size in range(len(pending) + 1):
        for chosen in combinations(pending, size):
            for order in permutations(completed + list(chosen)):
                if _respects_real_time(order, invoked, returned) and _explains(obj, order, returned):
                    return True
    return False


def _respects_real_time(order, invoked, returned) -> bool:
    for i, later in enumerate(order):
        for earlier in order[i + 1:]:
            # ``earlier`` is placed after ``later``: wrong if it returned before ``later`` began.
            if earlier in returned and returned[earlier][0] < invoked[later]:
                return False
    return True


def _explains(obj, order, returned) -> bool:
    state = obj.initial
    for op in order:
        state, result = obj.apply(state, op)
        if op in returned and returned[op][1] != result:
            return False
    return True


def w(n: int) -> Op:
    return Op("write", n, n)


def r(n: int) -> Op:
    return Op("read", n)


REGISTER = Register()

HAND_WORKED = [
    ("sequential write then read", [("invoke", w(1)), ("return", w(1), None),
                                    ("invoke", r(1)), ("return", r(1), 1)], True),
    ("read of the empty register", [("invoke", r(1)), ("return", r(1), None)], True),
    ("stale read after a completed write",
     [("invoke", w(1)), ("return", w(1), None), ("invoke", r(1)), ("return", r(1), None)], False),
    ("stale read after two completed writes",
     [("invoke", w(1)), ("return", w(1), None), ("invoke", w(2)), ("return", w(2), None),
      ("invoke", r(1)), ("return", r(1), 1)], False),
    ("read concurrent with a write sees the old value",
     [("invoke", w(1)), ("invoke", r(1)), ("return", r(1), None), ("return", w(1), None)], True),
    ("read concurrent with a write sees the new value",
     [("invoke", w(1)), ("invoke", r(1)), ("return", r(1), 1), ("return", w(1), None)], True),
    ("a write that never returns is seen", [("invoke", w(1)), ("invoke", r(1)),
                                            ("return", r(1), 1)], True),
    ("new/old inversion: a read sees the new value, a later read the old",
     [("invoke", w(1)), ("invoke", r(1)), ("return", r(1), 1), ("invoke", r(2)),
      ("return", r(2), None)], False),
    ("overlapping reads may see new then old",
     [("invoke", w(1)), ("invoke", r(1)), ("invoke", r(2)), ("return", r(1), 1),
      ("return", r(2), None)], True),
    ("a value nobody wrote", [("invoke", w(1)), ("invoke", r(1)), ("return", r(1), 2)], False),
    ("concurrent writes: the later-invoked overwritten by the earlier",
     [("invoke", w(1)), ("invoke", w(2)), ("return", w(2), None), ("return", w(1), None),
      ("invoke", r(1)), ("return", r(1), 1)], True),
    ("a write returns, another read sees the older write after it",
     [("invoke", w(1)), ("return", w(1), None), ("invoke", w(2)), ("invoke", r(1)),
      ("return", r(1), 2), ("invoke", r(2)), ("return", r(2), 1)], False),
]


@pytest.mark.parametrize("name, history, expected", HAND_WORKED, ids=[h[0] for h in HAND_WORKED])
def test_hand_worked_register_histories(name, history, expected):
    assert incremental(REGISTER, history)[-1] is expected
    assert brute_force(REGISTER, history) is expected


def test_log_histories():
    log = Log()
    appends_in_order = [("invoke", w(1)), ("return", w(1), 1), ("invoke", w(2)),
                        ("return", w(2), 2), ("invoke", r(1)), ("return", r(1), (1, 2))]
    assert incremental(log, appends_in_order)[-1]
    # Write 2 returned position 1 after write 1 had returned it.
    taken_twice = [("invoke", w(1)), ("return", w(1), 1), ("invoke", w(2)), ("return", w(2), 1)]
    assert incremental(log, taken_twice) == [True, True, True, False]
    # A read that lacks an acknowledged append.
    lost = [("invoke", w(1)), ("return", w(1), 1), ("invoke", r(1)), ("return", r(1), ())]
    assert not incremental(log, lost)[-1]
    # Concurrent appends may land in either order, and a read sees either prefix.
    either = [("invoke", w(1)), ("invoke", w(2)), ("invoke", r(1)), ("return", r(1), (2,)),
              ("return", w(1), 2), ("return", w(2), 1)]
    assert incremental(log, either)[-1]
    for history in (appends_in_order, taken_twice, lost, either):
        assert incremental(log, history)[-1] == brute_force(log, history)


def test_explanation_names_the_operations():
    lin = linearizable.start(REGISTER)
    for op in (w(1),):
        lin = linearizable.invoke(lin, op)
    lin = linearizable.respond(lin, REGISTER, w(1), None)
    lin = linearizable.invoke(lin, w(2))
    lin = linearizable.invoke(lin, r(1))
    text = linearizable.explain(lin, REGISTER, r(1), None, ["write 1 acknowledged"])
    assert text.startswith("read 1 returned empty, but no order of the operations explains it")
    assert "write 1 acknowledged" in text and "write 2 still in flight" in text
    assert text.endswith("read 1 could only return 1 or 2")
    assert not linearizable.respond(lin, REGISTER, r(1), None).linearizable


@st.composite
def histories(draw, obj: SequentialObject) -> list[tuple]:
    """Random well-formed histories of up to three writes and three reads;
    results drawn from a small set, so that both verdicts are common."""
    writes = draw(st.integers(0, 3))
    reads = draw(st.integers(0, 3))
    ops = [w(n) for n in range(1, writes + 1)] + [r(n) for n in range(1, reads + 1)]
    if isinstance(obj, Log):
        results = st.one_of(st.integers(1, 3), st.sampled_from([(), (1,), (1, 2), (2, 1), (2,)]))
    else:
        results = st.sampled_from([None, 1, 2, 3])
    history: list[tuple] = []
    waiting = list(ops)
    running: list[Op] = []
    while waiting or running:
        start = draw(st.booleans()) if waiting and running else bool(waiting)
        if start:
            op = waiting.pop(draw(st.integers(0, len(waiting) - 1)))
            history.append(("invoke", op))
            running.append(op)
        else:
            op = running.pop(draw(st.integers(0, len(running) - 1)))
            if draw(st.integers(0, 4)) == 0:
                continue  # never returns
            if op.kind == "write" and isinstance(obj, Register):
                result = None
            else:
                result = draw(results)
            history.append(("return", op, result))
    return history


@settings(max_examples=400, deadline=None)
@given(histories(REGISTER))
def test_register_agrees_with_brute_force(history):
    verdicts = incremental(REGISTER, history)
    for end in range(1, len(history) + 1):
        assert verdicts[end - 1] == brute_force(REGISTER, history[:end]), history[:end]


@settings(max_examples=300, deadline=None)
@given(histories(Log()))
def test_log_agrees_with_brute_force(history):
    log = Log()
    assert incremental(log, history)[-1] == brute_force(log, history) if history else True


def test_random_histories_reach_both_verdicts():
    """The comparison above is only worth something if the generator makes
    long histories of both verdicts."""
    for verdict in (True, False):
        find(histories(REGISTER), lambda h: len(h) >= 8 and brute_force(REGISTER, h) is verdict,
             settings=settings(database=None, max_examples=2000))
