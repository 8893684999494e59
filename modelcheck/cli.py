"""The ``modelcheck`` command line."""

from __future__ import annotations

import functools
import json
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import click

from modelcheck import interrupt
from modelcheck.actors import Protocol
from modelcheck.actors.stale import declares_rule
from modelcheck.actors.stale import verify as verify_pruning
from modelcheck.engine.memory import parse_size
from modelcheck.errors import SpecError
from modelcheck.gallery import stale_files, write_gallery
from modelcheck.load import load, shipped
from modelcheck.outputs import check_directory, check_file
from modelcheck.progress import ProgressLine
from modelcheck.render import MissingDot, check_format, check_model_fields, save, sequence_chart
from modelcheck.render import state_graph as render_state_graph
from modelcheck.report import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, Report
from modelcheck.run import Options, VerdictPair, build, resume, run, verdicts
from modelcheck.simreport import SimulationReport, run_simulation
from modelcheck.simulate import Settings
from modelcheck.sweep import interrupted, parse_sweep, sweep, table, to_json
from modelcheck.symmetry import verify

READS_HELP = "Actor specs with behaves_as: how many reads the client issues (default: the spec's)."


def _workload_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--writes, --reads and --faults, as commands that run an actor spec's
    model without searching it (simulate, explore) take them."""
    for option in reversed((
        click.option("--writes", type=click.IntRange(min=0), metavar="K",
                     help="Actor specs: how many writes the client issues "
                          "(default: the spec's)."),
        click.option("--reads", type=click.IntRange(min=0), metavar="K", help=READS_HELP),
        click.option("--faults", metavar="KIND=N,...",
                     help="Actor specs: fault budget, as for `check` (default: the spec's)."),
    )):
        command = option(command)
    return command


def _memory_size(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    try:
        return None if value is None else parse_size(value)
    except SpecError as exc:
        # click names the option already.
        raise click.BadParameter(str(exc).removeprefix("--memory ")) from exc


def _field_list(ctx: click.Context, param: click.Parameter,
                value: str | None) -> tuple[str, ...]:
    """``--fields a,b`` as a tuple of names (empty when not given)."""
    names = tuple(name.strip() for name in (value or "").split(","))
    if value is not None and not all(names):
        raise click.BadParameter(f"{value!r}: give field names separated by commas")
    return names if value is not None else ()


def _engine_options(command: Callable[..., None]) -> Callable[..., None]:
    """--store, --memory and --por, shared by check and sweep."""
    command = click.option(
        "--por/--no-por", default=None,
        help="Partial-order reduction by sleep sets: do not take a step again where it "
        "commutes with one already taken. The same states at the same depths, fewer steps. "
        "Default: on for actor specs checking invariants in one process.",
    )(command)
    command = click.option(
        "--memory", callback=_memory_size, metavar="SIZE",
        help="Stop cleanly (incomplete) before the search uses more memory than this, "
        "e.g. 4GB. Default: three quarters of the machine's memory, within what is free.",
    )(command)
    return click.option(
        "--store", type=click.Choice(["exact", "fingerprint"]), default="exact",
        show_default=True,
        help="Visited states: exact (every state in memory) or fingerprint (64-bit "
        "fingerprints, about 20 bytes a state; a tiny, reported chance of a collision).",
    )(command)


def _worker_options(command: Callable[..., None]) -> Callable[..., None]:
    """--workers, --backend and --address, shared by check and sweep."""
    for option in reversed([
        click.option(
            "--workers", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
            help="Share the search between N worker processes (or Ray actors). Counts, "
            "verdicts and counterexamples are the same for every N."),
        click.option(
            "--backend", type=click.Choice(["processes", "ray"]), default="processes",
            show_default=True,
            help="Where workers run: processes on this machine, or Ray actors "
            "(pip install 'modelcheck[ray]')."),
        click.option(
            "--address", metavar="ADDRESS",
            help="With --backend ray: the cluster to join (auto, or HOST:PORT of the head "
            "node). Default: start a local Ray instance."),
    ]):
        command = option(command)
    return command


def _stop_on_signals(command: Callable[..., None]) -> Callable[..., None]:
    """Ctrl-C and SIGTERM end the command's searches as a limit does
    (``modelcheck.interrupt``): the results so far are printed, exit 3."""
    @functools.wraps(command)
    def wrapped(*args: object, **kwargs: object) -> None:
        with interrupt.stop_on_signals():
            command(*args, **kwargs)
    return wrapped


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="modelcheck")
def main() -> None:
    """Exhaustive model checking for replication protocols.

    Explores every interleaving of protocol steps (and, for actor specs,
    partitions, crashes and loss of unsynced writes) breadth-first, and prints
    a shortest counterexample when a property breaks.

    \b
    Exit status (each command's --help gives its own):
      0  ok
      1  a property is violated
      2  usage or spec error
      3  incomplete: a limit, Ctrl-C or SIGTERM ended the search first
    """


@main.command()
@click.argument("spec")
@click.option(
    "-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
    help="Set a spec parameter (repeatable). `modelcheck list` shows them.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option(
    "--max-depth", type=click.IntRange(min=1), metavar="N",
    help="Stop after N BFS levels (initial states are level 1).",
)
@click.option(
    "--max-states", type=click.IntRange(min=1), metavar="N",
    help="Stop after N distinct states.",
)
@click.option(
    "--time-limit", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
    help="Stop after this many seconds.",
)
@click.option("--deadlock", is_flag=True, help="Report a state with no successor as a violation.")
@click.option(
    "--only", multiple=True, metavar="PROPERTY",
    help="Check only this property (repeatable); the others are ignored.",
)
@click.option(
    "--writes", type=click.IntRange(min=0), metavar="K",
    help="Actor specs: how many writes the client issues (default: the spec's).",
)
@click.option("--reads", type=click.IntRange(min=0), metavar="K", help=READS_HELP)
@click.option(
    "--faults", metavar="KIND=N,...",
    help="Actor specs: fault budget, e.g. power_loss=1,crash=1 (kinds: power_loss, crash, "
    "partition, drop, duplicate, stop). Kinds not named get 0. Default: the spec's.",
)
@click.option(
    "--minimize", type=click.Choice(["steps", "faults"]), default="steps", show_default=True,
    help="Actor specs: shortest counterexample, or fewest faults first (then shortest).",
)
@click.option(
    "--diagram", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
    help="Draw the counterexample as a message sequence chart (.svg, .png or .dot).",
)
@click.option(
    "--fields", callback=_field_list, metavar="NAME,...",
    help="--diagram: the node fields the chart shows (default: those that change).",
)
@click.option(
    "--state-graph", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
    help="Draw the whole reachable state graph, counterexample in red (small models).",
)
@click.option(
    "--state-graph-cap", type=click.IntRange(min=1), default=300, show_default=True,
    metavar="N", help="Refuse --state-graph above N states.",
)
@click.option(
    "--symmetry/--no-symmetry", default=None,
    help="Keep one state per orbit of interchangeable nodes. Default: on where the "
    "spec declares symmetry.",
)
@click.option(
    "--verify-symmetry", is_flag=True,
    help="Instead of checking, compare the reduced search with brute force on the "
    "whole (small) state space: orbit counts and sizes must agree.",
)
@click.option(
    "--prune/--no-prune", default=None,
    help="Actor specs: remove from the network the messages their receiver ignores for "
    "good (the spec's `ignores`). Default: on where the spec says which messages a node "
    "ignores, off with --deadlock (availability with --unreachable prunes too: a stale "
    "message helps no recovery run).",
)
@click.option(
    "--verify-pruning", is_flag=True,
    help="Instead of checking, confirm on the whole (small) unpruned state space that "
    "every message `ignores` names is left alone by its handler and stays ignored "
    "after every step.",
)
@_worker_options
@_engine_options
@click.option(
    "--checkpoint", type=click.Path(file_okay=False), metavar="DIR",
    help="Save the search to DIR from time to time, at a limit and on Ctrl-C or SIGTERM "
    "(needs --store fingerprint); `modelcheck resume DIR` carries on. A DIR holding a "
    "checkpoint of the same check resumes it.",
)
@click.option(
    "--checkpoint-every", type=click.FloatRange(min=0), default=300, show_default=True,
    metavar="SECONDS", help="Least time between two checkpoints.",
)
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@click.option(
    "--unreachable", type=click.IntRange(min=0), metavar="U",
    help="Actor specs: also judge availability: with every set of U nodes unreachable "
    "for good, from every reachable state, the others can still get a new write "
    "acknowledged without faults. Reports the verdict pair (safety, availability).",
)
@click.option(
    "--ghosts", is_flag=True,
    help="Actor specs: show ghost fields (bookkeeping for properties) in the trace, "
    "JSON and --diagram.",
)
@click.option("--debug", is_flag=True, help="Show Python tracebacks for spec errors.")
@_stop_on_signals
def check(
    spec: str,
    params: tuple[str, ...],
    as_json: bool,
    max_depth: int | None,
    max_states: int | None,
    time_limit: float | None,
    deadlock: bool,
    only: tuple[str, ...],
    writes: int | None,
    reads: int | None,
    faults: str | None,
    minimize: str,
    diagram: Path | None,
    fields: tuple[str, ...],
    state_graph: Path | None,
    state_graph_cap: int,
    symmetry: bool | None,
    verify_symmetry: bool,
    prune: bool | None,
    verify_pruning: bool,
    store: str,
    memory: int | None,
    por: bool | None,
    checkpoint: str | None,
    checkpoint_every: float,
    quiet: bool,
    workers: int,
    backend: str,
    address: str | None,
    unreachable: int | None,
    ghosts: bool,
    debug: bool,
) -> None:
    """Check every reachable state of SPEC.

    SPEC is a spec file (path/to/spec.py) or the name of a shipped spec.

    \b
    Exit status:
      0  every property holds on the complete state space
      1  a property is violated (a shortest counterexample is printed)
      2  usage or spec error
      3  incomplete: a limit, Ctrl-C or SIGTERM ended the search first
         (the statistics so far are printed; a second Ctrl-C quits at once)
    """
    progress = ProgressLine(quiet=quiet)
    options = Options(writes, faults, minimize, max_depth, max_states, time_limit, deadlock,
                      symmetry, only, store, memory, checkpoint, checkpoint_every, workers,
                      backend, address, unreachable, ghosts, reads, prune, por)
    verifying = [flag for flag, on in (("--verify-symmetry", verify_symmetry),
                                       ("--verify-pruning", verify_pruning)) if on]
    if verifying and as_json:
        _fail(SpecError(f"{verifying[0]} prints a text verdict: drop --json"), debug)
    if verify_symmetry:
        _verify_symmetry(spec, params, options, debug)
    if verify_pruning:
        _verify_pruning(spec, params, options, debug)
    try:
        for option, target in (("--diagram", diagram), ("--state-graph", state_graph)):
            if target is not None:
                check_format(target)
                check_file(target, option)
        if checkpoint is not None:
            check_directory(Path(checkpoint), "--checkpoint")
        if fields:
            if diagram is None:
                raise SpecError("--fields chooses what the --diagram chart shows: add --diagram")
            check_model_fields(build(spec, params, options)[1], fields)
        if unreachable is not None:
            pair = verdicts(spec, params, options, progress)
            # Pictures show the first counterexample: safety's, else availability's.
            report = next((r for r in (pair.safety, pair.availability)
                           if r is not None and r.outcome.path), pair.availability)
        else:
            report = run(spec, params, options, progress)
        progress.close()
        pictures = []
        if diagram is not None and report.outcome.path:
            pictures.append((diagram, lambda: sequence_chart(report.to_json(), fields)))
        if state_graph is not None:
            pictures.append((state_graph, lambda: render_state_graph(
                report.model, report.outcome.path, state_graph_cap)))
        drawn = [(target, draw()) for target, draw in pictures]
    except SpecError as exc:
        _fail(exc, debug, progress)
    shown = pair if unreachable is not None else report
    _print(shown, as_json)
    if diagram is not None and not report.outcome.path:
        click.echo(f"note: no counterexample, so no diagram written to {diagram}", err=True)
    for target, graph in drawn:
        try:
            click.echo(f"wrote {save(graph, target)}", err=True)
        except MissingDot as exc:
            click.echo(f"warning: {exc}", err=True)
        except SpecError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
    sys.exit(shown.exit_code)


def _fail(exc: SpecError, debug: bool, progress: ProgressLine | None = None) -> NoReturn:
    """Report a usage or spec error and exit with status 2."""
    if progress is not None:
        progress.close()
    if debug:
        traceback.print_exception(exc)
    click.echo(f"error: {exc}", err=True)
    sys.exit(EXIT_USAGE)


def _print(report: Report | SimulationReport | VerdictPair, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.to_text())


@main.command(name="resume")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--max-depth", type=click.IntRange(min=1), metavar="N",
              help="Replace the saved depth limit.")
@click.option("--max-states", type=click.IntRange(min=1), metavar="N",
              help="Replace the saved state limit.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Replace the saved time limit (the time already spent counts).")
@click.option("--memory", callback=_memory_size, metavar="SIZE",
              help="Replace the saved memory limit.")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for spec errors.")
@_stop_on_signals
def resume_command(directory: str, as_json: bool, max_depth: int | None,
                   max_states: int | None, time_limit: float | None, memory: int | None,
                   quiet: bool, debug: bool) -> None:
    """Carry on the search checkpointed in DIRECTORY (by `check --checkpoint`).

    The spec file must be unchanged. Exit status as for `check`.
    """
    progress = ProgressLine(quiet=quiet)
    limits = {"max_depth": max_depth, "max_states": max_states, "time_limit": time_limit,
              "memory": memory}
    try:
        report = resume(directory, limits, progress)
    except SpecError as exc:
        _fail(exc, debug, progress)
    progress.close()
    _print(report, as_json)
    sys.exit(report.exit_code)


def _verify_symmetry(spec: str, params: tuple[str, ...], options: Options, debug: bool) -> None:
    try:
        result = verify(build(spec, params, options)[1])
    except SpecError as exc:
        _fail(exc, debug)
    _verified(
        f"unreduced: {result.states:,} states in {result.orbits:,} orbits (brute force)\n"
        f"reduced:   {result.kept:,} states kept, orbit sizes adding up to "
        f"{result.represented:,}",
        result.mismatches, "symmetry verified: exact reduction",
        "symmetry is NOT sound for this spec: declare it asymmetric or fix permute")


def _verify_pruning(spec: str, params: tuple[str, ...], options: Options, debug: bool) -> None:
    try:
        model = build(spec, params, replace(options, prune=None))[1]
        if not isinstance(model, Protocol) or not any(map(declares_rule, model.node_classes)):
            raise SpecError(f"{spec} says of no message that a node ignores it "
                            "(def ignores(self, msg) on a node class): nothing to verify")
        result = verify_pruning(model)
    except SpecError as exc:
        _fail(exc, debug)
    _verified(
        f"unpruned: {result.states:,} states searched, {result.with_stale:,} with a stale "
        f"message in flight\n"
        f"pruned:   {result.images:,} states",
        result.problems, "pruning verified: every stale message is ignored, and stays so",
        "pruning is NOT sound for this spec: fix its ignores, or run with --no-prune")


def _verified(figures: str, problems: list[str], sound: str, unsound: str) -> NoReturn:
    """Print a verification's figures and verdict; exit 0 if sound, else 1."""
    click.echo(figures)
    if not problems:
        click.echo(sound)
        sys.exit(0)
    for problem in problems:
        click.echo(f"✗ {problem}")
    click.echo(unsound)
    sys.exit(1)


@main.command(name="simulate")
@click.argument("spec")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Set a spec parameter (repeatable).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the random runs: the same seed gives the same runs.")
@click.option("--runs", type=click.IntRange(min=1), metavar="N",
              help="Stop after N runs (default 1000 unless --time-limit is given).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop starting runs after this many seconds.")
@click.option("--max-depth", type=click.IntRange(min=1), default=200, show_default=True,
              metavar="N", help="Steps per run at most.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              metavar="N", help="Processes running runs in parallel.")
@click.option("--only", multiple=True, metavar="PROPERTY",
              help="Check only this invariant (repeatable).")
@_workload_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--diagram", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Draw the counterexample as a message sequence chart (.svg, .png or .dot).")
@click.option("--ghosts", is_flag=True,
              help="Actor specs: show ghost fields in the trace, JSON and --diagram.")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for spec errors.")
@_stop_on_signals
def simulate_command(
    spec: str, params: tuple[str, ...], seed: int, runs: int | None,
    time_limit: float | None, max_depth: int, workers: int, only: tuple[str, ...],
    writes: int | None, reads: int | None, faults: str | None, as_json: bool,
    diagram: Path | None, ghosts: bool, debug: bool,
) -> None:
    """Look for violations of SPEC's invariants by random runs.

    Each run takes random steps from an initial state, with its own swarm
    configuration (step weights, fault mix), checking every invariant in
    every state. A violation is shrunk to a shorter run and printed as
    `check` prints one. Finding nothing proves nothing.

    \b
    Exit status:
      1  a property is violated (a shrunk counterexample is printed)
      2  usage or spec error
      3  no violation found (runs or time used up, Ctrl-C or SIGTERM):
         nothing is proven (as for an incomplete check)
    """
    if runs is None and time_limit is None:
        runs = 1000
    settings = Settings(seed, runs, time_limit, max_depth, workers)
    options = Options(writes=writes, faults=faults, only=only, ghosts=ghosts, reads=reads)
    try:
        if diagram is not None:
            check_format(diagram)
            check_file(diagram, "--diagram")
        report = run_simulation(spec, params, options, settings)
        chart = sequence_chart(report.to_json()) if diagram is not None and report.steps else None
    except SpecError as exc:
        _fail(exc, debug)
    _print(report, as_json)
    if diagram is not None and chart is None:
        click.echo(f"note: no counterexample, so no diagram written to {diagram}", err=True)
    elif chart is not None:
        try:
            click.echo(f"wrote {save(chart, diagram)}", err=True)
        except MissingDot as exc:
            click.echo(f"warning: {exc}", err=True)
    sys.exit(report.exit_code)


@main.command(name="list")
def list_specs() -> None:
    """List the shipped specs with their parameters and defaults."""
    for name in shipped():
        try:
            spec = load(name)
        except SpecError as exc:
            click.echo(f"{name:<14} (broken: {exc})")
            continue
        params = " ".join(p.describe() for p in spec.parameters.values())
        click.echo(f"{name:<14} {spec.summary}")
        click.echo(f"{'':<14} parameters: {params or 'none'}")


@main.command()
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("counterexamples"),
    show_default=True, help="Directory to (re)generate.",
)
@click.option("--check", "check_only", is_flag=True, help="Only report stale files (exit 1 if any).")
def gallery(out: Path, check_only: bool) -> None:
    """Regenerate the counterexamples of every violating shipped variant."""
    try:
        if check_only:
            if not out.is_dir():
                raise SpecError(f"--out {out}: no such directory, so nothing to check "
                                "(drop --check to write the gallery there)")
            stale = stale_files(out)
            for name in stale:
                click.echo(f"stale: {out / name}")
            click.echo(f"{len(stale)} stale file(s)" if stale else "counterexamples are up to date")
            sys.exit(1 if stale else 0)
        check_directory(out, "--out")
        for path in write_gallery(out):
            click.echo(f"wrote {path}")
    except SpecError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


