"""The counterexample gallery: every violating shipped variant, on disk.

A spec lists its notable violations as ``counterexamples = [Counterexample(...)]``
on its model class.  ``modelcheck gallery`` regenerates ``counterexamples/``
(a ``.txt``, ``.json``, ``.dot`` and ``.svg`` per variant and an index,
README.md) and
``modelcheck gallery --check`` reports files that no longer match.

A few variants take minutes to search, or are searched by another test.
The test suite checks them by replaying their committed trace instead
(``stale_files(..., replayed=...)``): the trace must be a run of the model
whose last state, and no earlier one, breaks the property (for a
``@recoverable`` one: is lost for good), and its files are
rewritten from it and the committed statistics, which are then taken from
the commit; ``bench/long_searches.py`` searches the long ones again.
"""

from __future__ import annotations

import json
import shlex
import tempfile
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass, field
from pathlib import Path

from modelcheck.errors import SpecError
from modelcheck.goal_search import GoalSearch
from modelcheck.load import load, shipped
from modelcheck.model import Model
from modelcheck.render import save, sequence_chart
from modelcheck.report import Report
from modelcheck.engine.bfs import Outcome, Stats
from modelcheck.run import Options, build, run, verdicts
from modelcheck.trace import ReplayError, follow_json_trace

INDEX = "README.md"
#: Documents ``modelcheck frontier --markdown`` writes here; each names its own command.
FRONTIER_PREFIX = "frontier-"


@dataclass(frozen=True)
class Counterexample:
    """A shipped variant expected to violate a property."""

    name: str
    about: str
    params: tuple[str, ...] = ()
    options: Options = field(default_factory=Options)

    def command(self, spec: str) -> str:
        args = ["modelcheck", "check", spec]
        for p in self.params:
            args += ["-p", p]
        return shlex.join(args + self.options.command_line())


def variants() -> list[tuple[str, Counterexample]]:
    return [
        (name, example)
        for name in shipped()
        for example in getattr(load(name).model_class, "counterexamples", ())
    ]


def write_gallery(
    out: Path, replayed: Collection[str] = (), committed: Path | None = None
) -> list[Path]:
    """Regenerate every file of the gallery in ``out``; return what was written.

    The variants named (``spec-name``) in ``replayed`` are not searched: their
    trace is replayed from ``committed``'s JSON file instead.
    """
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    written = []
    for spec, example in variants():
        stem = f"{spec}-{example.name}"
        if stem in replayed:
            assert committed is not None, "replayed variants need the committed gallery"
            report = replay_committed(spec, example, committed / f"{stem}.json")
        elif example.options.unreachable is None:
            report = run(spec, example.params, example.options)
        else:  # the availability half of the verdict pair
            report = verdicts(spec, example.params, example.options).availability
        if report.outcome.verdict != "violation":
            raise SpecError(
                f"gallery: {example.command(spec)} no longer finds a violation "
                f"(verdict {report.outcome.verdict})"
            )
        text = f"$ {example.command(spec)}\n{report.to_text(timing=False)}\n"
        written.append(_write(out / f"{stem}.txt", text))
        data = report.to_json(timing=False)
        written.append(_write(out / f"{stem}.json",
                              json.dumps(data, indent=2, ensure_ascii=False) + "\n"))
        chart = sequence_chart(data)
        written.append(save(chart, out / f"{stem}.dot"))
        written.append(save(chart, out / f"{stem}.svg"))
        rows.append(_index_row(stem, example, spec, report))
    written.append(_write(out / INDEX, _index(rows)))
    return written


