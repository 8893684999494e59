"""Which states can reach a goal: a memoised depth-first search, one root at a time.

Availability asks this of every (state, unreachable set) pair, and the
pairs' recovery spaces overlap, so every state a search visits is judged
for good and the verdicts carry over to later roots:

* A search that finds a goal makes every state on Tarjan's stack good:
  each lies on the depth-first path, or reaches a state on it (Tarjan's
  invariant), and the path reaches the goal.
* A strongly connected component that is finished with no goal found
  reaches only stuck states, so all of it is stuck.  Components are found
  as in Tarjan's algorithm, so a state that loops back to the path is not
  taken for stuck while the path may still succeed.

Before components were tracked, a state visited on the way to a success
but off its path stayed unjudged: half the states visited on quorum_log
with four nodes.  (Later roots seldom came back to them there, so the
expansions hardly changed; on models whose recovery runs re-enter such
states they are no longer searched twice.)

States are known by keys (64-bit fingerprints in availability), which is
all the memos keep.

A search may be given a budget of expansions and give up when it is spent,
with no verdict for its root.  What it judged on the way stands: a state is
added to ``good`` or ``dead`` only once its verdict is final, so giving up
leaves nothing half-judged in the memos.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

State = TypeVar("State")
#: A state's keyed successors, or None when a step from it reaches a goal.
Expand = Callable[[State], "list[tuple[Hashable, State]] | None"]


class GoalSearch(Generic[State]):
    """Judges states by whether some path from them reaches a goal.

    ``expand`` gives a state's successors with their keys, or None when one
    of them is a goal or a state in ``good`` (so it may stop looking at the
    first such successor).
    """

    def __init__(self, expand: Expand) -> None:
        self.expand = expand
        #: Keys of states known to reach a goal, and of states known not to.
        self.good: set[Hashable] = set()
        self.dead: set[Hashable] = set()
        #: States expanded so far, by every search.
        self.expansions = 0

    def reaches(self, key: Hashable, root: State, budget: int | None = None) -> bool | None:
        """Whether a goal is reachable from ``root`` (whose key is ``key``);
        None when more than ``budget`` states would have to be expanded."""
        if key in self.good:
            return True
        if key in self.dead:
            return False
        first = self.expand(root)
        self.expansions += 1
        if first is None:
            self.good.add(key)
            return True
        order: dict[Hashable, int] = {}
        low: dict[Hashable, int] = {}
        component: list[Hashable] = []
        open_: set[Hashable] = set()
        path: list[tuple[Hashable, Iterator[tuple[Hashable, State]]]] = []

        def enter(key: Hashable, below: list[tuple[Hashable, State]]) -> None:
            order[key] = low[key] = len(order)
            component.append(key)
            open_.add(key)
            path.append((key, iter(below)))

        enter(key, first)
        spent = 1
        while path:
            here, below = path[-1]
            for key, nxt in below:
                if key in self.dead:
                    continue
                if key in order:
                    if key in open_:  # a way back into the open components
                        low[here] = min(low[here], order[key])
                    continue
                if budget is not None and spent >= budget:
                    return None
                spent += 1
                further = self.expand(nxt)
                self.expansions += 1
                if further is None:
                    self.good.update(component)
                    self.good.add(key)
                    return True
                enter(key, further)
                break
            else:
                path.pop()
                if path:
                    parent = path[-1][0]
                    low[parent] = min(low[parent], low[here])
                if low[here] == order[here]:  # a finished component: no way out
                    while True:
                        member = component.pop()
                        open_.discard(member)
                        self.dead.add(member)
                        if member == here:
                            break
        return False
