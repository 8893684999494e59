"""Design-space search: check every combination of parameter values and fault
budgets, and tabulate which variants are safe and which stay recoverable (or,
with ``Options.unreachable``, available with that many nodes unreachable).

A combination is checked once with all its properties.  When an invariant
breaks first, the search stopped early and says nothing about recoverability,
so the recoverability properties get a second search of their own.  A
combination the spec refuses (its ``__init__`` raises) is a row of the table,
not an error: a sweep's grid often has corners that make no sense.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from modelcheck import interrupt
from modelcheck.errors import SpecError
from modelcheck.load import load
from modelcheck.report import Report
from modelcheck.run import Options, run, verdicts


@dataclass(frozen=True)
class Verdict:
    """One property group's result in one combination."""

    verdict: str  # ok, violation, incomplete, or "" when not checked
    property: str | None = None
    steps: int = 0
    limit: str | None = None

    def text(self) -> str:
        match self.verdict:
            case "ok":
                return "ok"
            case "violation":
                return f"✗ {self.property}, {self.steps} step{'' if self.steps == 1 else 's'}"
            case "incomplete" if self.limit == interrupt.LIMIT:
                return "? interrupted"
            case "incomplete":
                return f"? {self.limit} reached"
        return "—"

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict or None, "property": self.property,
                "steps": self.steps or None, "limit": self.limit}


@dataclass
class Row:
    params: dict[str, str]
    faults: str | None
    #: Why the spec refused this combination, if it did.
    invalid: str | None = None
    #: False for the combinations an interruption left unchecked.
    started: bool = True
    safety: Verdict = Verdict("")
    recovery: Verdict = Verdict("")
    #: ``available`` with ``Options.unreachable`` nodes unreachable (sweeps with it only).
    available: Verdict = Verdict("")
    kept_states: int = 0
    seconds: float = 0.0
    reports: list[Report] = field(default_factory=list, repr=False)


