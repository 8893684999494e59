"""Stale messages: messages in flight that their receiver ignores for good.

Protocols stamp messages with a term, ballot, epoch or view and ignore
those from an earlier one.  In a bag network such a message may sit in
flight forever, and every state with it is a copy of the state without it:
delivering it only removes it, and it enables nothing.  Raft's three-node
search kept 35 times as many states with them as without (docs/design.md,
"Stale messages").

A node class says which messages it ignores for good with ``ignores(msg)``
(modelcheck.actors.node), and the search stores each state with those
messages removed: ``prune`` is part of the reduction the engine applies to
every state it finds (``Protocol.reduction``), before symmetry.  That is a
quotient of the state graph, sound for the properties checked when

1. delivering a message ``ignores`` names changes nothing but the network
   (checked at every removal, below: a spec that claims otherwise stops
   with an error);
2. a message ``ignores`` names stays so after every step and fault
   (stable; ``check --verify-pruning`` checks it on a small instance: every
   reachable state, every successor);
3. no property reads the messages in flight (``World.network`` refuses to
   be read while pruning is on);
4. the network is a bag: on FIFO links a stale message ahead of others
   would hold them back, so pruning is refused there.

Then every run of the model is matched by a run of the pruned model
through the pruned images of its states, less the deliveries of stale
messages (which change no image), and every run of the pruned model is a
run of the model in which the stale messages stay in flight: both reach
the same states up to stale messages, so the same properties fail, and at
the same depth, since a shortest counterexample never delivers a stale
message.  (A ``drop`` or ``duplicate`` fault spent on a stale message has
no image; its run is matched by the one that keeps the fault for later.)
Traces are rebuilt as real runs, with the stale messages left in flight,
by replaying each step on the unpruned model (``symmetry.realize``).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelcheck.actors.network import Bag, Message
from modelcheck.actors.node import Node, NodeState
from modelcheck.errors import SpecError

if TYPE_CHECKING:
    from modelcheck.actors.protocol import Action, GlobalState, Protocol

_MEMO_LIMIT = 400_000


class NotIgnored(SpecError):
    """A rule named a message that its handler does not leave alone."""


def declares_rule(cls: type[Node]) -> bool:
    return cls.ignores is not Node.ignores


class StaleMessages:
    """One protocol's rule for stale messages, memoised per (receiver's state, message)."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self.ruled = frozenset(name for name, cls in zip(protocol.node_names,
                                                         protocol.node_classes)
                               if declares_rule(cls))
        self._memo: dict[tuple[NodeState, Message], bool] = {}

    def prune(self, state: GlobalState) -> GlobalState:
        """``state`` less every message in flight that its receiver ignores."""
        bag = state[1]
        if not bag:
            return state
        nodes = state[0]
        index, ruled, memo = self.protocol.node_index, self.ruled, self._memo
        stale = []
        for message in bag:
            if message.dst not in ruled:
                continue
            receiver = nodes[index[message.dst]]
            verdict = memo.get((receiver, message))
            if verdict is None:
                verdict = self._judge(state, message)
            if verdict:
                stale.append(message)
        if not stale:
            return state
        kept: Bag = tuple(m for m in bag if m not in stale)
        return (nodes, kept) + state[2:]

    def ignored(self, state: GlobalState, message: Message) -> bool:
        """Whether the receiver of ``message`` ignores it in ``state`` (unconfirmed)."""
        protocol = self.protocol
        i = protocol.node_index[message.dst]
        cls = protocol.node_classes[i]
        node = cls._thaw(message.dst, protocol, state[0][i], writable=False)
        verdict = protocol._guard(f"{cls.__name__}.ignores of node {message.dst}",
                                  node.ignores, (message,))
        if not isinstance(verdict, bool):
            raise SpecError(f"{cls.__name__}.ignores of node {message.dst} returned "
                            f"{verdict!r} for {message!r}: return True or False")
        return verdict

    def _judge(self, state: GlobalState, message: Message) -> bool:
        verdict = self.ignored(state, message)
        if verdict:
            confirm_ignored(self.protocol, state, message)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[(state[0][self.protocol.node_index[message.dst]], message)] = verdict
        return verdict


def confirm_ignored(protocol: Protocol, state: GlobalState, message: Message) -> None:
    """Refuse a rule that names a message its handler does not leave alone."""
    from modelcheck.actors.protocol import Action  # protocol imports this module

    i = protocol.node_index[message.dst]
    cls = protocol.node_classes[i]
    handler = cls._receivers[message.kind]
    nodes, bag, _isolated, client = state[:4]
    rest = protocol._links().take(bag, message)
    label = Action("deliver", message.dst, message)
    _label, after = protocol._run(label, state, i, handler, (message,), rest, client)
    changes = []
    if after[0][i] != nodes[i]:
        changes.append("change the node's state")
    if after[1] != rest:
        changes.append("send " + ", ".join(repr(m) for m in after[1] if m not in rest))
    if after[3] is not client:
        changes.append("answer the client")
    if changes:
        raise NotIgnored(
            f"{cls.__name__}.ignores says node {message.dst} ignores {message!r}, but its "
            f"handler {handler} would {' and '.join(changes)}: ignores may name only "
            "messages the handler leaves alone (or run with --no-prune)")


@dataclass
class PruningCheck:
    """What ``verify`` found."""

    #: Reachable states of the unpruned model, and those with a stale message.
    states: int = 0
    with_stale: int = 0
    #: States the pruned model keeps for them (the pruned images).
    images: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(protocol: Protocol, limit: int = 200_000) -> PruningCheck:
    """Check the rule on every reachable state of the unpruned model: each
    message it names is ignored (``confirm_ignored``) and stays named after
    every step from that state."""
    stale_messages = StaleMessages(protocol)
    check = PruningCheck()
    parents: dict[Hashable, tuple[Hashable, Action] | None] = {
        s: None for s in protocol.initial_states()}
    frontier = list(parents)
    images = set()
    while frontier and not check.problems:
        following = []
        for state in frontier:
            stale = [m for m in dict.fromkeys(state[1]) if m.dst in stale_messages.ruled
                     and stale_messages.ignored(state, m)]
            try:
                images.add(stale_messages.prune(state))
            except NotIgnored as exc:
                check.problems.append(f"{exc}\n" + _path(protocol, parents, state))
                break
            check.with_stale += bool(stale)
            for label, nxt in protocol.successors(state):
                for message in stale:
                    if message in nxt[1] and not stale_messages.ignored(nxt, message):
                        check.problems.append(
                            f"after the step {label}, node {message.dst} no longer ignores "
                            f"{message!r}\n" + _path(protocol, parents, state))
                        break
                if nxt not in parents:
                    parents[nxt] = (state, label)
                    following.append(nxt)
                    if len(parents) > limit:
                        raise SpecError(f"--verify-pruning: more than {limit:,} states; "
                                        "verify on a smaller instance")
                if check.problems:
                    break
            if check.problems:
                break
        frontier = following
    check.states = len(parents)
    check.images = len(images)
    return check


def _path(protocol: Protocol, parents: dict[Hashable, Any], state: Hashable) -> str:
    labels = []
    while parents[state] is not None:
        state, label = parents[state]
        labels.append(str(label))
    steps = "\n".join(f"  {n}. {label}" for n, label in enumerate(reversed(labels), 1))
    return "reached by:\n" + (steps or "  (the initial state)")
