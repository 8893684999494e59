"""One check, start to finish: load a spec, apply options, search, report.

Shared by ``modelcheck check`` and the counterexample gallery.  ``verdicts``
judges an actor spec twice, safety (its invariants, durability first) and
availability with unreachable nodes, each with its own minimal
counterexample: the verdict pair.
"""

from __future__ import annotations

import difflib
import hashlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from modelcheck.actors import FaultBudget, Protocol
from modelcheck.actors.minimize import explore_fewest_faults
from modelcheck.available import PROPERTY, AvailabilityReport, explore_recording
from modelcheck.available import report as availability_report
from modelcheck.engine import Outcome, Progress, explore
from modelcheck.engine.partitioned import Recipe, explore_on_workers
from modelcheck.errors import SpecError
from modelcheck.engine.checkpoint import Checkpoint, read
from modelcheck.engine.memory import default_limit
from modelcheck.load import load
from modelcheck.model import Model
from modelcheck.report import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATION, Report


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
    #: The visited-state store: exact or fingerprint.
    store: str = "exact"
    #: Limit in bytes on the search's memory; None: a safe share of the machine.
    memory: int | None = None
    #: Directory for checkpoints (fingerprint store), and seconds between them.
    checkpoint: str | None = None
    checkpoint_every: float = 300.0
    #: Worker processes (or Ray actors) sharing the search; 1: this process alone.
    workers: int = 1
    #: Where workers run: ``processes`` on this machine, or ``ray``.
    backend: str = "processes"
    #: The Ray cluster to use (``auto``, ``HOST:PORT``); None starts a local one.
    address: str | None = None
    #: Actor specs: also judge availability with this many nodes
    #: unreachable (modelcheck.available); None: do not.
    unreachable: int | None = None
    #: Actor specs: show ghost fields in traces, JSON and charts.
    ghosts: bool = False
    #: Actor specs with ``behaves_as``: how many reads the client issues.
    reads: int | None = None
    #: Actor specs: prune stale messages (modelcheck.actors.stale).  None:
    #: wherever the spec says which messages a node ignores, except with
    #: --deadlock and --unreachable.
    prune: bool | None = None
    #: Sleep sets (modelcheck.engine.sleep).  None: wherever they apply.
    por: bool | None = None

    def command_line(self) -> list[str]:
        """These options as ``modelcheck check`` arguments."""
        args = []
        if self.writes is not None:
            args += ["--writes", str(self.writes)]
        if self.reads is not None:
            args += ["--reads", str(self.reads)]
        if self.faults is not None:
            args += ["--faults", self.faults]
        if self.minimize != "steps":
            args += ["--minimize", self.minimize]
        for name in self.only:
            args += ["--only", name]
        if self.unreachable is not None:
            args += ["--unreachable", str(self.unreachable)]
        if self.ghosts:
            args.append("--ghosts")
        if self.prune is not None:
            args.append("--prune" if self.prune else "--no-prune")
        if self.por is not None:
            args.append("--por" if self.por else "--no-por")
        return args


def build(spec: str, params: Sequence[str], options: Options) -> tuple[str, Model, dict]:
    """Load ``spec`` and build its model: (name, model, effective parameters)."""
    loaded = load(spec)
    values = loaded.resolve(list(params))
    model = loaded.build(values)
    if isinstance(model, Protocol):
        model.check_setup()
        faults = FaultBudget.parse(options.faults) if options.faults is not None else None
        model.configure(options.writes, faults, options.reads, _pruning(options))
        model.show_ghosts = options.ghosts
        values = {**values, "writes": model.writes,
                  **({"reads": model.reads} if model.behaves_as is not None else {}),
                  "faults": str(model.faults)}
    elif (options.writes is not None or options.faults is not None
          or options.minimize != "steps" or options.reads is not None or options.ghosts
          or options.prune):
        raise SpecError(
            f"{loaded.name} is a Model-level spec: --writes, --reads, --faults, --minimize, "
            "--ghosts and --prune "
            "apply to actor specs (modelcheck.actors.Protocol)"
        )
    return loaded.name, model, values


