"""One check, start to finish: load a spec, apply options, search, report.

Shared by ``modelcheck check`` and the counterexample gallery.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from modelcheck.actors import FaultBudget, Protocol
from modelcheck.actors.minimize import explore_fewest_faults
from modelcheck.engine.partitioned import Recipe, explore_on_workers
from modelcheck.errors import SpecError
from modelcheck.engine import Outcome, Progress, explore
from modelcheck.load import load
from modelcheck.model import Model
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
    #: None: on wherever the spec declares symmetry.
    symmetry: bool | None = None
    #: Check only these properties (default: all).
    only: tuple[str, ...] = ()
    #: Worker processes (or Ray actors) sharing the search; 1: this process alone.
    workers: int = 1
    #: Where workers run: ``processes`` on this machine, or ``ray``.
    backend: str = "processes"
    #: The Ray cluster to use (``auto``, ``HOST:PORT``); None starts a local one.
    address: str | None = None

    def command_line(self) -> list[str]:
        """These options as ``modelcheck check`` arguments."""
        args = []
        if self.writes is not None:
            args += ["--writes", str(self.writes)]
        if self.faults is not None:
            args += ["--faults", self.faults]
        if self.minimize != "steps":
            args += ["--minimize", self.minimize]
        for name in self.only:
            args += ["--only", name]
        return args


def build(spec: str, params: Sequence[str], options: Options) -> tuple[str, Model, dict]:
    """Load ``spec`` and build its model: (name, model, effective parameters)."""
    loaded = load(spec)
    values = loaded.resolve(list(params))
    model = loaded.build(values)
    if isinstance(model, Protocol):
        faults = FaultBudget.parse(options.faults) if options.faults is not None else None
        model.configure(options.writes, faults)
        values = {**values, "writes": model.writes, "faults": str(model.faults)}
    elif options.writes is not None or options.faults is not None or options.minimize != "steps":
        raise SpecError(
            f"{loaded.name} is a Model-level spec: --writes, --faults and --minimize "
            "apply to actor specs (modelcheck.actors.Protocol)"
        )
    return loaded.name, model, values


def run(
    spec: str, params: Sequence[str], options: Options, progress: Progress | None = None
) -> Report:
    """Check ``spec`` with ``-p`` style ``params``; raises SpecError on bad input."""
    name, model, values = build(spec, params, options)
    search: Callable[..., Outcome] = explore
    if options.workers > 1 or options.backend != "processes":
        search = partial(explore_on_workers, recipe=_recipe(model, params, options),
                         workers=options.workers, backend=options.backend,
                         address=options.address)
    elif options.address is not None:
        raise SpecError("--address names a Ray cluster: use it with --backend ray")
    if isinstance(model, Protocol) and options.minimize == "faults":
        search = partial(explore_fewest_faults, search=search)
    symmetric = model.symmetry_size() > 1
    if options.symmetry and not symmetric:
        raise SpecError(f"{name} declares no symmetry (--symmetry needs one)")
    outcome = search(
        model,
        symmetry=symmetric if options.symmetry is None else options.symmetry,
        only=options.only,
        max_depth=options.max_depth,
        max_states=options.max_states,
        time_limit=options.time_limit,
        deadlock=options.deadlock,
        progress=progress,
    )
    checked = options.only or (*model.invariants(), *model.recoverables())
    return Report(name, values, model, outcome, checked)


def _recipe(model: Model, params: Sequence[str], options: Options) -> Recipe:
    """What Ray actors need to build the same model (the spec file as loaded:
    loading it again would make its classes new ones)."""
    path = Path(inspect.getfile(type(model)))
    return Recipe(path.stem, path.read_text(encoding="utf-8"), tuple(params), options)
