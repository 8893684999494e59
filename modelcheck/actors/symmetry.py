"""Node symmetry for actor specs: renaming nodes, and canonical forms by sorting.

Node names are the strings "A", "B", ...; wherever one appears in a state
(a field, a message's sender, receiver or body, the isolated side), it
refers to that node, and a permutation renames it.  A spec whose behaviour
depends on *which* node it is (node A is the initial primary, node k owns
epochs k+1, k+1+n, ...) must say ``symmetric = False``.

Canonical form: sort the nodes by a profile that renaming cannot change
(each node's own state and messages, with its own name read as "self" and
every other name as "other"); nodes with equal profiles are tried in every
order and the least resulting state is kept.  Exact, and only tied nodes
cost permutations.
"""

from __future__ import annotations

from itertools import permutations, product
from math import factorial
from typing import Any

from modelcheck.actors.network import Message
from modelcheck.symmetry import order_key

SELF, OTHER = "\x00self", "\x00other"


def rename(value: Any, names: dict[str, str]) -> Any:
    """``value`` with every node name replaced through ``names``."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, tuple):
        renamed = (rename(v, names) for v in value)
        return type(value)(*renamed) if hasattr(value, "_fields") else tuple(renamed)
    if isinstance(value, frozenset):
        return frozenset(rename(v, names) for v in value)
    if isinstance(value, Message):
        return Message(names.get(value.src, value.src), names.get(value.dst, value.dst),
                       value.kind, rename(value.body, names))
    return value


def permute(state: tuple, node_names: tuple[str, ...], perm: tuple[int, ...]) -> tuple:
    nodes, bag, isolated, client, used = state
    names = {node_names[i]: node_names[perm[i]] for i in range(len(node_names))}
    moved: list[Any] = [None] * len(nodes)
    for i, node in enumerate(nodes):
        moved[perm[i]] = rename(node, names)
    messages = sorted((rename(m, names) for m in bag), key=lambda m: m.order)
    return (tuple(moved), tuple(messages), rename(isolated, names), client, used)


def canonical(state: tuple, node_names: tuple[str, ...]) -> tuple[tuple, int]:
    nodes, bag, isolated, _client, _used = state
    profiles = []
    for i, name in enumerate(node_names):
        view = {n: (SELF if n == name else OTHER) for n in node_names}
        mine = [rename(m, view) for m in bag if name in (m.src, m.dst)]
        profiles.append(order_key((rename(nodes[i], view), name in isolated,
                                   sorted(order_key(m) for m in mine))))
    order = sorted(range(len(node_names)), key=profiles.__getitem__)
    groups: list[list[int]] = []
    for i in order:
        if groups and profiles[groups[-1][0]] == profiles[i]:
            groups[-1].append(i)
        else:
            groups.append([i])
    images: dict[tuple, int] = {}
    for arrangement in product(*(permutations(g) for g in groups)):
        sequence = [i for group in arrangement for i in group]
        perm = [0] * len(sequence)
        for position, i in enumerate(sequence):
            perm[i] = position
        image = permute(state, node_names, tuple(perm))
        images[image] = images.get(image, 0) + 1
    if len(images) == 1:
        (best, automorphisms), = images.items()
    else:
        best = min(images, key=order_key)
        automorphisms = images[best]
    return best, factorial(len(node_names)) // automorphisms