def _pruning(options: Options) -> bool | None:
    """Whether to prune stale messages.  A deadlock search sees the network
    as it is: a state whose only steps deliver stale messages is no
    deadlock.  Availability may prune: a stale message helps no recovery run."""
    if not options.deadlock:
        return options.prune
    if options.prune:
        raise SpecError("--prune cannot be combined with --deadlock: a state whose only "
                        "steps deliver stale messages would look stuck")
    return False


def _sleeping(model: Model, options: Options) -> bool:
    """Whether the search skips steps by sleep sets: ``--por``, or by default
    wherever they apply (a spec that says which steps commute, invariants
    only, one process)."""
    if options.por is False:
        return False
    recoverables = [p for p in model.recoverables() if not options.only or p in options.only]
    cannot = (
        "the checker cannot tell which of this spec's steps commute (it can for actor "
        "specs that do not override successors)"
        if model.sleep_rules(False) is None else
        "sleep sets do not run with --workers or --backend ray yet"
        if options.workers > 1 or options.backend != "processes" else
        "checkpoints do not save sleep sets yet" if options.checkpoint is not None else
        f"@recoverable properties ({', '.join(recoverables)}) need every step: "
        "use --only to check the invariants alone" if recoverables else None)
    if cannot is not None and options.por:
        raise SpecError(f"--por: {cannot}")
    return cannot is None


def run(
    spec: str, params: Sequence[str], options: Options, progress: Progress | None = None
) -> Report:
    """Check ``spec`` with ``-p`` style ``params``; raises SpecError on bad input."""
    name, model, values = build(spec, params, options)
    sleep = _sleeping(model, options)
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
    checkpoint = None
    if options.checkpoint is not None:
        if options.workers > 1 or options.backend != "processes":
            raise SpecError("--checkpoint is not available with --workers or --backend ray yet")
        if search is not explore:
            raise SpecError("--checkpoint cannot be combined with --minimize faults")
        checkpoint = _checkpoint(spec, params, options, values)
    outcome = search(
        model,
        symmetry=symmetric if options.symmetry is None else options.symmetry,
        only=options.only,
        max_depth=options.max_depth,
        max_states=options.max_states,
        time_limit=options.time_limit,
        deadlock=options.deadlock,
        progress=progress,
        store=options.store,
        memory=options.memory if options.memory is not None else default_limit(),
        checkpoint=checkpoint,
        **({"sleep": True} if sleep else {}),
    )
    checked = options.only or (*model.invariants(), *model.recoverables())
    return Report(name, values, model, outcome, checked)


#: Options that are resource limits: a resumed search may change them.
_LIMITS = ("max_depth", "max_states", "time_limit", "memory", "checkpoint", "checkpoint_every")


def _checkpoint(spec: str, params: Sequence[str], options: Options, values: dict) -> Checkpoint:
    path = load(spec).path.resolve()
    identity = {
        "spec": str(path),
        "spec_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "params": {key: str(value) for key, value in values.items()},
        **{key: value for key, value in asdict(options).items() if key not in _LIMITS},
    }
    identity["only"] = list(options.only)
    command = {"spec": str(path), "params": list(params), "options": asdict(options)}
    command["options"]["only"] = list(options.only)
    return Checkpoint(Path(options.checkpoint), identity, command,  # type: ignore[arg-type]
                      options.checkpoint_every)


def resume(directory: str, limits: dict[str, Any], progress: Progress | None = None) -> Report:
    """Carry on the search checkpointed in ``directory``; ``limits`` override
    the saved ones (max_depth, max_states, time_limit, memory)."""
    command = read(Path(directory))["command"]
    saved = {**command["options"], "only": tuple(command["options"]["only"])}
    options = replace(Options(**saved), checkpoint=directory,
                      **{k: v for k, v in limits.items() if v is not None})
    return run(command["spec"], command["params"], options, progress)


def _recipe(model: Model, params: Sequence[str], options: Options) -> Recipe:
    """What Ray actors need to build the same model (the spec file as loaded:
    loading it again would make its classes new ones)."""
    path = Path(inspect.getfile(type(model)))
    return Recipe(path.stem, path.read_text(encoding="utf-8"), tuple(params), options)
