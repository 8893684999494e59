"""Node symmetry for actor specs: renaming nodes, and canonical forms by sorting.

Node names are the strings "A", "B", ...; wherever one appears in a state
(a field, a message's sender, receiver or body, the isolated side, the
shared state of atomic steps), it
refers to that node, and a permutation renames it.  A spec whose behaviour
depends on *which* node it is (node A is the initial primary, node k owns
epochs k+1, k+1+n, ...) must say ``symmetric = False``.  With roles
(modelcheck.actors.roles), a node is only ever renamed into a node of its
own role: the nodes of each role are sorted among themselves.

Canonical form: sort the nodes by a profile that renaming cannot change
(each node's own state, its messages and the shared state, with its own
name read as "self" and every other name as "other"); nodes with equal profiles are tried in every
order and the least resulting state is kept.  Exact, and only tied nodes
cost permutations.

Node states and messages recur across millions of global states, so their
renamings, profiles and sort keys are memoised (in bounded tables); so are,
per bag of messages, each node's sorted traffic and the bag renamed by a
permutation, since bags recur far more often than whole states.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import groupby, permutations, product
from math import factorial, prod
from typing import Any

from modelcheck.actors.links import semantics
from modelcheck.actors.network import Message
from modelcheck.symmetry import order_key

BAG = semantics("bag", "network")
SELF, OTHER = "\x00self", "\x00other"
_CACHE_LIMIT = 400_000
#: Entries of the tables keyed by whole bags, whose entries are larger.
_BAG_CACHE_LIMIT = 100_000


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


class NodeSymmetry:
    """Permutations and canonical forms of one protocol's global states."""

    def __init__(self, node_names: tuple[str, ...], roles: tuple[str, ...] | None = None
                 ) -> None:
        self.node_names = node_names
        roles = roles or ("node",) * len(node_names)
        #: Each node's role as a number, role by role in index order.
        self._role_rank = [list(dict.fromkeys(roles)).index(r) for r in roles]
        #: The indexes of each role's nodes (laid out contiguously).
        self.classes = tuple(tuple(i for i, _ in group) for _, group in
                             groupby(enumerate(self._role_rank), key=lambda pair: pair[1]))
        self._group_order = prod(factorial(len(c)) for c in self.classes)
        #: How a state holds its messages (modelcheck.actors.links): set by the protocol.
        self.arrange: Callable[[Iterable[Message]], tuple[Message, ...]] = BAG.arrange
        self.views = {
            name: {n: (SELF if n == name else OTHER) for n in node_names} for name in node_names
        }
        self._mappings: dict[tuple[int, ...], dict[str, str]] = {}
        self._renamed: dict[tuple[Any, tuple[int, ...]], Any] = {}
        self._profiles: dict[tuple[Any, str], Any] = {}
        #: A message's profiles as its sender and as its receiver see it.
        self._ends: dict[Message, tuple[Any, Any]] = {}
        #: Per bag, each node's messages as it sees them, sorted.
        self._traffic: dict[tuple[Message, ...], tuple[tuple[Any, ...], ...]] = {}
        #: A bag renamed by a permutation, and arranged.
        self._bags: dict[tuple[tuple[Message, ...], tuple[int, ...]], tuple[Message, ...]] = {}
        self._keys: dict[Any, Any] = {}
        self._identity = list(range(len(node_names)))
        self._identity_perm = tuple(self._identity)

    def _mapping(self, perm: tuple[int, ...]) -> dict[str, str]:
        names = self._mappings.get(perm)
        if names is None:
            names = {self.node_names[i]: self.node_names[p] for i, p in enumerate(perm)}
            self._mappings[perm] = names
        return names

    def _rename(self, value: Any, perm: tuple[int, ...]) -> Any:
        key = (value, perm)
        found = self._renamed.get(key)
        if found is None:
            if len(self._renamed) > _CACHE_LIMIT:
                self._renamed.clear()
            found = self._renamed[key] = rename(value, self._mapping(perm))
        return found

    def _key(self, value: Any) -> Any:
        found = self._keys.get(value)
        if found is None:
            if len(self._keys) > _CACHE_LIMIT:
                self._keys.clear()
            found = self._keys[value] = order_key(value)
        return found

    def _profile(self, value: Any, name: str) -> Any:
        """Sort key of ``value`` as node ``name`` sees it (self / other)."""
        key = (value, name)
        found = self._profiles.get(key)
        if found is None:
            if len(self._profiles) > _CACHE_LIMIT:
                self._profiles.clear()
            found = self._profiles[key] = order_key(rename(value, self.views[name]))
        return found

    def _ends_of(self, message: Message) -> tuple[Any, Any]:
        found = self._ends.get(message)
        if found is None:
            if len(self._ends) > _CACHE_LIMIT:
                self._ends.clear()
            found = self._ends[message] = (self._profile(message, message.src),
                                           self._profile(message, message.dst))
        return found

    def _traffic_of(self, bag: tuple[Message, ...]) -> tuple[tuple[Any, ...], ...]:
        found = self._traffic.get(bag)
        if found is None:
            if len(self._traffic) > _BAG_CACHE_LIMIT:
                self._traffic.clear()
            traffic: dict[str, list[Any]] = {name: [] for name in self.node_names}
            ends = self._ends_of
            for m in bag:
                as_sender, as_receiver = ends(m)
                traffic[m.src].append(as_sender)
                traffic[m.dst].append(as_receiver)
            found = self._traffic[bag] = tuple(
                tuple(sorted(traffic[name])) for name in self.node_names)
        return found

    def _moved_bag(self, bag: tuple[Message, ...], perm: tuple[int, ...]) -> tuple[Message, ...]:
        key = (bag, perm)
        found = self._bags.get(key)
        if found is None:
            if len(self._bags) > _BAG_CACHE_LIMIT:
                self._bags.clear()
            found = self._bags[key] = self.arrange(self._rename(m, perm) for m in bag)
        return found

    def permute(self, state: tuple, perm: tuple[int, ...]) -> tuple:
        nodes, bag, isolated, client, used, shared = state
        moved: list[Any] = [None] * len(nodes)
        for i, node in enumerate(nodes):
            moved[perm[i]] = self._rename(node, perm)
        messages = self._moved_bag(bag, perm)
        names = self._mapping(perm)
        return (tuple(moved), messages, frozenset(names[n] for n in isolated),
                client, used, self._rename(shared, perm))

    def image_key(self, image: tuple) -> Any:
        """A total order on images: cheap, because its parts are memoised."""
        nodes, bag, isolated, _client, _used, shared = image
        return (tuple(self._key(n) for n in nodes), tuple(m.order for m in bag),
                tuple(sorted(isolated)), self._key(shared))

    def canonical(self, state: tuple) -> tuple[tuple, int]:
        best, size, _perm = self.canonical_renaming(state)
        return best, size

    def canonical_renaming(self, state: tuple) -> tuple[tuple, int, tuple[int, ...]]:
        """The orbit's representative, the orbit's size, and a permutation
        that takes ``state`` to the representative (sleep sets rename the
        steps they carry with it: modelcheck.engine.sleep)."""
        nodes, bag, isolated, _client, _used, shared = state
        traffic = self._traffic_of(bag)
        # The role comes first: sorting never moves a node out of its role's places.
        profiles = [
            (self._role_rank[i], self._profile(nodes[i], name), name in isolated,
             traffic[i], self._profile(shared, name))
            for i, name in enumerate(self.node_names)
        ]
        order = sorted(range(len(nodes)), key=profiles.__getitem__)
        groups: list[list[int]] = []
        for i in order:
            if groups and profiles[groups[-1][0]] == profiles[i]:
                groups[-1].append(i)
            else:
                groups.append([i])
        if len(groups) == len(nodes):  # no ties: the sort decides alone
            perm = [0] * len(nodes)
            for position, i in enumerate(order):
                perm[i] = position
            if perm == self._identity:
                return state, self._group_order, self._identity_perm
            moved = tuple(perm)
            return self.permute(state, moved), self._group_order, moved
        images: dict[tuple, tuple[int, tuple[int, ...]]] = {}
        for arrangement in product(*(permutations(g) for g in groups)):
            perm = [0] * len(nodes)
            for position, i in enumerate(i for group in arrangement for i in group):
                perm[i] = position
            moved = tuple(perm)
            image = self.permute(state, moved)
            count, first = images.get(image, (0, moved))
            images[image] = (count + 1, first)
        best = min(images, key=self.image_key) if len(images) > 1 else next(iter(images))
        automorphisms, perm_to_best = images[best]
        return best, self._group_order // automorphisms, perm_to_best

    def renamed(self, value: Any, perm: tuple[int, ...]) -> Any:
        """``value`` with its nodes renamed by ``perm`` (memoised)."""
        return self._rename(value, perm)
