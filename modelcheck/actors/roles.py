"""Node roles: protocols whose nodes are not all of one class.

A protocol with one kind of node names it, ``node = Replica``, and gets
nodes A, B, C, ...  A protocol with several kinds names each role's class::

    class Chain(Protocol):
        roles = {"replica": Replica, "master": Master}

        def __init__(self, replicas: int = 3) -> None:
            super().__init__(replica=replicas, master=1)

Nodes are laid out role by role, in the order of ``roles``.  A role's
nodes take the names its class lists in ``names`` (``names = ("M",)``),
or else the next free letters A, B, C, ...  Each class has its own fields,
handlers, timeouts and hooks, and says which faults strike its nodes
(``faults``: a master backed by its own consensus service need not crash)
and whether the client writes to them (``serves_client``).  Symmetry only
ever renames nodes of the same role into each other
(modelcheck.actors.symmetry).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from modelcheck.actors.faults import FaultBudget
from modelcheck.errors import SpecError

if TYPE_CHECKING:
    from modelcheck.actors.node import Node

#: Faults of the network, not of a node: no role can opt out of them.
NETWORK_FAULTS = frozenset({"drop", "duplicate"})


def node_faults() -> frozenset[str]:
    """The fault kinds that strike one node (and a role may list)."""
    return frozenset(FaultBudget.kinds()) - NETWORK_FAULTS


class Layout(NamedTuple):
    """The nodes of a protocol: a name, a class and a role for each index."""

    names: tuple[str, ...]
    classes: tuple[type[Node], ...]
    roles: tuple[str, ...]


def single(node: type[Node], count: int) -> Layout:
    """The layout of a protocol with one node class: nodes A, B, C, ..."""
    if not 1 <= count <= 26:
        raise ValueError("nodes must be between 1 and 26")
    return Layout(tuple(string.ascii_uppercase[:count]), (node,) * count, ("node",) * count)


def lay_out(where: str, roles: Mapping[str, type[Node]], first: int,
            counts: Mapping[str, int]) -> Layout:
    """The layout of a protocol with ``roles``: ``counts`` says how many nodes
    a role has; a role not counted has ``first`` nodes if it is the first,
    else one."""
    from modelcheck.actors.node import Node

    if not roles or not isinstance(roles, Mapping):
        raise SpecError(f"{where}: roles must map role names to node classes, "
                        f"e.g. roles = {{'replica': Replica}}, not {roles!r}")
    counts = {role: counts.get(role, first if i == 0 else 1) for i, role in enumerate(roles)
              } | dict(counts)
    unknown = set(counts) - set(roles)
    if unknown:
        raise SpecError(f"{where}: node counts for unknown role(s) {sorted(unknown)} "
                        f"(roles: {', '.join(roles)})")
    explicit: set[str] = set()
    for role, cls in roles.items():
        if not (isinstance(cls, type) and issubclass(cls, Node)):
            raise SpecError(f"{where}: role {role!r} names {cls!r}, not a subclass of "
                            "modelcheck.actors.Node")
        _check_class(where, role, cls)
        explicit.update(cls.names)
    free = iter(letter for letter in string.ascii_uppercase if letter not in explicit)
    names: list[str] = []
    classes: list[type[Node]] = []
    tags: list[str] = []
    for role, cls in roles.items():
        count = counts.get(role, 0)
        if not isinstance(count, int) or count < 0:
            raise SpecError(f"{where}: role {role!r} needs a count of nodes >= 0, not {count!r}")
        if cls.names and count > len(cls.names):
            raise SpecError(f"{where}: role {role!r} has {count} nodes but "
                            f"{cls.__name__}.names lists only {len(cls.names)}")
        chosen = list(cls.names[:count]) if cls.names else [next(free, None) for _ in range(count)]
        if None in chosen:
            raise SpecError(f"{where}: more than 26 nodes")
        names += chosen
        classes += [cls] * count
        tags += [role] * count
    if not names:
        raise SpecError(f"{where}: no nodes (counts: {dict(counts)})")
    if len(set(names)) != len(names):
        raise SpecError(f"{where}: two nodes are named alike ({', '.join(names)})")
    return Layout(tuple(names), tuple(classes), tuple(tags))


def _check_class(where: str, role: str, cls: type[Node]) -> None:
    """Refuse a role class whose ``faults`` or ``names`` make no sense."""
    if cls.faults is not None:
        if isinstance(cls.faults, str) or not all(isinstance(k, str) for k in cls.faults):
            raise SpecError(f"{where}: {cls.__name__}.faults must be a tuple of fault "
                            f"kinds, not {cls.faults!r}")
        wrong = set(cls.faults) - node_faults()
        if wrong:
            raise SpecError(
                f"{where}: {cls.__name__}.faults (role {role!r}) lists {sorted(wrong)}, which "
                f"no node suffers (node faults: {', '.join(sorted(node_faults()))}; drop and "
                "duplicate are the network's)")
    if isinstance(cls.names, str) or not all(
            isinstance(n, str) and n.isalnum() for n in cls.names):
        raise SpecError(f"{where}: {cls.__name__}.names must be a tuple of names made of "
                        f"letters and digits, not {cls.names!r}")


def suffers(cls: type[Node], kind: str) -> bool:
    """Whether nodes of class ``cls`` suffer faults of ``kind``."""
    return cls.faults is None or kind in cls.faults
