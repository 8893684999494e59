"""Short texts for sequence charts: arrow labels and boxes that fit a lane.

An arrow shows a message's kind and at most two of its fields.  Which two
is decided by a rule, so that a new spec gets readable charts without
declaring anything:

1. the fields whose value differs between the messages of that kind in the
   trace (they tell the arrows apart); if none does, the term-like and
   index-like ones below;
2. of those, term-like fields first (term, epoch, ballot, view, round,
   generation), then index-like ones (index, offset, length, commit, hw,
   position) and sequences (a log's entries), then the rest; ties keep the
   message's own field order.

Where the rule picks badly, a spec names the fields on the handler:
``@on("AppendEntries", label=("term", "entries"))``.  Every field is in the
chart's legend and on hover either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from modelcheck.errors import SpecError

TERM_WORDS = ("term", "epoch", "ballot", "view", "round", "generation")
INDEX_WORDS = ("index", "offset", "length", "commit", "hw", "position")
MAX_FIELDS = 2
ELLIPSIS = "…"


def text(value: Any) -> str:
    """A JSON trace value as the text trace prints it.  JSON traces hold
    sets and sequences as their text already; lists and objects come from
    traces saved before they did, and print as sequences and mappings."""
    if value is None:
        return "None"
    if isinstance(value, list):
        return "[" + ", ".join(text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {text(v)}" for k, v in value.items()) + "}"
    return value if isinstance(value, str) else str(value)


def arrow_fields(messages: Iterable[dict[str, Any]],
                 overrides: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """For each message kind, the fields its arrows show (see the module
    docstring); ``messages`` are a trace's messages as JSON objects."""
    values: dict[str, dict[str, set[str]]] = {}
    for msg in messages:
        kind_values = values.setdefault(msg["type"], {})
        for name, value in msg["fields"].items():
            kind_values.setdefault(name, set()).add(text(value))
    chosen = {}
    for kind, fields in values.items():
        if overrides and kind in overrides:
            unknown = [f for f in overrides[kind] if f not in fields]
            if unknown:
                raise SpecError(
                    f"@on({kind!r}, label=...) names {', '.join(map(repr, unknown))}, but "
                    f"{kind} messages have the fields {', '.join(fields)}"
                )
            chosen[kind] = list(overrides[kind])
            continue
        varying = [name for name, seen in fields.items() if len(seen) > 1]
        candidates = varying or [name for name, seen in fields.items()
                                 if _shape(name, seen) < 2]
        ranked = sorted(candidates, key=lambda name: _shape(name, fields[name]))
        chosen[kind] = ranked[:MAX_FIELDS]
    return chosen


def _shape(name: str, seen: set[str]) -> int:
    """0 term-like, 1 index-like or a sequence, 2 anything else."""
    words = name.lower().split("_")
    if any(w in TERM_WORDS for w in words):
        return 0
    if any(w in INDEX_WORDS for w in words) or all(v.startswith("[") for v in seen):
        return 1
    return 2


def arrow_label(msg: dict[str, Any], fields: list[str]) -> str:
    """``AppendEntries term=2 entries=[t2:2]``: the kind and the chosen fields."""
    shown = [f"{name}={text(msg['fields'][name])}" for name in fields]
    return " ".join([msg["type"], *shown])


def full_message(msg: dict[str, Any]) -> str:
    """The message as the text trace prints it: ``Kind(a=1, b=[…])``."""
    body = ", ".join(f"{k}={text(v)}" for k, v in msg["fields"].items())
    return f"{msg['type']}({body})"


def wrap(line: str, width: int, indent: str = "  ") -> list[str]:
    """``line`` cut at spaces into lines of at most ``width`` characters,
    continuation lines indented; a word longer than a line is abbreviated
    with an ellipsis (the full text is on hover)."""
    lines: list[str] = []
    current = ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = indent
        room = width - len(current) - (1 if current.strip() else 0)
        if len(word) > room:
            word = word[: room - 1] + ELLIPSIS
        current = f"{current} {word}" if current.strip() else current + word
    lines.append(current)
    return lines