def replay_committed(spec: str, example: Counterexample, path: Path) -> Report:
    """The report of ``example`` rebuilt from its committed JSON file without a
    search: the trace is replayed on the unreduced model.  For an invariant,
    its last state must be the first to break it.  For a ``@recoverable``
    property, every state of the trace must keep the invariants, no state
    reachable from the last may satisfy the property, and from each earlier
    state some state that does must be reachable."""
    name, model, values = build(spec, example.params, example.options)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        prop = data["property"]
        _start, _choices, states = follow_json_trace(model, data["trace"], name=name)
        stats = Stats(distinct_states=data["distinct_states"], kept_states=data["kept_states"],
                      transitions=data["transitions"], skipped=data["steps_skipped"],
                      depth=data["depth"])
    except (OSError, ValueError, KeyError, TypeError, ReplayError) as exc:
        raise SpecError(f"gallery: {path} cannot be replayed: {exc}") from None
    checked = example.options.only or (*model.invariants(), *model.recoverables())
    invariants = {n: holds for n, holds in model.invariants().items() if n in checked}
    recoverables = {n: holds for n, holds in model.recoverables().items() if n in checked}
    if prop not in invariants and prop not in recoverables:
        raise SpecError(f"gallery: {path} breaks {prop!r}, not one of the properties checked")
    kept = states[:-1] if prop in invariants else states
    for number, state in enumerate(kept, start=1):
        broken = [n for n, holds in invariants.items() if not holds(state)]
        if broken:
            raise SpecError(f"gallery: {path}: step {number} already breaks {broken[0]}")
    if prop in invariants and invariants[prop](states[-1]):
        raise SpecError(f"gallery: {path}: the last step does not break {prop}")
    if prop in recoverables:
        recovers = _recovery(model, recoverables[prop])
        if recovers(states[-1]):
            raise SpecError(f"gallery: {path}: {prop} can still be recovered after the last step")
        for number, state in enumerate(states[:-1], start=1):
            if not recovers(state):
                raise SpecError(f"gallery: {path}: {prop} is already lost at step {number}")
    outcome = Outcome("violation", stats, prop, states)
    return Report(name, values, model, outcome, checked)


def _recovery(model: Model, holds: Callable[[Hashable], bool]) -> Callable[[Hashable], bool]:
    """Whether some state reachable from a state (itself included) satisfies
    ``holds``, on the unreduced model; searches share what they judged."""
    def expand(state: Hashable) -> list[tuple[Hashable, Hashable]] | None:
        after = [nxt for _label, nxt in model.successors(state)]
        return None if any(map(holds, after)) else [(nxt, nxt) for nxt in after]

    search = GoalSearch(expand)
    return lambda state: holds(state) or bool(search.reaches(state, state))


def stale_files(out: Path, replayed: Collection[str] = ()) -> list[str]:
    """Files of ``out`` that regenerating would change, add or remove.

    The variants in ``replayed`` are replayed from ``out``, not searched
    (see the module's documentation).

    SVG files are compared by name only: their bytes depend on the installed
    Graphviz, and they are drawn from the ``.dot`` files, which are compared.
    Frontier documents are not the gallery's (see ``FRONTIER_PREFIX``).
    """
    def contents(folder: Path) -> dict[str, bytes]:
        return {
            p.name: b"" if p.suffix == ".svg" else p.read_bytes()
            for p in folder.iterdir() if not p.name.startswith(FRONTIER_PREFIX)
        } if folder.is_dir() else {}

    with tempfile.TemporaryDirectory() as fresh_dir:
        fresh = Path(fresh_dir)
        write_gallery(fresh, replayed, out)
        expected = contents(fresh)
    present = contents(out)
    return sorted(name for name in expected.keys() | present.keys()
                  if expected.get(name) != present.get(name))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _index_row(stem: str, example: Counterexample, spec: str, report: Report) -> str:
    steps = len(report.steps)  # the last step's number in the trace
    return (
        f"| [{stem}]({stem}.txt) ([chart]({stem}.svg)) | {example.about} | "
        f"{report.outcome.property} | {steps} | `{example.command(spec)}` |"
    )


def _index(rows: list[str]) -> str:
    return "\n".join([
        "# Counterexamples",
        "",
        "Shortest counterexamples of the shipped specs' violating variants,",
        "generated by `modelcheck gallery` (do not edit by hand; a test fails when",
        "they are stale). Each has a `.txt` trace, its `.json` form, and a",
        "message sequence chart as `.svg` (drawn from the `.dot`).",
        "",
        "| variant | what goes wrong | property | steps | command |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ])
