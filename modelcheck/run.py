"""One check, start to finish: load a spec, apply options, search, report.

Shared by ``modelcheck check`` and the counterexample gallery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modelcheck.actors import FaultBudget, Protocol
from modelcheck.actors.minimize import explore_fewest_faults
from modelcheck.errors import SpecError
from modelcheck.explore import Progress, explore
from modelcheck.load import load
from modelcheck.report import Report


@dataclass(frozen=True)
class Options:
    writes: int | None = None
    faults: str | None = None
    minimize: str = "steps"
    max_depth: int | None = None
    max_states: int | None = None
    time_limit: float | None = None
    deadlock: bool = False

    def command_line(self) -> list[str]:
        """These options as ``modelcheck check`` arguments."""
        args = []
        if self.writes is not None:
            args += ["--writes", str(self.writes)]
        if self.faults is not None:
            args += ["--faults", self.faults]
        if self.minimize != "steps":
            args += ["--minimize", self.minimize]
        return args


def run(
    spec: str, params: Sequence[str], options: Options, progress: Progress | None = None
) -> Report:
    """Check ``spec`` with ``-p`` style ``params``; raises SpecError on bad input."""
    loaded = load(spec)
    values = loaded.resolve(list(params))
    model = loaded.build(values)
    search = explore
    if isinstance(model, Protocol):
        faults = FaultBudget.parse(options.faults) if options.faults is not None else None
        model.configure(options.writes, faults)
        values = {**values, "writes": model.writes, "faults": str(model.faults)}
        if options.minimize == "faults":
            search = explore_fewest_faults
    elif options.writes is not None or options.faults is not None or options.minimize != "steps":
        raise SpecError(
            f"{loaded.name} is a Model-level spec: --writes, --faults and --minimize "
            "apply to actor specs (modelcheck.actors.Protocol)"
        )
    outcome = search(
        model,
        max_depth=options.max_depth,
        max_states=options.max_states,
        time_limit=options.time_limit,
        deadlock=options.deadlock,
        progress=progress,
    )
    return Report(loaded.name, values, model, outcome)
