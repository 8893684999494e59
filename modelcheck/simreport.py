"""One simulation start to finish: load the spec, run, shrink, report.

What ``modelcheck simulate`` prints: the shrunk counterexample exactly as
``check`` prints one (``modelcheck.trace``), under a header that says it was
found by simulation, and the simulation's figures.  Nothing found is not a
proof, and the report says so.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelcheck.errors import SpecError
from modelcheck.engine.bfs import _selected
from modelcheck.model import Model
from modelcheck.report import EXIT_INCOMPLETE, EXIT_VIOLATION
from modelcheck.run import Options, build
from modelcheck.shrink import Shrunk, shrink
from modelcheck.simulate import Settings, Simulation, simulate
from modelcheck.trace import Step, chart_facts, format_trace, label_path, trace_to_json


@dataclass
class SimulationReport:
    spec: str
    params: dict[str, Any]
    model: Model
    settings: Settings
    simulation: Simulation
    #: The invariants checked in every state.
    checked: tuple[str, ...]
    #: @recoverable properties, which a simulation cannot judge.
    skipped: tuple[str, ...]
    shrunk: Shrunk | None = None
    shrink_seconds: float = 0.0

    def __post_init__(self) -> None:
        self.steps: list[Step] = []
        if self.shrunk is not None:
            # Replaying the states on the model proves the trace is a run of it.
            self.steps = label_path(self.model, list(self.shrunk.trace.states))
            holds = self.model.invariants()[self.broken]
            assert not holds(self.steps[-1].state), "the shrunk trace no longer breaks it"

    @property
    def broken(self) -> str | None:
        found = self.simulation.found
        return found.property if found is not None else None

    @property
    def exit_code(self) -> int:
        # Finding nothing proves nothing: 3, as for an incomplete check.
        return EXIT_VIOLATION if self.shrunk is not None else EXIT_INCOMPLETE

    @property
    def original_length(self) -> int:
        found = self.simulation.found
        return len(found.labels) if found is not None else 0

    @property
    def explanation(self) -> str | None:
        if self.broken is None:
            return None
        return self.model.explain(self.broken, self.steps[-1].state)

    def header(self) -> str:
        found = self.simulation.found
        assert found is not None and self.shrunk is not None
        return (
            f"VIOLATION of {found.property}, found by simulation (run {found.run}, seed "
            f"{self.settings.seed}) and shrunk from {self.original_length} to "
            f"{len(self.shrunk.trace.labels)} transitions; a shorter trace may exist "
            "(`modelcheck check` finds the shortest)"
        )

    def figures(self) -> str:
        t = self.simulation.tally
        line = (f"simulation: {t.runs:,} runs, {t.steps:,} steps, {t.steps_per_second:,.0f} "
                f"steps/s, {len(t.seen):,} distinct states seen, {t.seconds:.2f} s")
        if self.settings.workers > 1:
            line += f" on {self.settings.workers} workers"
        if self.shrunk is not None:
            line += f"; shrinking replayed {self.shrunk.tried:,} variants in {self.shrink_seconds:.2f} s"
        return line

    def to_text(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        lines = [f"{self.spec}({params})"]
        if self.shrunk is not None:
            lines += [self.header(), "", format_trace(self.model, self.steps), "",
                      f"✗ {self.explanation}"]
        else:
            t = self.simulation.tally
            checked = ", ".join(self.checked) or "nothing: the spec has no invariants"
            stop = " (interrupted)" if self.simulation.limit == "interrupted" else ""
            lines.append(
                f"NO VIOLATION FOUND{stop} in {t.runs:,} runs of at most {self.settings.max_depth} "
                f"steps (checked in every state: {checked}); nothing is proven: a "
                "simulation samples runs, `modelcheck check` explores them all"
            )
        if self.skipped:
            lines.append(f"not checked: {', '.join(self.skipped)} (@recoverable properties need "
                         "the whole state space: use `modelcheck check`)")
        lines.append(self.figures())
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        t = self.simulation.tally
        found = self.simulation.found
        return {
            "spec": self.spec,
            "params": self.params,
            "verdict": "violation" if self.shrunk is not None else "incomplete",
            "property": self.broken,
            "explanation": self.explanation,
            "limit": self.simulation.limit,
            "checked": list(self.checked),
            "seed": self.settings.seed,
            "workers": self.settings.workers,
            "max_depth": self.settings.max_depth,
            "runs": t.runs,
            "steps": t.steps,
            "steps_per_second": round(t.steps_per_second),
            "distinct_states": len(t.seen),
            "seconds": round(t.seconds, 3),
            "found_in_run": found.run if found is not None else None,
            "original_length": self.original_length if found is not None else None,
            "shrunk_length": len(self.shrunk.trace.labels) if self.shrunk is not None else None,
            "shrink_seconds": round(self.shrink_seconds, 3),
            "trace": trace_to_json(self.model, self.steps),
            **chart_facts(self.model, self.broken, [step.state for step in self.steps]),
        }


def run_simulation(
    spec: str, params: Sequence[str], options: Options, settings: Settings,
) -> SimulationReport:
    """Simulate ``spec``, shrinking what it finds; raises SpecError on bad input."""
    name, model, values = build(spec, params, options)
    invariants, recoverables = _selected(model, options.only)
    if options.only and not invariants:
        raise SpecError(
            f"--only {', '.join(options.only)}: @recoverable properties need the whole "
            "state space, which a simulation does not explore; use `modelcheck check`"
        )
    skipped = () if options.only else tuple(name for name, _ in recoverables)
    simulation = simulate(model, invariants, settings)
    shrunk, seconds = None, 0.0
    if (found := simulation.found) is not None:
        started = time.perf_counter()
        shrunk = shrink(model, dict(invariants)[found.property], found.labels, found.states)
        seconds = time.perf_counter() - started
    return SimulationReport(name, values, model, settings, simulation,
                            tuple(n for n, _ in invariants), skipped, shrunk, seconds)
