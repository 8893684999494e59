"""Network semantics: FIFO links deliver a link's oldest message only, TCP
links are reset by a restart; the bag stays the default."""

import pytest
from click.testing import CliRunner

from modelcheck import SpecError, explore
from modelcheck.actors import Message
from modelcheck.actors.faults import FaultBudget
from modelcheck.actors.links import semantics
from modelcheck.cli import main
from modelcheck.symmetry import order_key
from modelcheck.trace import jsonable, label_path, shown
from tests.roles_specs import Relay


def after_writes(model, *senders):
    """The state after the client wrote 1, 2, ... to ``senders`` in turn."""
    state = next(model.initial_states())
    for sender in senders:
        state = next(t for a, t in model.successors(state)
                     if a.kind == "write" and a.node == sender)
    return state


def moves(model, state, kind):
    return [(a, t) for a, t in model.successors(state) if a.kind == kind]


def test_fifo_relay_is_correct_and_the_bag_reorders():
    assert explore(Relay(2, network="fifo"), symmetry=True).verdict == "ok"
    bag = explore(Relay(2, network="bag"), symmetry=True)
    assert bag.verdict == "violation" and bag.property == "in_order"
    # Shortest: two writes to one sender, the second delivered first, then
    # the first: four steps after the initial state.
    assert len(bag.path) == 5
    steps = label_path(Relay(2, network="bag"), bag.path)
    assert [s.action.kind for s in steps[1:]] == ["write", "write", "deliver", "deliver"]


def test_only_the_oldest_message_of_a_link_is_deliverable():
    model = Relay(2, network="fifo")
    model.configure(writes=3)
    state = after_writes(model, "A", "A", "B")
    delivered = {(a.message.src, a.message.value) for a, _ in moves(model, state, "deliver")}
    assert delivered == {("A", 1), ("B", 3)}
    bag = Relay(2, network="bag")
    bag.configure(writes=3)
    assert {(a.message.src, a.message.value)
            for a, _ in moves(bag, after_writes(bag, "A", "A", "B"), "deliver")} == {
        ("A", 1), ("A", 2), ("B", 3)}


def values(network):
    return [(m.src, m.value) for m in network]


@pytest.mark.parametrize("network, dropped, duplicated", [
    ("bag", [[("A", 1)], [("A", 2)]], [[("A", 1), ("A", 1), ("A", 2)],
                                       [("A", 1), ("A", 2), ("A", 2)]]),
    ("fifo", [[("A", 2)]], [[("A", 1), ("A", 1), ("A", 2)]]),
    ("tcp", [[]], None),
])
def test_drop_and_duplicate_on_each_network(network, dropped, duplicated):
    model = Relay(1, network=network)
    model.configure(writes=2, faults=FaultBudget.parse("drop=1"))
    state = after_writes(model, "A", "A")
    assert sorted(values(t[1]) for _, t in moves(model, state, "drop")) == dropped
    if duplicated is None:
        with pytest.raises(SpecError, match="tcp, which never delivers a message twice"):
            model.configure(faults=FaultBudget.parse("duplicate=1"))
        return
    model.configure(faults=FaultBudget.parse("duplicate=1"))
    assert sorted(values(t[1]) for _, t in moves(model, state, "duplicate")) == duplicated


@pytest.mark.parametrize("network, left", [("bag", 2), ("fifo", 2), ("tcp", 0)])
def test_a_restart_resets_tcp_connections_only(network, left):
    model = Relay(1, network=network)
    model.configure(faults=FaultBudget.parse("crash=1"))
    state = after_writes(model, "A", "A")
    crashes = moves(model, state, "crash")
    assert sorted(a.node for a, _ in crashes) == ["A", "R"]  # either end resets the link
    assert [len(t[1]) for _, t in crashes] == [left, left]


def test_tcp_reset_loses_what_was_in_flight():
    # Over TCP a crash of the sender loses both writes in flight: the
    # receiver never gets them, and the relay stays in order.
    model = Relay(1, network="tcp")
    model.configure(faults=FaultBudget.parse("crash=1"))
    state = after_writes(model, "A", "A")
    crashed = next(t for a, t in moves(model, state, "crash") if a.node == "A")
    assert crashed[1] == () and not moves(model, crashed, "deliver")


def test_links_keep_states_canonical():
    fifo = semantics("fifo", "test")
    a1, a2 = Message("A", "R", "Put", (("value", 1),)), Message("A", "R", "Put", (("value", 2),))
    b1 = Message("B", "R", "Put", (("value", 1),))
    # Sending on different links in either order gives one network ...
    assert fifo.put(fifo.put((), [a1]), [b1]) == fifo.put(fifo.put((), [b1]), [a1])
    # ... while one link's order is kept.
    assert fifo.put((), [a2, a1]) != fifo.put((), [a1, a2])
    assert fifo.deliverable(fifo.put((), [a2, a1, b1])) == [a2, b1]


def test_unknown_network_is_refused_with_exit_2(tmp_path):
    path = tmp_path / "spec.py"
    path.write_text("from tests.roles_specs import Relay\n\n"
                    "class Spec(Relay):\n"
                    "    def __init__(self) -> None:\n"
                    "        Relay.__init__(self, 2, 'carrier pigeon')\n")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "unknown network 'carrier pigeon' (networks: bag, fifo, tcp)" in result.output


def test_a_message_is_an_int_only_to_hash_it():
    """Messages hash by content (they are ints for that), but JSON, order
    keys and comparisons treat them as messages, not numbers."""
    put = Message("A", "R", "Put", (("value", 1),))
    assert jsonable(put) == shown(put) == "Put(value=1)"
    assert jsonable((put, 3)) == ["Put(value=1)", 3]
    assert order_key(put) == (6, order_key(put.order))  # not (2, its value)
    with pytest.raises(TypeError):
        put < Message("A", "R", "Put", (("value", 2),))  # noqa: B015
    assert put == Message("A", "R", "Put", (("value", 1),))
    assert put != Message("A", "R", "Put", (("value", 2),))