@dataclass
class VerdictPair:
    """Safety and availability of one design, judged separately.

    ``safety`` checks the spec's invariants (the built-in durability and the
    spec's own; those named in ``Options.only``, if any) on the normal
    search, or is None when none is selected; ``availability`` checks
    ``available`` with ``Options.unreachable`` nodes unreachable.  Each
    report has its own verdict (ok, violation, incomplete), property,
    shortest counterexample, limit and figures: ``report.outcome`` and
    ``report.to_json()``.
    """

    safety: Report | None
    availability: AvailabilityReport
    #: Whether availability started from the safety search's states: its
    #: figures then include that search's states and seconds.
    shared_search: bool = False

    @property
    def exit_code(self) -> int:
        """1 if either is violated, else 3 if either is incomplete, else 0."""
        codes = {r.exit_code for r in (self.safety, self.availability) if r is not None}
        return next((c for c in (EXIT_VIOLATION, EXIT_INCOMPLETE) if c in codes), EXIT_OK)

    def to_json(self, timing: bool = True) -> dict[str, Any]:
        availability = self.availability.to_json(timing)
        return {"spec": availability["spec"], "params": availability["params"],
                "safety": None if self.safety is None else self.safety.to_json(timing),
                "availability": availability}

    def to_text(self, timing: bool = True) -> str:
        safety = "not checked" if self.safety is None else self.safety.to_text(timing)
        return f"safety: {safety}\n\navailability: {self.availability.to_text(timing)}"


def verdicts(
    spec: str, params: Sequence[str], options: Options, progress: Progress | None = None
) -> VerdictPair:
    """Judge ``spec`` (an actor spec) for safety and for availability with
    ``options.unreachable`` nodes unreachable (default 0).  ``options.only``
    may name ``available`` and the invariants to check.  Raises SpecError
    on bad input."""
    name, model, values = build(spec, params, options)
    if not isinstance(model, Protocol):
        raise SpecError(f"{name} is a Model-level spec: availability with unreachable "
                        "nodes needs an actor spec (modelcheck.actors.Protocol)")
    engine = [flag for flag, used in (
        ("--workers", options.workers > 1), ("--backend ray", options.backend != "processes"),
        ("--store fingerprint", options.store != "exact"),
        ("--checkpoint", options.checkpoint is not None)) if used]
    if engine:
        raise SpecError(f"--unreachable runs in one process on the exact store for now: "
                        f"drop {', '.join(engine)}")
    u = options.unreachable or 0
    if not 0 <= u < len(model.node_names):
        raise SpecError(f"--unreachable {u}: {name} has {len(model.node_names)} nodes, "
                        f"so at most {len(model.node_names) - 1} can be unreachable")
    declared = [*model.invariants(), PROPERTY]
    unknown = [p for p in options.only if p not in declared]
    if unknown:
        close = difflib.get_close_matches(unknown[0], declared, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SpecError(f"no property {unknown[0]!r} to judge with --unreachable (its "
                        f"invariants, and {PROPERTY}: {', '.join(declared)}){hint}")
    invariants = tuple(p for p in model.invariants() if not options.only or p in options.only)
    symmetric = model.symmetry_size() > 1
    symmetry = symmetric if options.symmetry is None else options.symmetry
    if options.symmetry and not symmetric:
        raise SpecError(f"{name} declares no symmetry (--symmetry needs one)")
    limits = dict(symmetry=symmetry, max_states=options.max_states,
                  time_limit=options.time_limit, progress=progress)
    safety = searched = None
    if invariants and options.minimize == "faults":
        safety = run(spec, params, replace(options, only=invariants), progress)
    elif invariants:
        # One search judges safety and, when it is complete (ok), gives the
        # reachable states availability starts from.
        outcome, expanded = explore_recording(
            model, invariants, max_depth=options.max_depth, deadlock=options.deadlock, **limits)
        safety = Report(name, values, model, outcome, invariants)
        if outcome.verdict == "ok":
            searched = outcome, expanded
    availability = availability_report(
        name, {**values, "unreachable": u}, model, u, **limits, searched=searched)
    return VerdictPair(safety, availability, shared_search=searched is not None)
