"""The searches too long for the test suite, which checks them at a smaller
bound or by replaying a committed trace; each against that test-suite
version, in the same run.

    python bench/long_searches.py [--only NAME]

- raft-never: the gallery's trace, searched again (the test suite replays
  the committed one): the search must print the committed text, and a
  search bounded one level short of it must find nothing (minimality).
- raft-always: fsync=always is durable and safe with the default two
  writes (the test suite: one write).
- kip966: KIP-966 is durable under one power loss at the default bound,
  three epochs and two records (the test suite: two epochs, one record).
- kip966-stuck: the gallery's search, which also finds no invariant broken
  anywhere (the test suite replays the committed trace and checks that the
  property is lost at its last state and not before).
- paxos-pml: Multi-Paxos with fsync=never and Paxos Made Live's rejoin is
  durable with two ballots (the test suite: one ballot, and the runs that
  break each part of the rejoin rule with two, walked step by step).
- raft-partitions: allowing a partition besides the power loss does not
  shorten Raft log_async's loss, since partitions only delay messages (the
  test suite checks that on every state at small bounds, in
  tests/test_partitions.py).

Exits 1 if a verdict or the gallery text is not what is expected.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modelcheck import explore  # noqa: E402
from modelcheck.actors.faults import FaultBudget  # noqa: E402
from modelcheck.gallery import variants  # noqa: E402
from modelcheck.load import load  # noqa: E402
from modelcheck.run import run  # noqa: E402


def searched(label: str, spec: str, params: list[str], writes: int | None = None,
             faults: str | None = None, **limits) -> tuple[str, float, int]:
    loaded = load(spec)
    model = loaded.build(loaded.resolve(params))
    model.configure(writes=writes, faults=FaultBudget.parse(faults) if faults else None)
    started = time.perf_counter()
    outcome = explore(model, symmetry=True, **limits)
    seconds = time.perf_counter() - started
    print(f"  {label:<44} {outcome.verdict:<10} {outcome.stats.kept_states:>10,} kept "
          f"{seconds:>8.1f} s", flush=True)
    return outcome.verdict, seconds, len(outcome.path)


def reprinted(spec: str, name: str):
    """The gallery variant's search, and whether it prints the committed text."""
    example = next(e for s, e in variants() if s == spec and e.name == name)
    started = time.perf_counter()
    report = run(spec, example.params, example.options)
    seconds = time.perf_counter() - started
    text = f"$ {example.command(spec)}\n{report.to_text(timing=False)}\n"
    same = text == (ROOT / "counterexamples" / f"{spec}-{name}.txt").read_text()
    print(f"  {'search (the gallery command)':<44} {report.outcome.verdict:<10} "
          f"{report.outcome.stats.kept_states:>10,} kept {seconds:>8.1f} s; "
          f"committed text {'reprinted' if same else 'DIFFERS'}", flush=True)
    return same and report.outcome.verdict == "violation", report


def raft_never() -> bool:
    same, report = reprinted("raft", "never")
    depth = len(report.outcome.path)
    shorter, _, _ = searched(f"bounded to depth {depth - 1}", "raft", ["fsync=never"],
                             only=("durability",), max_depth=depth - 1)
    return same and shorter != "violation"


def compared(full: tuple[str, list[str], int | None], small: tuple[str, list[str], int | None],
             expected: str) -> bool:
    spec, params, writes = small
    verdict_small, small_seconds, _ = searched(f"test-suite bound: {' '.join(params)} "
                                               f"writes={writes}", spec, params, writes)
    spec, params, writes = full
    verdict, seconds, _ = searched(f"default bound: {' '.join(params)}", spec, params, writes)
    print(f"  default bound / test-suite bound: {seconds / small_seconds:.1f}x the time")
    return verdict == expected and verdict_small == expected


def raft_partitions() -> bool:
    lengths = []
    for faults in ("power_loss=1", "power_loss=1,partition=1"):
        verdict, _, length = searched(f"log_async, {faults}", "raft", ["fsync=log_async"],
                                      faults=faults, only=("durability",))
        lengths.append(length if verdict == "violation" else None)
    print(f"  trace lengths: {lengths[0]} without partitions, {lengths[1]} with")
    return lengths[0] is not None and lengths[0] == lengths[1]


CASES = {
    "raft-never": raft_never,
    "raft-always": lambda: compared(("raft", ["fsync=always"], None),
                                    ("raft", ["fsync=always"], 1), "ok"),
    "kip966": lambda: compared(("kafka", ["version=kip966"], None),
                               ("kafka", ["version=kip966", "epochs=2"], 1), "ok"),
    "paxos-pml": lambda: compared(("multi_paxos", ["fsync=never", "rejoin=pml"], None),
                                  ("multi_paxos", ["fsync=never", "rejoin=pml", "ballots=1"],
                                   None), "ok"),
    "raft-partitions": raft_partitions,
    "kip966-stuck": lambda: reprinted("kafka", "kip966-stuck")[0],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(CASES), action="append")
    args = parser.parse_args()
    failed = []
    for name in args.only or CASES:
        print(name, flush=True)
        if not CASES[name]():
            failed.append(name)
    if failed:
        print(f"not as expected: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
