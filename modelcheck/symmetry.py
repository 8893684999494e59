"""Symmetry reduction: one representative per orbit of interchangeable nodes.

A model that declares symmetry implements ``permute(state, perm)`` (rename
element ``i`` to ``perm[i]``) and says how many interchangeable elements it
has (``symmetry_size``).  The explorer then keeps one representative per
orbit, ``model.canonical(state) -> (representative, orbit size)``.

The default ``canonical`` is exact and slow: every permutation, the least
image under a total order on values.  Specs override it with sorting (see
two_phase and the actor layer), and ``verify`` checks such an override
against this brute force and against the unreduced state space.

Summing orbit sizes over the representatives gives the exact number of
states the unreduced search would have found, so reduced runs still report
it; a trace is rebuilt as a real path of the unreduced model, in the
original names, before anything is printed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from itertools import permutations, product
from typing import Any

from modelcheck.errors import SpecError
from modelcheck.trace import ReplayError

Canonical = Callable[[Hashable], tuple[Hashable, int]]


def order_key(value: Any) -> Any:
    """A total order on state values, whatever their types or set orders."""
    if isinstance(value, (tuple, list)):
        return (4, tuple(order_key(v) for v in value))
    if isinstance(value, frozenset):
        return (5, tuple(sorted(order_key(v) for v in value)))
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if type(value) is int or type(value) is float:
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    key = getattr(value, "order", None)  # messages carry their own sort key (and are ints)
    if key is not None:
        return (6, order_key(key))
    if isinstance(value, (int, float)):
        return (2, value)
    return (7, repr(value))


def symmetry_group(model: Any) -> Iterator[tuple[int, ...]]:
    """Every permutation of the model's symmetry: each of its
    ``symmetry_classes`` permuted within itself, the rest left alone."""
    classes = model.symmetry_classes()
    members = tuple(i for c in classes for i in c)
    for arrangement in product(*(permutations(c) for c in classes)):
        yield _within(model, members, tuple(i for images in arrangement for i in images))


def brute_force_canonical(model: Any, state: Hashable) -> tuple[Hashable, int]:
    """Least image of ``state`` over all permutations, and its orbit size."""
    images = {model.permute(state, perm) for perm in symmetry_group(model)}
    return min(images, key=order_key), len(images)


def realize(model: Any, representatives: list[Hashable], canonical: Canonical) -> list[Hashable]:
    """A real path of the unreduced model through the given orbits."""
    if not representatives:
        return []
    current = next(
        (s for s in model.initial_states() if canonical(s)[0] == representatives[0]), None
    )
    if current is None:
        raise ReplayError("no initial state in the first orbit of the trace")
    path = [current]
    for number, rep in enumerate(representatives[1:], start=2):
        current = next(
            (t for _, t in model.successors(current) if canonical(t)[0] == rep), None
        )
        if current is None:
            raise ReplayError(
                f"step {number}: no successor in the orbit the reduced search took; "
                "is the model really symmetric? (try --verify-symmetry)"
            )
        path.append(current)
    return path


#: States per BFS level whose behaviour is compared with their images.
SPOT_CHECKS_PER_LEVEL = 32


def spot_check(model: Any, states: list[Hashable], invariants: list[tuple[str, Any]],
               describe_path: Callable[[Hashable], str]) -> None:
    """Refuse a model whose behaviour changes when nodes are renamed.

    For sampled states s and the two permutations that generate all others
    (swap the first two elements; rotate all), the image of s must have the
    same successors up to symmetry, and the same invariant verdicts.  A spec
    that treats one node specially (``self.name == "A"``) fails at once.
    """
    generators = []
    for members in model.symmetry_classes():
        if len(members) > 1:  # a swap and a rotation generate the class's permutations
            generators += [_within(model, members, (members[1], members[0], *members[2:])),
                           _within(model, members, (*members[1:], members[0]))]
    for state in states[:SPOT_CHECKS_PER_LEVEL]:
        try:
            problem = _asymmetry(model, state, invariants, generators)
        except Exception:  # noqa: BLE001 - the search itself will report it, with context
            continue
        if problem:
            raise SpecError(
                f"{type(model).__name__} is declared symmetric, but renaming its nodes "
                f"changes its behaviour: {problem}. A spec that treats some node "
                "specially (for example `self.name == 'A'`) must say `symmetric = False` "
                "on its Protocol class, or run with --no-symmetry.\n" + describe_path(state)
            )


def _within(model: Any, members: tuple[int, ...], images: tuple[int, ...]) -> tuple[int, ...]:
    """The permutation taking ``members`` to ``images``, fixing the rest."""
    perm = list(range(model.symmetry_size()))
    for i, p in zip(members, images):
        perm[i] = p
    return tuple(perm)


def _asymmetry(model: Any, state: Hashable, invariants: list[tuple[str, Any]],
               generators: list[tuple[int, ...]]) -> str | None:
    successors = {model.canonical(t)[0] for _, t in model.successors(state)}
    verdicts = [holds(state) for _, holds in invariants]
    for perm in generators:
        image = model.permute(state, perm)
        if model.canonical(image)[0] != model.canonical(state)[0]:
            return f"under {perm} its image has another canonical form"
        if {model.canonical(t)[0] for _, t in model.successors(image)} != successors:
            return f"under {perm} its image can take other steps"
        if [holds(image) for _, holds in invariants] != verdicts:
            return f"under {perm} an invariant judges its image differently"
    return None


@dataclass
class Verification:
    states: int  # reachable states of the unreduced model
    orbits: int  # distinct orbits among them (brute force)
    kept: int  # representatives the reduced search keeps
    represented: int  # sum of orbit sizes the reduced search reports
    mismatches: list[str]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def verify(model: Any, limit: int = 200_000) -> Verification:
    """Compare the reduced search with brute force on the whole state space."""
    if model.symmetry_size() < 2:
        raise SpecError(f"{type(model).__name__} declares no symmetry to verify")
    states = _reachable(model, lambda s: (s, 1), limit)
    orbits: dict[Hashable, int] = {}
    mismatches = []
    for state in states:
        rep, size = brute_force_canonical(model, state)
        fast_rep, fast_size = model.canonical(state)
        orbits[rep] = size
        if fast_size != size:
            mismatches.append(f"orbit size {fast_size} instead of {size} for {state!r}")
        if len(mismatches) > 5:
            break
    reps = _reachable(model, model.canonical, limit)
    fast_orbits: dict[Hashable, set[Hashable]] = {}
    for rep in reps:
        fast_orbits.setdefault(brute_force_canonical(model, rep)[0], set()).add(rep)
    for orbit, members in fast_orbits.items():
        if len(members) > 1:
            mismatches.append(f"{len(members)} representatives kept for one orbit: {orbit!r}")
            break
    represented = sum(model.canonical(rep)[1] for rep in reps)
    if set(fast_orbits) != set(orbits):
        mismatches.append("the reduced search reaches other orbits than the unreduced one")
    if represented != len(states):
        mismatches.append(
            f"orbit sizes add up to {represented}, but the unreduced model has {len(states)} states"
        )
    return Verification(len(states), len(orbits), len(reps), represented, mismatches)


def _reachable(model: Any, canonical: Canonical, limit: int) -> set[Hashable]:
    seen = {canonical(s)[0] for s in model.initial_states()}
    frontier = list(seen)
    while frontier:
        nxt = []
        for state in frontier:
            for _, t in model.successors(state):
                rep = canonical(t)[0]
                if rep not in seen:
                    seen.add(rep)
                    nxt.append(rep)
                    if len(seen) > limit:
                        raise SpecError(
                            f"--verify-symmetry: more than {limit:,} states; "
                            "verify on a smaller instance"
                        )
        frontier = nxt
    return seen
