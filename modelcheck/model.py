"""The Model interface: the lowest layer, shaped like a TLA+ specification.

A model is a set of initial states, a successor relation that labels every
step with the action that took it, named invariants, and named
recoverability properties.  States must be
immutable and hashable; the explorer relies on it to deduplicate them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from modelcheck.engine.sleep import SleepRules

State = Hashable
Predicate = Callable[[Any, Any], bool]
F = TypeVar("F", bound=Callable[..., Any])


def invariant(fn: F | None = None, *, name: str | None = None) -> Any:
    """Mark a method ``(self, state) -> bool`` as a safety property.

    The property's name in reports is ``name`` or the method's name.
    Usable bare (``@invariant``) or with arguments (``@invariant(name="X")``).
    """

    def mark(f: F) -> F:
        f.__modelcheck_invariant__ = name or f.__name__  # type: ignore[attr-defined]
        return f

    return mark(fn) if fn is not None else mark


def recoverable(fn: F | None = None, *, name: str | None = None) -> Any:
    """Mark a method ``(self, state) -> bool`` as a recoverability property.

    From every reachable state, some run must lead to a state where it holds
    (AG EF, in CTL): the system can always get back to, say, serving writes,
    however stuck it looks now.  A state from which no run gets there is a
    violation; the trace leads to the first such state.  Checked once the
    whole state space is explored, so a search that stops at a limit cannot
    judge it.
    """

    def mark(f: F) -> F:
        f.__modelcheck_recoverable__ = name or f.__name__  # type: ignore[attr-defined]
        return f

    return mark(fn) if fn is not None else mark


class Model:
    """Base class for specs.  Subclasses override the three hooks below.

    Parameters are the keyword arguments of ``__init__``; their annotations
    (``int``, ``bool``, ``str`` or a ``Literal``) tell the command line how to
    parse ``-p NAME=VALUE`` and their defaults are the shipped defaults.
    """

    #: Human-readable one-liner shown by ``modelcheck list``.
    summary: str = ""

    def initial_states(self) -> Iterable[State]:
        raise NotImplementedError

    def successors(self, state: State) -> Iterable[tuple[Any, State]]:
        """Yield ``(action_label, next_state)`` for every enabled step."""
        raise NotImplementedError

    def invariants(self) -> dict[str, Callable[[State], bool]]:
        """Named safety properties, bound to this model instance."""
        return self._marked("__modelcheck_invariant__")

    def recoverables(self) -> dict[str, Callable[[State], bool]]:
        """Named recoverability properties (``@recoverable``), bound to this instance."""
        return self._marked("__modelcheck_recoverable__")

    def _marked(self, mark: str) -> dict[str, Callable[[State], bool]]:
        found: dict[str, Callable[[State], bool]] = {}
        for klass in reversed(type(self).__mro__):
            for attr, value in vars(klass).items():
                label = getattr(value, mark, None)
                if label is not None:
                    found[label] = getattr(self, attr)
        return found

    # --- symmetry (see modelcheck.symmetry) ---------------------------------

    def symmetry_size(self) -> int:
        """How many interchangeable elements (nodes, RMs) states have; 0: none."""
        return 0

    def symmetry_classes(self) -> tuple[tuple[int, ...], ...]:
        """The sets of elements renamed only among themselves; by default one
        set of all ``symmetry_size()`` elements (every permutation)."""
        return (tuple(range(self.symmetry_size())),)

    def permute(self, state: State, perm: tuple[int, ...]) -> State:
        """``state`` with interchangeable element ``i`` renamed to ``perm[i]``."""
        raise NotImplementedError(f"{type(self).__name__} declares no symmetry")

    def canonical(self, state: State) -> tuple[State, int]:
        """The orbit's representative and the orbit's size.

        Exact by brute force over all permutations; override with something
        faster (sorting) and check it with ``--verify-symmetry``.
        """
        from modelcheck.symmetry import brute_force_canonical

        return brute_force_canonical(self, state)

    def reduction(self, symmetry: bool) -> Callable[[State], tuple[State, int]] | None:
        """How the search stores each state it finds, with the number of
        unreduced states it stands for; None: as it is.  By default the
        orbit's representative under ``symmetry``; actor specs may also
        prune stale messages first (modelcheck.actors.stale)."""
        return self.canonical if symmetry else None

    def sleep_rules(self, symmetry: bool) -> SleepRules | None:
        """Which steps commute, for sleep sets (modelcheck.engine.sleep), with
        states reduced as ``reduction(symmetry)`` does; None (the default):
        the model does not say, and the search takes every step."""
        return None

    def describe_state(self, state: State) -> dict[str, Any]:
        """Named fields of a state, for traces.  Override for nicer output."""
        fields = getattr(state, "_fields", None)
        if fields is not None:
            return dict(zip(fields, state))
        return {"state": state}

    def action_details(self, action: Any) -> dict[str, Any]:
        """Structured facts about an action label, for JSON traces."""
        return {}

    def step_notes(self, before: State, after: State) -> list[str]:
        """Extra lines under a step of a text trace (an actor spec's sends)."""
        return []

    def json_facts(self, state: State) -> dict[str, Any]:
        """Extra facts about a state for JSON traces (not shown in text)."""
        return {}

    def fields_behind(self, prop: str, state: State) -> list[str]:
        """The state fields ``prop`` looks at in ``state`` (charts highlight
        them); empty when the model cannot tell."""
        return []

    def label_fields(self) -> dict[str, tuple[str, ...]]:
        """Per message kind, the fields a chart's arrow label shows, where
        the spec overrides the rule of ``modelcheck.labels``."""
        return {}

    def explain(self, prop: str, state: State) -> str:
        """Why ``prop`` fails in ``state``: one line for the trace's ending."""
        if prop in self.recoverables():
            return f"{prop} is lost for good: no run from the last state reaches a state where it holds"
        return f"{prop} is false in the last state"
