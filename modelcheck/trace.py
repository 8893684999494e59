"""Counterexample traces: rebuilding labels by replay, text and JSON forms.

The explorer keeps only parent links.  ``label_path`` replays the path on the
model: each step must be an actual successor of the step before (and the
first an initial state), which re-validates every counterexample before it
is shown.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from modelcheck.model import Model

INITIAL = "Initial state"


class ReplayError(AssertionError):
    """A path did not replay on the model: a bug in the checker, not the spec."""


@dataclass(frozen=True)
class Step:
    number: int
    action: Any
    state: Hashable


def label_path(model: Model, path: list[Hashable]) -> list[Step]:
    """Attach the action label of each step, proving the path is real."""
    if not path:
        return []
    if path[0] not in set(model.initial_states()):
        raise ReplayError("trace does not start in an initial state")
    steps = [Step(1, INITIAL, path[0])]
    for number, (before, after) in enumerate(pairwise(path), start=2):
        label = next((lbl for lbl, nxt in model.successors(before) if nxt == after), None)
        if label is None:
            raise ReplayError(f"step {number} of the trace is not a transition of the model")
        steps.append(Step(number, label, after))
    return steps


def show(value: Any) -> str:
    """Compact, TLA+-flavoured rendering of a state component.

    One notation everywhere (text traces, JSON traces, charts): ``{…}`` for
    sets and mappings, ``[…]`` for sequences such as logs.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (frozenset, set)):
        return "{" + ", ".join(sorted(show(v) for v in value)) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return repr(value) if not isinstance(value, tuple) else str(value)


def format_trace(model: Model, steps: list[Step]) -> str:
    """One numbered line per step; below it, the fields that step changed."""
    lines: list[str] = []
    width = len(str(len(steps)))
    previous: dict[str, Any] = {}
    for step, before in zip(steps, [None, *steps]):
        lines.append(f"{step.number:>{width}}. {step.action}")
        if before is not None:
            notes = model.step_notes(before.state, step.state)
            lines.extend(f"{'':>{width}}    {note}" for note in notes)
        fields = model.describe_state(step.state)
        for name, value in fields.items():
            before = previous.get(name)
            if before == value:
                continue
            if isinstance(value, dict):
                changed = {k: v for k, v in value.items() if not isinstance(before, dict)
                           or before.get(k) != v}
                shown = "  ".join(f"{k}={show(v)}" for k, v in changed.items())
                lines.append(f"{'':>{width}}    {name}: {shown}")
            else:
                lines.append(f"{'':>{width}}    {name} = {show(value)}")
        previous = fields
    return "\n".join(lines)


def _is_plain(value: Any) -> bool:
    """Whether JSON holds ``value`` as it is: a string, number, boolean or None,
    but not a message, which is an int (``actors.network``) shown as text."""
    from modelcheck.actors.network import Message  # it imports this module

    return value is None or (isinstance(value, (str, int, float, bool))
                             and not isinstance(value, Message))


def jsonable(value: Any) -> Any:
    """A JSON-ready copy: tuples become lists, sets sorted lists, records dicts."""
    if _is_plain(value):
        return value
    fields = getattr(value, "_fields", None)
    if fields is not None:
        if "__repr__" in vars(type(value)):  # a record with its own short form
            return repr(value)
        return {name: jsonable(v) for name, v in zip(fields, value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, frozenset):
        return sorted((jsonable(v) for v in value), key=repr)
    return str(value)


def shown(value: Any) -> Any:
    """A described state for JSON: mappings of names stay objects, numbers,
    strings, booleans and None stay themselves, anything else becomes its
    ``show`` text, so that JSON readers (charts, the explorer) print sets and
    sequences exactly as text traces do instead of guessing from a list."""
    if _is_plain(value):
        return value
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: shown(v) for k, v in value.items()}
    return show(value)


def follow_json_trace(
    model: Model, trace: list[Any], initials: list[Hashable] | None = None,
    name: str = "the model",
) -> tuple[int, list[int], list[Hashable]]:
    """Where a JSON trace (``check --json``'s ``trace``) leads on ``model``:
    the index of its initial state among ``initials`` (default: the model's),
    per later step the index of the successor it takes, and the states.

    A step is the enabled action with the trace's label that leads to the
    trace's state as JSON traces describe it.  Raises ``ReplayError`` naming
    the first step that does not replay (on ``name``).
    """
    if initials is None:
        initials = list(dict.fromkeys(model.initial_states()))

    def described(state: Hashable) -> Any:
        return shown(model.describe_state(state))

    def wanted(step: Any, number: int) -> tuple[str, Any]:
        if not isinstance(step, dict) or "state" not in step:
            raise ReplayError(f"step {number} of the trace has no state")
        return str(step.get("action", "")), step["state"]

    _label, first = wanted(trace[0], 1)
    start = next((i for i, s in enumerate(initials) if described(s) == first), None)
    if start is None:
        raise ReplayError(f"the trace does not start in an initial state of {name}")
    choices: list[int] = []
    states = [initials[start]]
    for number, step in enumerate(trace[1:], start=2):
        label, expected = wanted(step, number)
        options = list(model.successors(states[-1]))
        chosen = next((i for i, (action, after) in enumerate(options)
                       if str(action) == label and described(after) == expected), None)
        if chosen is None:
            raise ReplayError(f"step {number} of the trace ({label}) is not a step of {name}")
        choices.append(chosen)
        states.append(options[chosen][1])
    return start, choices, states


def trace_to_json(model: Model, steps: list[Step]) -> list[dict[str, Any]]:
    return [
        {
            "step": step.number,
            "action": str(step.action),
            **(model.action_details(step.action) if step.number > 1 else {}),
            "state": shown(model.describe_state(step.state)),
            **jsonable(model.json_facts(step.state)),
        }
        for step in steps
    ]


def chart_facts(model: Model, prop: str | None, path: list[Hashable]) -> dict[str, Any]:
    """What a chart of the trace needs beyond the steps: the fields behind the
    broken property (highlighted) and the spec's arrow-label overrides."""
    facts: dict[str, Any] = {}
    if prop is not None and path:
        facts["property_fields"] = model.fields_behind(prop, path[-1])
    if labels := model.label_fields():
        facts["label_fields"] = {kind: list(fields) for kind, fields in labels.items()}
    return facts
