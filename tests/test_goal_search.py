"""The memoised goal search under availability (modelcheck.goal_search),
against plain breadth-first reachability on small explicit graphs."""

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from modelcheck.goal_search import GoalSearch


def reachable_goal(edges: dict[int, list[int]], goals: set[int], root: int) -> bool:
    """Whether a goal lies on some path from ``root`` (``root`` itself excluded,
    as a goal counts once a step reaches it)."""
    seen, queue = {root}, deque([root])
    while queue:
        for nxt in edges.get(queue.popleft(), []):
            if nxt in goals:
                return True
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False


def searcher(edges: dict[int, list[int]], goals: set[int]) -> GoalSearch[int]:
    def expand(state: int) -> list[tuple[int, int]] | None:
        below = edges.get(state, [])
        if any(n in goals or n in search.good for n in below):
            return None
        return [(n, n) for n in below]

    search: GoalSearch[int] = GoalSearch(expand)
    return search


def test_a_state_that_loops_back_to_the_path_is_good():
    # 0 -> 1 -> 0 is tried before 0 -> 2 -> goal.  When 1 is left, its only
    # way on leads back to 0, still open: 1 must not be taken for stuck.
    edges = {0: [1, 2], 1: [0], 2: [9]}
    search = searcher(edges, {9})
    assert search.reaches(0, 0)
    assert search.reaches(1, 1)
    assert 1 in search.good


def test_a_finished_cycle_with_no_way_out_is_stuck_even_when_the_root_succeeds():
    # 0 -> 1 <-> 2 (no way out) is searched first, then 0 -> 3 -> goal.
    edges = {0: [1, 3], 1: [2], 2: [1], 3: [9]}
    search = searcher(edges, {9})
    assert search.reaches(0, 0)
    assert {1, 2} <= search.dead
    calls = []
    search.expand = lambda s: calls.append(s)  # judged already: nothing is expanded
    assert not search.reaches(1, 1) and not search.reaches(2, 2)
    assert calls == []


graphs = st.integers(2, 10).flatmap(lambda n: st.tuples(
    st.dictionaries(st.integers(0, n - 1), st.lists(st.integers(0, n - 1), max_size=3)),
    st.sets(st.integers(0, n - 1), max_size=2),
    st.permutations(range(n)),
))


@settings(max_examples=400, deadline=None)
@given(graphs)
def test_verdicts_and_memos_agree_with_plain_reachability(graph):
    edges, goals, roots = graph
    search = searcher(edges, goals)
    for root in roots:
        if root in goals:
            continue
        assert search.reaches(root, root) == reachable_goal(edges, goals, root), root
    for state in search.good:
        assert reachable_goal(edges, goals, state), state
    for state in search.dead:
        assert not reachable_goal(edges, goals, state), state


@settings(max_examples=400, deadline=None)
@given(graphs, st.lists(st.integers(1, 4), min_size=10, max_size=10))
def test_a_search_that_gives_up_leaves_only_final_verdicts(graph, budgets):
    """With a budget of expansions a search may give up (None); whatever it
    does decide, and whatever it left in the memos, is still right."""
    edges, goals, roots = graph
    search = searcher(edges, goals)
    for root, budget in zip(roots, budgets):
        if root in goals:
            continue
        verdict = search.reaches(root, root, budget)
        if verdict is not None:
            assert verdict == reachable_goal(edges, goals, root), root
    for state in search.good:
        assert reachable_goal(edges, goals, state), state
    for state in search.dead:
        assert not reachable_goal(edges, goals, state), state


def test_a_budget_of_one_expansion_decides_only_what_the_root_shows():
    edges = {0: [1], 1: [2], 2: [9], 3: [9]}
    search = searcher(edges, {9})
    assert search.reaches(0, 0, budget=1) is None
    assert search.reaches(0, 0, budget=2) is None
    assert search.reaches(0, 0, budget=3) is True
    assert search.reaches(3, 3, budget=1) is True
