"""Fault-model constraints: what a protocol assumes of its environment.

A protocol states the preconditions of its model as methods
``(self, world) -> bool`` marked ``@assume``::

    @assume
    def at_most_f_down(self, world):
        down = [n for n in world.nodes.values() if n.status == "recovering"]
        return len(down) + len(world.stopped) <= self.f

Semantics: a step whose resulting state breaks an assumption is not a step
of the model.  States outside the model are neither explored nor reported,
so with ``crash=2`` Viewstamped Replication's search stays among the runs
its paper covers (at most f replicas down or recovering at once) instead of
reporting "violations" the paper excludes.  The initial state must satisfy
every assumption.

Because the filter sits in the protocol's own successor function, every
search honours it alike: breadth-first and fingerprint stores, workers,
simulation, availability's recovery runs and the explorer.  Under symmetry
an assumption must not depend on node names (only on what the nodes hold):
the search judges one state per orbit and trusts the rest to agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from modelcheck.actors.authoring import check_parameters, defined_at
from modelcheck.errors import SpecError

if TYPE_CHECKING:
    from modelcheck.actors.protocol import World

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__modelcheck_assumption__"


def assume(fn: F | None = None, *, name: str | None = None) -> Any:
    """Mark a protocol method ``(self, world) -> bool`` as an assumption of
    the model: states where it is false are left out of the search."""
    if fn is not None and not callable(fn):
        raise SpecError(f"@assume({fn!r}): write @assume or @assume(name=\"...\")")

    def mark(f: F) -> F:
        setattr(f, _MARK, name or f.__name__)
        return f

    return mark(fn) if fn is not None else mark


def assumptions_of(protocol: type) -> dict[str, str]:
    """Assumption name to method name, for every ``@assume`` of a protocol class."""
    found: dict[str, str] = {}
    for klass in reversed(protocol.__mro__):
        for attr, value in vars(klass).items():
            if (label := getattr(value, _MARK, None)) is not None:
                check_parameters(klass, attr, value, "an @assume method", ("world",))
                found[label] = attr
    return found


def broken(protocol: Any, assumptions: dict[str, str], world: World) -> str | None:
    """The first assumption ``world`` breaks, or None; a method that raises
    or answers other than True or False is a SpecError naming it."""
    for label, attr in assumptions.items():
        method = getattr(protocol, attr)
        holds = protocol._guard(f"assumption {label}", method, (world,))
        if not isinstance(holds, bool):
            raise SpecError(f"{defined_at(method)}: assumption {label} returned "
                            f"{type(holds).__name__} {holds!r}: return True or False")
        if not holds:
            return label
    return None