def grid(values: dict[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of the swept values, first parameter slowest."""
    names = list(values)
    return [dict(zip(names, combo)) for combo in itertools.product(*values.values())]


def parse_sweep(assignments: Sequence[str]) -> dict[str, list[str]]:
    """``NAME=V1,V2`` (repeatable) as {NAME: [V1, V2]}."""
    values: dict[str, list[str]] = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep or not name or not text:
            raise SpecError(f"parameter {assignment!r}: expected NAME=VALUE or NAME=V1,V2,...")
        if name in values:
            raise SpecError(f"parameter {name} is given twice: list its values once, V1,V2")
        values[name] = [v.strip() for v in text.split(",")]
    return values


def sweep(
    spec: str, values: dict[str, list[str]], budgets: Sequence[str | None], options: Options,
    on_row: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Check ``spec`` at every point of ``values`` x ``budgets``.

    A stop request (``modelcheck.interrupt``) ends the check under way as
    interrupted; the combinations after it are rows not started."""
    loaded = load(spec)
    for name, choices in values.items():  # a typo is a usage error, not a row
        for choice in choices:
            loaded.resolve([f"{name}={choice}"])
    rows = []
    for point in grid(values):
        for budget in budgets:
            if interrupt.requested():
                rows.append(Row(point, budget, started=False))
                continue
            row = _check(spec, point, budget, options)
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def _check(spec: str, point: dict[str, str], budget: str | None, options: Options) -> Row:
    row = Row(point, budget)
    params = [f"{k}={v}" for k, v in point.items()]
    loaded = load(spec)
    try:
        loaded.build(loaded.resolve(params))
    except SpecError as exc:
        row.invalid = str(exc.__cause__ or exc)
        return row
    options = replace(options, faults=budget or options.faults)
    if options.unreachable is not None:
        return _judge_pair(spec, params, options, row)
    first = run(spec, params, options)
    row.reports.append(first)
    row.faults = first.params.get("faults", budget)  # the budget used, defaults resolved
    recoverables = list(first.model.recoverables())
    selected = set(options.only) if options.only else None
    invariants = [p for p in first.model.invariants() if selected is None or p in selected]
    recovering = [p for p in recoverables if selected is None or p in selected]
    outcome = first.outcome
    broke = outcome.verdict == "violation" and outcome.property not in recoverables
    if invariants:
        row.safety = _verdict(first) if broke or outcome.verdict != "violation" else Verdict("ok")
    if recovering:
        if broke and interrupt.requested():
            row.recovery = Verdict("incomplete", limit=interrupt.LIMIT)
        elif broke:
            again = run(spec, params, replace(options, only=tuple(recovering)))
            row.reports.append(again)
            row.recovery = _verdict(again)
        elif outcome.verdict == "violation":
            row.recovery = _verdict(first)
        else:
            row.recovery = Verdict(outcome.verdict, limit=outcome.limit)
    row.kept_states = sum(r.outcome.stats.kept_states for r in row.reports)
    row.seconds = sum(r.outcome.stats.seconds for r in row.reports)
    return row


def _judge_pair(spec: str, params: list[str], options: Options, row: Row) -> Row:
    """Safety and availability with ``options.unreachable`` nodes cut off,
    each searched as ``check --unreachable`` does."""
    pair = verdicts(spec, params, options)
    reports = [r for r in (pair.safety, pair.availability) if r is not None]
    row.faults = pair.availability.params.get("faults", row.faults)
    if pair.safety is not None:
        row.safety = _verdict(pair.safety)
    row.available = _verdict(pair.availability)
    row.reports.extend(reports)
    # Availability reusing the safety search counts its states and time already.
    counted = [pair.availability] if pair.shared_search else reports
    row.kept_states = sum(r.outcome.stats.kept_states for r in counted)
    row.seconds = sum(r.outcome.stats.seconds for r in counted)
    return row


def _verdict(report: Report) -> Verdict:
    o = report.outcome
    # Counted as the trace numbers its lines: the initial state is step 1.
    return Verdict(o.verdict, o.property, len(o.path), o.limit)


def table(rows: list[Row], swept: list[str], markdown: bool = False) -> str:
    """The rows as an aligned text table, or a Markdown one."""
    faults = any(row.faults for row in rows)
    judged = "available" if any(row.available.verdict for row in rows) else "recovery"
    header = [*swept, *(["faults"] if faults else []), "safety", judged, "kept states", "time"]
    lines = []
    for row in rows:
        cells = [row.params[name] for name in swept]
        if faults:
            cells.append(row.faults or ("—" if row.invalid is not None else "(spec default)"))
        if row.invalid is not None:
            cells += ["invalid (below)", "", "", ""]
        elif not row.started:
            cells += ["not started", "not started", "", ""]
        else:
            cells += [row.safety.text(), getattr(row, judged).text(), f"{row.kept_states:,}",
                      f"{row.seconds:.1f} s"]
        lines.append(cells)
    reasons = dict.fromkeys(f"invalid: {row.invalid}" for row in rows if row.invalid is not None)
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in lines]
        return "\n".join(out + (["", *reasons] if reasons else []))
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines)]
    out = [
        "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
        for cells in [header, *lines]
    ]
    return "\n".join(out + list(reasons))


def to_json(rows: list[Row]) -> list[dict[str, Any]]:
    return [
        {"params": row.params, "faults": row.faults, "invalid": row.invalid,
         "safety": row.safety.to_json(), "recovery": row.recovery.to_json(),
         "available": row.available.to_json(),
         "kept_states": row.kept_states, "seconds": round(row.seconds, 3),
         "started": row.started}
        for row in rows
    ]


def interrupted(rows: list[Row]) -> bool:
    """Whether an interruption cut the sweep short."""
    return any(not row.started or interrupt.LIMIT in (row.safety.limit, row.recovery.limit, row.available.limit)
               for row in rows)
