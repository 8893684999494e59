"""An independent judge of ``available``, for differential tests only.

It builds everything explicitly, with no symmetry, no memo and no search
order: every reachable state of the normal model (breadth first, with its
depth), every (state, unreachable set) pair, the whole graph of recovery
steps of the relaxed copy from all pairs, and then the states that reach a
goal by backward reachability.  A pair is stuck when its state does not.
Slow and memory-hungry, so only for small models.
"""

from collections import deque
from itertools import combinations


def _allowed(action, unreachable):
    # The definition in the seed's terms: no step of, or message to or from,
    # an unreachable node, and no fault but healing a partition.
    involved = action.involves()
    if involved is None:
        return action.kind == "heal"
    return not (involved & unreachable)


def judge(protocol, u):
    """(stuck pairs as {(state, unreachable)}, depth of each normal state)."""
    depth = {}
    queue = deque()
    for state in protocol.initial_states():
        if state not in depth:
            depth[state] = 0
            queue.append(state)
    while queue:
        state = queue.popleft()
        for _action, nxt in protocol.successors(state):
            if nxt not in depth:
                depth[nxt] = depth[state] + 1
                queue.append(nxt)

    relaxed = protocol.recovery()
    probe = protocol.writes + 1
    pairs = [(state, frozenset(cut)) for state in depth
             for cut in combinations(protocol.node_names, u)]
    edges = {}
    todo = deque(pairs)
    while todo:
        node = todo.popleft()
        if node in edges:
            continue
        state, unreachable = node
        edges[node] = [(nxt, unreachable) for action, nxt in relaxed.successors(state)
                       if _allowed(action, unreachable)]
        todo.extend(n for n in edges[node] if n not in edges)

    predecessors = {node: [] for node in edges}
    for node, targets in edges.items():
        for target in targets:
            predecessors[target].append(node)
    good = {node for node in edges if any(value >= probe for value, _ in node[0][3][1])}
    frontier = deque(good)
    while frontier:
        for before in predecessors[frontier.popleft()]:
            if before not in good:
                good.add(before)
                frontier.append(before)
    return {pair for pair in pairs if pair not in good}, depth


def recovery_from(protocol, state, unreachable):
    """Every state the recovery copy of ``protocol`` reaches from ``state``
    with ``unreachable`` cut off, and whether one of them has the probe
    write (one past ``protocol.writes``) acknowledged."""
    relaxed, probe = protocol.recovery(), protocol.writes + 1
    seen, todo = {state}, [state]
    while todo:
        here = todo.pop()
        if any(value >= probe for value, _ in here[3][1]):
            return seen, True
        for action, nxt in relaxed.successors(here):
            if _allowed(action, unreachable) and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen, False
