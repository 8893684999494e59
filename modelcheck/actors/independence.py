"""Which steps of an actor spec commute, for sleep sets (modelcheck.engine.sleep).

A handler reads and changes only its own node; an atomic ``@step`` only the
nodes it opens and the shared state.  Steps add messages to the network and
take only their own, and adding and taking commute: on a bag as on a link,
where a step takes the oldest message and others append behind it.  So two
steps commute when

* they touch different nodes,
* not both change the client (acknowledgements, reads and writes issued:
  their order is history),
* not both are atomic steps (the shared state).

A crash or power loss touches its node; dropping or duplicating a message
touches its receiver, whose state decides whether the message is stale and
pruned.  Faults spend from one budget, and a fault can leave none for
another; but spending never comes back, so a fault that has no room is
possible nowhere on that run, and sleep sets only ever move a step along a
run on which it is taken (modelcheck.engine.sleep).  Nothing commutes with a
partition or healing (they decide which deliveries are possible), with
stopping a node, with any step of a spec that declares ``@assume`` (an
assumption reads the whole state), or with a crash or a lost message over
``tcp`` links (they cut the node's connections).

Pruning stale messages keeps this true: whether a message is stale depends
on the message and its receiver, and once stale it stays so
(modelcheck.actors.stale), so the pruned state after two steps does not
depend on their order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable

    from modelcheck.actors.protocol import Action, GlobalState, Protocol
    from modelcheck.engine.sleep import Asleep, Take

_CLIENT = 3
_ON_ONE_NODE = frozenset(("deliver", "timeout", "write", "read"))
_RESTARTS_AND_LOSSES = frozenset(("crash", "power_loss", "drop", "duplicate"))


class Footprint(NamedTuple):
    """What one step reads and changes."""

    nodes: frozenset[str]
    client: bool = False
    shared: bool = False


def commute(first: Footprint, second: Footprint) -> bool:
    return (first.nodes.isdisjoint(second.nodes)
            and not (first.client and second.client)
            and not (first.shared and second.shared))


class ActorSleepRules:
    """``SleepRules`` for an actor spec; the search stores states reduced by
    ``reduce``, the spec's pruning and, with ``symmetry``, its canonical form."""

    commute = staticmethod(commute)

    def __init__(self, protocol: Protocol, symmetry: bool) -> None:
        self._protocol = protocol
        self._prune = protocol.pruner()
        self._symmetry = protocol._symmetry if symmetry else None
        self._any = not protocol._assumptions
        self._over_tcp = protocol._links().name == "tcp"

    def candidates(self, state: GlobalState) -> Iterable[tuple[Action, Take]]:
        return self._protocol.candidates(state)

    def footprint(self, before: GlobalState, label: Action, after: GlobalState
                  ) -> Footprint | None:
        if not self._any:
            return None
        kind = label.kind
        if kind in _ON_ONE_NODE:
            return Footprint(frozenset((label.node,)), _changed_client(before, after))
        if kind == "step":
            return Footprint(label.reaches | {label.node}, _changed_client(before, after),
                             shared=True)
        if kind in _RESTARTS_AND_LOSSES and not self._over_tcp:
            return Footprint(frozenset((label.node,)))
        return None

    def reduce(self, state: GlobalState) -> tuple[GlobalState, int, tuple[int, ...] | None]:
        pruned = self._prune(state)
        if self._symmetry is None:
            return pruned, 1, None
        stored, size, perm = self._symmetry.canonical_renaming(pruned)
        moved = stored is not pruned and any(i != p for i, p in enumerate(perm))
        return stored, size, perm if moved else None

    def rename(self, asleep: Asleep, perm: tuple[int, ...]) -> Asleep:
        # A power loss's label describes what is lost in words, which may
        # name nodes where renaming cannot reach: it is woken, never guessed.
        moved = self._symmetry.renamed  # type: ignore[union-attr]
        return {moved(label, perm): moved(footprint, perm)
                for label, footprint in asleep.items() if label.kind != "power_loss"}


def _changed_client(before: GlobalState, after: GlobalState) -> bool:
    return after[_CLIENT] is not before[_CLIENT] and after[_CLIENT] != before[_CLIENT]
