"""Shrinking a counterexample found by simulation, in the manner of Hypothesis.

A random run that breaks a property is long and mostly noise.  Shrinking
tries smaller variants of it: fewer steps (single steps, chunks, and pairs
of steps some way apart dropped),
fewer faults, smaller faults (a power loss that keeps more of the unsynced
data, a process crash instead of a power loss), adjacent steps swapped
where that lets a step go, and endings replaced by a shorter one that a
breadth-first search of a few steps finds; at a local minimum, a fault
moved to another node, the two nodes' parts swapped, to start from a
trace that may shrink further.  A variant is kept when it is
better in the order (steps, faults, fault severity), so length comes
first.  Passes repeat until none improves: the result is a local minimum,
deterministic for a given input, and not necessarily the shortest trace
(BFS finds that).

Every variant is *replayed* on the model, never spliced together: from the
initial state, each wanted step must match an enabled successor.  A step
matches by its exact action label or, failing that, by a looser key (the
same kind of step on the same node, for a delivery the same message type
between the same nodes), because removing an earlier step can change what a
later message carries or what a power loss throws away.  A variant counts
only if the same property breaks; the replay stops at the first state where
it does, which can shorten the variant further.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from modelcheck import interrupt
from modelcheck.actors.protocol import Action, Protocol

Holds = Callable[[Hashable], bool]
#: How far apart two steps dropped together may be.
_PAIR_REACH = 12
#: How many steps the breadth-first search for a shorter ending takes at most.
_ENDING_DEPTH = 2


@dataclass(frozen=True)
class Trace:
    """A run: ``states[k + 1]`` is reached from ``states[k]`` by ``labels[k]``."""

    labels: tuple[Any, ...]
    states: tuple[Hashable, ...]
    #: (steps, faults, fault severity): smaller is better, lexicographically.
    cost: tuple[int, int, int]


@dataclass
class Shrunk:
    trace: Trace
    #: How many variants were replayed.
    tried: int


def loose_key(label: Any, rename: dict[str, str] | None = None) -> Hashable:
    """What a step is matched by when its exact label no longer occurs; with
    ``rename``, the key of the same step taken by renamed nodes."""
    if not isinstance(label, Action):
        return label
    named = (lambda node: rename.get(node, node)) if rename else (lambda node: node)
    m = label.message
    match label.kind:
        case "deliver" | "drop" | "duplicate":
            return label.kind, named(m.src), named(m.dst), m.kind
        case "write" | "read" | "crash" | "power_loss":
            # The write's or read's number and the power loss's losses depend on the past.
            return label.kind, named(label.node)
        case "step":
            # Notes after ": " describe the outcome, which depends on the past.
            # Atomic steps name their nodes in that text: not renamed.
            return label.kind, label.detail.split(": ", 1)[0]
    return label._replace(node=named(label.node)) if label.node else label


def cost(model: Any, labels: Sequence[Any], states: Sequence[Hashable]) -> tuple[int, int, int]:
    faults = [k for k, label in enumerate(labels) if getattr(label, "is_fault", False)]
    severity = sum(_severity(model, labels[k], states[k], states[k + 1]) for k in faults)
    return len(labels), len(faults), severity


def _severity(model: Any, label: Action, before: Hashable, after: Hashable) -> int:
    """A crash is 1; a power loss is 2 plus the unsynced versions it threw away."""
    if label.kind != "power_loss" or not isinstance(model, Protocol):
        return 1
    i = model.node_index[label.node]
    files_before, files_after = before[0][i][1], after[0][i][1]  # type: ignore[index]
    # A file is its versions, oldest first; after a power loss only the
    # surviving one is left.
    lost = sum(len(b) - 1 - b.index(a[-1]) for b, a in zip(files_before, files_after))
    return 2 + lost


class _Shrinker:
    def __init__(self, model: Any, holds: Holds) -> None:
        self.model = model
        self.holds = holds
        self.tried = 0

    def replay(self, best: Trace, keep: int, wanted: Sequence[Any],
               rename: dict[str, str] | None = None) -> Trace | None:
        """``best``'s first ``keep`` steps, then ``wanted`` replayed from there,
        its node names changed by ``rename`` if given (then matched by loose
        key only); None unless the property breaks on the way."""
        self.tried += 1
        labels = list(best.labels[:keep])
        states = list(best.states[: keep + 1])
        state = states[-1]
        for want in wanted:
            enabled = [(lbl, nxt) for lbl, nxt in self.model.successors(state) if nxt is not state]
            chosen = None if rename else next((pair for pair in enabled if pair[0] == want), None)
            if chosen is None:
                key = loose_key(want, rename)
                chosen = next((pair for pair in enabled if loose_key(pair[0]) == key), None)
            if chosen is None:
                return None
            labels.append(chosen[0])
            states.append(state := chosen[1])
            if not self.holds(state):
                return Trace(tuple(labels), tuple(states), cost(self.model, labels, states))
        return None

    def improve(self, best: Trace, keep: int, wanted: Sequence[Any]) -> Trace | None:
        found = self.replay(best, keep, wanted)
        return found if found is not None and found.cost < best.cost else None

    def drop_chunks(self, best: Trace) -> Trace:
        size = 1
        while size * 2 <= len(best.labels):
            size *= 2
        while size >= 1:
            start = len(best.labels) - size
            while start >= 0:
                suffix = best.labels[start + size:]
                better = self.improve(best, start, suffix)
                if better is not None:
                    best = better
                start = min(start - 1, len(best.labels) - size)
            size //= 2
        return best

    def drop_pairs(self, best: Trace) -> Trace:
        """Drop two steps some way apart, such as a fault and the recovery
        from it, which neither goes alone nor with what lies between."""
        first = len(best.labels) - 3
        while first >= 0:
            for second in range(first + 2, min(first + _PAIR_REACH, len(best.labels))):
                wanted = best.labels[first + 1:second] + best.labels[second + 1:]
                better = self.improve(best, first, wanted)
                if better is not None:
                    best = better
                    break
            first = min(first - 1, len(best.labels) - 3)
        return best

    def smaller_faults(self, best: Trace) -> Trace:
        k = 0
        while k < len(best.labels):
            label = best.labels[k]
            if getattr(label, "is_fault", False):
                for alternative in self._alternatives(best.states[k], label):
                    better = self.improve(best, k, (alternative, *best.labels[k + 1:]))
                    if better is not None:
                        best = better
                        break
            k += 1
        return best

    def move_faults(self, best: Trace) -> Trace:
        """The same fault on another node, the two nodes' parts swapped from
        there on, then the other passes once over the result.  Alone it
        shortens nothing; it reaches traces that do shorten (five-node Raft:
        the power loss moved from the old leader to a follower lets the new
        leader's first AppendEntries truncate the old leader's committed
        entry, where the run needed a new majority: 21 transitions to 18)."""
        for k, fault in enumerate(best.labels):
            if not (getattr(fault, "is_fault", False) and getattr(fault, "node", None)):
                continue
            for other in getattr(self.model, "node_names", ()):
                if other == fault.node:
                    continue
                swap = {fault.node: other, other: fault.node}
                moved = self.replay(best, k, best.labels[k:], rename=swap)
                if moved is None:
                    continue
                moved = self.shorter_endings(self.drop_chunks(moved))
                if moved.cost < best.cost:
                    return self.move_faults(moved)
        return best

    def _alternatives(self, state: Hashable, fault: Any) -> Iterator[Any]:
        """Other faults on the same node here: a crash or another power loss."""
        for label, _nxt in self.model.successors(state):
            if (label != fault and getattr(label, "kind", None) in ("crash", "power_loss")
                    and label.node == fault.node):
                yield label

    def swap_adjacent(self, best: Trace) -> Trace:
        """Swap steps k and k+1 where that lets a nearby step go."""
        k = 0
        while k + 1 < len(best.labels):
            rest = best.labels[k + 2:]
            swapped = self.replay(best, k, (best.labels[k + 1], best.labels[k], *rest))
            if swapped is not None:
                if swapped.cost < best.cost:
                    best = swapped
                    continue
                for gone in range(max(0, k - 2), min(len(swapped.labels), k + 4)):
                    better = self.improve(best, min(k, gone),
                                          swapped.labels[min(k, gone):gone]
                                          + swapped.labels[gone + 1:])
                    if better is not None:
                        best = better
                        break
            k += 1
        return best

    def shorter_endings(self, best: Trace) -> Trace:
        """From each state of the trace, the shortest way on to a state that
        breaks the property, where it is shorter than the rest of the trace:
        a breadth-first search of up to ``_ENDING_DEPTH`` steps.  It finds
        endings made of other steps than the trace's, which dropping and
        swapping cannot (on Kafka 3.4, a write to the leader already there
        where the run waited for a later leader: 16 transitions to 12)."""
        start = 0
        while start < len(best.labels) - 1:
            self.tried += 1
            ending = self._ending(best.states[start],
                                  min(_ENDING_DEPTH, len(best.labels) - start - 1))
            if ending is not None:
                labels = best.labels[:start] + tuple(label for label, _state in ending)
                states = best.states[:start + 1] + tuple(state for _label, state in ending)
                best = Trace(labels, states, cost(self.model, labels, states))
            start += 1
        return best

    def _ending(self, state: Hashable, depth: int) -> tuple[tuple[Any, Hashable], ...] | None:
        """The steps of a shortest path of at most ``depth`` steps from
        ``state`` to a state that breaks the property, or None."""
        level: list[tuple[Hashable, tuple[tuple[Any, Hashable], ...]]] = [(state, ())]
        seen = {state}
        for _ in range(depth):
            deeper = []
            for here, path in level:
                for label, nxt in self.model.successors(here):
                    if nxt in seen:
                        continue
                    seen.add(nxt)
                    steps = (*path, (label, nxt))
                    if not self.holds(nxt):
                        return steps
                    deeper.append((nxt, steps))
            level = deeper
        return None


def shrink(model: Any, holds: Holds, labels: Sequence[Any], states: Sequence[Hashable]) -> Shrunk:
    """Shrink the run ``labels``/``states`` (which breaks ``holds`` in its last
    state) until no pass improves it."""
    shrinker = _Shrinker(model, holds)
    best = Trace(tuple(labels), tuple(states), cost(model, labels, states))
    while True:
        before = best.cost
        best = shrinker.drop_chunks(best)
        best = shrinker.drop_pairs(best)
        best = shrinker.smaller_faults(best)
        best = shrinker.swap_adjacent(best)
        best = shrinker.shorter_endings(best)
        if best.cost == before:
            best = shrinker.move_faults(best)
        # Interrupted: what was found so far is still a counterexample.
        if best.cost == before or interrupt.requested():
            return Shrunk(best, shrinker.tried)
