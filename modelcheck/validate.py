"""Turning a misbehaving spec into a message its author can act on.

The explorer's hot loop does no bookkeeping for errors.  When something
raises, ``diagnose_failure`` replays the failing expansion step by step to
find out which action or invariant is to blame, then names it, the state it
ran on and the trace that reached that state.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import traceback
from collections.abc import Callable, Hashable
from typing import Any

from modelcheck.errors import SpecError
from modelcheck.model import Model

#: States checked for mutability at the start of each BFS level.
_SAMPLE_PER_LEVEL = 256
_ATOMS = (int, float, complex, str, bytes, bool, type(None), enum.Enum)
_MUTABLE = (list, dict, set, bytearray)


def find_mutable(value: Any, where: str = "state") -> str | None:
    """Describe the first part of ``value`` that is mutable or unhashable."""
    if isinstance(value, _ATOMS):  # messages too: they are ints
        return None
    if isinstance(value, _MUTABLE):
        return f"{where} is a {type(value).__name__}, which is mutable"
    if isinstance(value, tuple):
        names = getattr(value, "_fields", None) or [f"[{i}]" for i in range(len(value))]
        for name, part in zip(names, value):
            sep = "" if name.startswith("[") else "."
            if (found := find_mutable(part, f"{where}{sep}{name}")) is not None:
                return found
        return None
    if isinstance(value, frozenset):
        for part in value:
            if (found := find_mutable(part, f"an element of {where}")) is not None:
                return found
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not value.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            return f"{where} is a {type(value).__name__} dataclass that is not frozen"
        for f in dataclasses.fields(value):
            if (found := find_mutable(getattr(value, f.name), f"{where}.{f.name}")) is not None:
                return found
        return None
    if type(value).__hash__ is None:
        return f"{where} is a {type(value).__name__}, which is unhashable"
    if type(value).__hash__ is object.__hash__:
        return (
            f"{where} is a {type(value).__name__} that hashes by identity, "
            "so equal states would never be recognised as equal"
        )
    return None


def sample_is_immutable(
    model: Model, states: list[Hashable], path_to: Callable[[Hashable], list[Hashable]]
) -> None:
    """Check the first states of a level; raise SpecError for a mutable one."""
    for state in states[:_SAMPLE_PER_LEVEL]:
        if (problem := find_mutable(state)) is not None:
            path = path_to(state)
            raise SpecError(
                f"{_spec_name(model)} produced a mutable state: {problem}.\n"
                "States must be immutable: use tuples, frozensets, NamedTuples or "
                "frozen dataclasses.\n" + context(model, path)
            )


def diagnose_failure(
    model: Model, state: Hashable | None, path: list[Hashable], exc: BaseException
) -> SpecError:
    """Explain an exception raised while expanding ``state`` (None: initial)."""
    if isinstance(exc, SpecError):
        # Raised by the framework with its own diagnosis; add where it happened.
        if not path:
            return exc
        try:  # again on the path's own state, so names match the trace's
            list(model.successors(path[-1]))
        except SpecError as again:
            exc = again
        return SpecError(f"{exc}\n{context(model, path)}")
    if state is None:
        return _initial_failure(model, exc)
    try:
        steps = list(model.successors(state))
    except Exception as again:
        return SpecError(
            f"action {_blame(again, model)} raised {_describe(again, model)}\n"
            + context(model, path)
        )
    for label, nxt in steps:
        try:
            hash(nxt)
        except TypeError:
            problem = find_mutable(nxt) or "the state is unhashable"
            return SpecError(
                f"action {label} produced an unhashable state: {problem}\n"
                + context(model, path)
            )
    for label, nxt in steps:
        for name, holds in model.invariants().items():
            try:
                holds(nxt)
            except Exception as again:
                return SpecError(
                    f"invariant {name} raised {_describe(again, model)}\n"
                    f"while checking the state reached by {label}\n"
                    + context(model, path + [nxt])
                )
    return SpecError(
        f"{_spec_name(model)} raised {_describe(exc, model)} but not when the step "
        "was repeated: is the spec nondeterministic (random numbers, clocks, "
        "mutation of shared objects)?\n" + context(model, path)
    )


def _initial_failure(model: Model, exc: BaseException) -> SpecError:
    """Blame the initial state that cannot be stored, else initial_states()."""
    try:
        initial = list(model.initial_states())
    except Exception as again:
        return SpecError(f"{_spec_name(model)}.initial_states() raised {_describe(again, model)}")
    for number, state in enumerate(initial, 1):
        if (problem := find_mutable(state)) is not None:
            return SpecError(
                f"{inspect.getsourcefile(type(model))}: initial state {number} of "
                f"{_spec_name(model)}.initial_states() cannot be stored: {problem}. States "
                "must be immutable: use tuples, frozensets, NamedTuples or frozen dataclasses.")
    return SpecError(f"{_spec_name(model)}.initial_states() raised {_describe(exc, model)}")


def _spec_name(model: Model) -> str:
    return type(model).__name__


def _spec_frames(exc: BaseException, model: Model) -> list[traceback.FrameSummary]:
    spec_file = inspect.getsourcefile(type(model))
    frames = traceback.extract_tb(exc.__traceback__)
    return [f for f in frames if f.filename == spec_file] or frames[-1:]


def _blame(exc: BaseException, model: Model) -> str:
    frames = _spec_frames(exc, model)
    return frames[-1].name if frames else "?"


def _describe(exc: BaseException, model: Model) -> str:
    where = ""
    frames = _spec_frames(exc, model)
    if frames:
        f = frames[-1]
        where = f" at {f.filename}:{f.lineno} in {f.name}"
        if f.line:
            where += f"\n    {f.line}"
    return f"{type(exc).__name__}: {exc}{where}"


def context(model: Model, path: list[Hashable]) -> str:
    # Imported here: trace imports this module's helpers for its own checks.
    from modelcheck.trace import format_trace, label_path

    try:
        steps = label_path(model, path)
    except Exception:  # the spec is broken; show the raw states instead
        return "state:\n    " + repr(path[-1]) if path else ""
    return "trace that reached it:\n" + format_trace(model, steps)

