"""The ``modelcheck`` command line."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import click

from modelcheck.errors import SpecError
from modelcheck.gallery import stale_files, write_gallery
from modelcheck.load import load, shipped
from modelcheck.progress import ProgressLine
from modelcheck.report import EXIT_USAGE
from modelcheck.run import Options, run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="modelcheck")
def main() -> None:
    """Exhaustive model checking for replication protocols.

    Explores every interleaving of protocol steps (and, for actor specs,
    partitions, crashes and loss of unsynced writes) breadth-first, and prints
    a shortest counterexample when a property breaks.
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
    "--writes", type=click.IntRange(min=0), metavar="K",
    help="Actor specs: how many writes the client issues (default: the spec's).",
)
@click.option(
    "--faults", metavar="KIND=N,...",
    help="Actor specs: fault budget, e.g. power_loss=1,crash=1,partition=2,drop=0,"
    "duplicate=0. Kinds not named get 0. Default: the spec's.",
)
@click.option(
    "--minimize", type=click.Choice(["steps", "faults"]), default="steps", show_default=True,
    help="Actor specs: shortest counterexample, or fewest faults first (then shortest).",
)
@click.option("--debug", is_flag=True, help="Show Python tracebacks for spec errors.")
def check(
    spec: str,
    params: tuple[str, ...],
    as_json: bool,
    max_depth: int | None,
    max_states: int | None,
    time_limit: float | None,
    deadlock: bool,
    writes: int | None,
    faults: str | None,
    minimize: str,
    debug: bool,
) -> None:
    """Check every reachable state of SPEC.

    SPEC is a spec file (path/to/spec.py) or the name of a shipped spec.

    \b
    Exit status:
      0  every property holds on the complete state space
      1  a property is violated (a shortest counterexample is printed)
      2  usage or spec error
      3  incomplete: a limit was reached before the search finished
    """
    progress = ProgressLine()
    options = Options(writes, faults, minimize, max_depth, max_states, time_limit, deadlock)
    try:
        report = run(spec, params, options, progress)
    except SpecError as exc:
        progress.close()
        if debug:
            traceback.print_exception(exc)
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    progress.close()
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.to_text())
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
            stale = stale_files(out)
            for name in stale:
                click.echo(f"stale: {out / name}")
            click.echo(f"{len(stale)} stale file(s)" if stale else "counterexamples are up to date")
            sys.exit(1 if stale else 0)
        for path in write_gallery(out):
            click.echo(f"wrote {path}")
    except SpecError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