@main.command()
@click.argument("trace", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
    metavar="FILE", help="The chart to write (.svg, .png or .dot).",
)
@click.option(
    "--fields", callback=_field_list, metavar="NAME,...",
    help="The node fields the chart shows (default: those that change in the trace).",
)
def render(trace: Path, output: Path, fields: tuple[str, ...]) -> None:
    """Draw a saved JSON trace (from `check --json`) as a sequence chart."""
    try:
        check_format(output)
        check_file(output, "--output")
        try:
            report = json.loads(trace.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SpecError(f"{trace} is not a JSON trace from `modelcheck check --json`: {exc}")
        if not isinstance(report, dict) or "trace" not in report:
            raise SpecError(f"{trace} has no \"trace\": expected `modelcheck check --json` output")
        click.echo(f"wrote {save(sequence_chart(report, fields), output)}")
    except SpecError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


@main.command(name="sweep")
@click.argument("spec")
@click.option(
    "-p", "--param", "params", multiple=True, metavar="NAME=V1,V2,...",
    help="Values to try for a parameter (repeatable); a single value fixes it.",
)
@click.option(
    "--faults", "budgets", multiple=True, metavar="KIND=N,...",
    help="A fault budget to try (repeatable). Default: the spec's.",
)
@click.option("--writes", type=click.IntRange(min=0), metavar="K",
              help="Actor specs: how many writes the client issues.")
@click.option("--reads", type=click.IntRange(min=0), metavar="K", help=READS_HELP)
@click.option("--only", multiple=True, metavar="PROPERTY",
              help="Check only this property (repeatable).")
@click.option("--max-depth", type=click.IntRange(min=1), metavar="N", help="Per check.")
@click.option("--max-states", type=click.IntRange(min=1), metavar="N", help="Per check.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Per check.")
@click.option("--unreachable", type=click.IntRange(min=0), metavar="U",
              help="Actor specs: judge availability with every set of U nodes unreachable "
                   "(as check --unreachable) in place of the @recoverable properties.")
@_worker_options
@click.option("--markdown", is_flag=True, help="Print the table as Markdown.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
@_engine_options
@click.option("--debug", is_flag=True, help="Show Python tracebacks for spec errors.")
@_stop_on_signals
def sweep_command(
    spec: str, params: tuple[str, ...], budgets: tuple[str, ...], writes: int | None,
    reads: int | None, only: tuple[str, ...], max_depth: int | None, max_states: int | None,
    time_limit: float | None, unreachable: int | None, workers: int, backend: str,
    address: str | None, markdown: bool, as_json: bool, store: str, memory: int | None,
    por: bool | None, debug: bool,
) -> None:
    """Check SPEC at every combination of parameter values and fault budgets.

    Tabulates, per combination, safety (the first invariant broken and the
    length of its shortest counterexample) and recovery (the @recoverable
    properties, checked on their own when an invariant broke first), or,
    with --unreachable U, availability with U nodes unreachable for good.
    Combinations the spec refuses are listed as invalid.

    \b
    Example:
      modelcheck sweep kafka -p version=3.4,kip966 \\
        --faults power_loss=1 --faults power_loss=1,crash=1 --time-limit 120

    \b
    Exit status:
      0  the sweep ran (whatever the verdicts)
      2  usage or spec error
      3  Ctrl-C or SIGTERM cut it short: the rows so far are printed, the
         check under way as interrupted, the others as not started
    """
    options = Options(writes=writes, max_depth=max_depth, max_states=max_states,
                      time_limit=time_limit, only=only, store=store, memory=memory,
                      workers=workers, backend=backend, address=address,
                      unreachable=unreachable, reads=reads, por=por)

    def report(row) -> None:
        where = " ".join(f"{k}={v}" for k, v in row.params.items())
        if row.faults:
            where += f" faults={row.faults}"
        second = (f"available {row.available.text()}" if unreachable is not None
                  else f"recovery {row.recovery.text()}")
        result = (f"invalid ({row.invalid})" if row.invalid is not None else
                  f"safety {row.safety.text()}; {second}; {row.seconds:.1f} s")
        click.echo(f"{where or spec}: {result}", err=True)

    try:
        values = parse_sweep(params)
        rows = sweep(spec, values, list(budgets) or [None], options, on_row=report)
    except SpecError as exc:
        if debug:
            traceback.print_exception(exc)
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if as_json:
        click.echo(json.dumps(to_json(rows), indent=2, ensure_ascii=False))
    else:
        swept = [name for name, choices in values.items() if len(choices) > 1]
        fixed = [f"{name}={choices[0]}" for name, choices in values.items() if len(choices) == 1]
        if fixed:  # in Markdown, a paragraph before the table
            click.echo(f"{spec} with {', '.join(fixed)}" + ("\n" if markdown else ""))
        click.echo(table(rows, swept, markdown))
    sys.exit(EXIT_INCOMPLETE if interrupted(rows) else EXIT_OK)


#: Relative, so that each checkout keeps its own results.
DEFAULT_FRONTIER_CACHE = Path(".modelcheck-cache/frontier")


@main.command(name="frontier")
@click.argument("spec")
@click.option("-p", "--param", "fixed", multiple=True, metavar="NAME=VALUE",
              help="A parameter every design gets (repeatable), e.g. terms=1.")
@click.option("--nodes", default="3..5", show_default=True, metavar="LOW..HIGH",
              help="Cluster sizes n.")
@click.option("--unreachable", default="0..2", show_default=True, metavar="LOW..HIGH",
              help="How many nodes are unreachable for good (u).")
@click.option("--losses", default="0..2", show_default=True, metavar="LOW..HIGH",
              help="How many power losses (k).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Per search; a cell it cuts short is undecided.")
@click.option("--max-states", type=click.IntRange(min=1), metavar="N", help="Per search.")
@click.option("--cell-time", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Per cell: start no search after SECONDS; designs left are shown as not "
                   "searched (the cell is undecided unless a witness was found).")
@click.option("--jobs", type=click.IntRange(min=1), default=2, show_default=True, metavar="N",
              help="Searches run in parallel processes.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_FRONTIER_CACHE, show_default=True,
              help="Where search results are kept (keyed by spec content, parameters, budget).")
@click.option("--all-witnesses", is_flag=True,
              help="Judge every design in full (a design a search found stuck is also searched for "
                   "lost writes); by default a cell's column stops at its first witness.")
@click.option("--from-cache", is_flag=True,
              help="Search nothing: print what the cache holds, the rest as not searched.")
@click.option("--markdown", is_flag=True, help="Print the whole frontier as a Markdown document.")
@click.option("--notes", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="FILE", help="With --markdown: Markdown written by hand to follow the table.")
@click.option("--json", "as_json", is_flag=True, help="Print every cell and design as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the summary table as CSV.")
@_stop_on_signals
def frontier_command(
    spec: str, fixed: tuple[str, ...], nodes: str, unreachable: str, losses: str,
    time_limit: float | None, max_states: int | None, cell_time: float | None, jobs: int,
    cache_dir: Path,
    all_witnesses: bool, from_cache: bool,
    markdown: bool, notes: Path | None, as_json: bool, as_csv: bool,
) -> None:
    """For each cell (n nodes, u unreachable, k power losses), is some design
    of the family SPEC durable and available?

    SPEC must have parameters nodes, W (commit quorum), R (election quorum)
    and fsync; its other choice parameters are enumerated too. Prints, per
    cell, the answer without log fsync and with fsync=always, the witness
    designs, and how the answer compares with the bound n >= 2u + k + 1.

    \b
    Example:
      modelcheck frontier quorum_log --nodes 3 --unreachable 1 --losses 1

    \b
    Exit status:
      0  the frontier ran (whatever the answers)
      2  usage or spec error
      3  Ctrl-C or SIGTERM cut it short: searches finished so far are
         printed (and cached), the others as not searched
    """
    from modelcheck import frontier

    try:
        if sum((markdown, as_json, as_csv)) > 1:
            raise SpecError("--markdown, --json and --csv are alternatives: give one")
        if not from_cache:
            check_directory(cache_dir, "--cache")
        sizes = frontier.parse_range(nodes, "--nodes")
        cuts = frontier.parse_range(unreachable, "--unreachable")
        faults = frontier.parse_range(losses, "--losses")
        budget = frontier.Budget(time_limit, max_states)
        run = frontier.Frontier(spec, budget, frontier.Cache(cache_dir), jobs, all_witnesses,
                                fixed, from_cache, cell_time,
                                on_search=lambda line: click.echo(line, err=True))
        cells = run.cells(sizes, cuts, faults)
    except SpecError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    c = run.counts
    click.echo(f"{c.searched} searched, {c.cached} from the cache, {c.inferred} inferred",
               err=True)
    if as_json:
        click.echo(json.dumps(frontier.to_json(cells), indent=2, ensure_ascii=False))
    elif as_csv:
        click.echo(frontier.csv_table(cells), nl=False)
    elif markdown:
        command = ["modelcheck", "frontier", spec, *(f"-p {a}" for a in fixed),
                   "--nodes", nodes, "--unreachable", unreachable, "--losses", losses]
        if time_limit is not None:
            command += ["--time-limit", f"{time_limit:g}"]
        if max_states is not None:
            command += ["--max-states", str(max_states)]
        if cell_time is not None:
            command += ["--cell-time", f"{cell_time:g}"]
        if all_witnesses:
            command.append("--all-witnesses")
        if cache_dir != DEFAULT_FRONTIER_CACHE:
            command += ["--cache", str(cache_dir)]
        if notes is not None:
            command += ["--notes", str(notes)]
        text = notes.read_text(encoding="utf-8") if notes is not None else ""
        click.echo(frontier.document(cells, " ".join(command) + " --markdown", budget,
                                     from_cache, text, cell_time), nl=False)
    else:
        click.echo(frontier.text_table(cells))
    sys.exit(EXIT_INCOMPLETE if interrupt.requested() else EXIT_OK)


@main.command(name="explore")
@click.argument("spec")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Set a spec parameter (repeatable).")
@_workload_options
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8765, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
@click.option("--gallery", "gallery_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Counterexamples the page can open. Default: the checkout's counterexamples/.")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for spec errors.")
def explore_command(spec: str, params: tuple[str, ...], writes: int | None, reads: int | None,
                    faults: str | None, port: int, open_browser: bool, gallery_dir: Path | None, debug: bool) -> None:
    """Step through SPEC by hand in a web page served on 127.0.0.1.

    The page shows the state (nodes, disks with unsynced writes marked,
    messages, acknowledgements, fault budget), every enabled step including
    faults, the properties, and the path as a sequence chart; it opens
    counterexamples and runs checks. Stop it with Ctrl-C.
    """
    import webbrowser

    from modelcheck.explorer.server import Explorer, ExplorerServer
    from modelcheck.explorer.session import Library, ModelChoice
    from modelcheck.load import SHIPPED_DIR

    try:
        library = Library(spec)
        home = ModelChoice(library.home.name, params, writes, faults, reads)
        gallery = gallery_dir if gallery_dir is not None else SHIPPED_DIR.parent / "counterexamples"
        server = ExplorerServer(Explorer(library, home, gallery), port)
    except SpecError as exc:
        _fail(exc, debug)
    except OSError as exc:
        _fail(SpecError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}"
                        " (another program uses the port? try --port 0)"), debug)
    # Ctrl-C must stop the server even if our parent started us with SIGINT
    # ignored (Python then installs no KeyboardInterrupt handler of its own).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    click.echo(f"modelcheck explorer at {server.url} (Ctrl-C stops it)")
    if open_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.explorer.checks.stop()
        server.server_close()
