"""The fingerprint store: bytes per kept state and speed against the exact store.

    python bench/fingerprint_store.py memory SPEC [check options]
        one fingerprint search in this process: peak RSS growth over kept
        states (VmHWM at the end minus RSS before the search), time, counts
    python bench/fingerprint_store.py speed SPEC [check options]
        the same search with the exact store and the fingerprint store, one
        after the other in this process: times and their ratio

Options are those of ``modelcheck check`` that shape the search (-p, --writes,
--faults, --no-symmetry, --max-states, --time-limit).

Measured 2026-11-30, this machine kind (2 cores), heavily loaded by other
jobs (load average 13-19), so absolute times are several times those of a
quiet machine; compare ratios only:

* ``memory two_phase -p n=9 --no-symmetry``: ok, 10,340,352 states (depth
  29), RSS 34 MiB before, 243 MiB peak: 21.2 bytes per kept state;
  3,144 s (3,289 states/s, under load).
* the same TwoPhase n=9 run on a quiet machine (load 1-1.5), 2026-11-30
  22:47: ok, 10,340,352 states, depth 29, 324.4 s (31,874 states/s); RSS
  36 MiB before, 241 MiB peak: 20.8 bytes per kept state.  TLC's 59k
  states/s (n=8, 2 workers) would take about 175 s: 1.85x, on one core.
* ``memory raft -p fsync=always --faults power_loss=1,partition=2`` (the
  issue's 17.5M-kept run), 2026-11-30 19:31-20:35, on one core beside one
  or two other searches (load 1.5-3): ok, 17,536,896 kept (the exact
  store's count), 105,192,036 distinct, depth 30, in 3,805 s (4,609 kept/s);
  RSS 36 MiB before, 426 MiB peak: 23.3 bytes per kept state, and 0.42 GiB
  against the 1.5 GB asked for (the exact store took 8.8 GB).  The peak
  came with the table's last doubling, at about 13.5M kept (277 -> 412 MiB).
* ``speed two_phase -p n=6 --no-symmetry``: fingerprint / exact time 2.0-2.1
  (TwoPhase's steps are cheap, so the fingerprint dominates).
* Raft ``fsync=log_async`` with symmetry (96,870 kept), back to back:
  exact 28.9 s, fingerprint 38.3 s (1.3x).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from modelcheck.engine.memory import rss  # noqa: E402
from modelcheck.progress import ProgressLine  # noqa: E402
from modelcheck.run import Options, run  # noqa: E402


def peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def parse(argv: list[str]) -> tuple[str, str, list[str], Options]:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["memory", "speed"])
    parser.add_argument("spec")
    parser.add_argument("-p", dest="params", action="append", default=[])
    parser.add_argument("--writes", type=int)
    parser.add_argument("--faults")
    parser.add_argument("--no-symmetry", action="store_true")
    parser.add_argument("--max-states", type=int)
    parser.add_argument("--time-limit", type=float)
    args = parser.parse_args(argv)
    options = Options(writes=args.writes, faults=args.faults,
                      symmetry=False if args.no_symmetry else None,
                      max_states=args.max_states, time_limit=args.time_limit)
    return args.mode, args.spec, args.params, options


def show(label: str, report, seconds: float) -> None:
    s = report.outcome.stats
    print(f"{label}: {report.outcome.verdict}, {s.distinct_states:,} distinct, "
          f"{s.kept_states:,} kept, depth {s.depth}, {seconds:,.1f} s, "
          f"{s.kept_states / seconds:,.0f} kept/s", flush=True)


def main(argv: list[str]) -> None:
    mode, spec, params, options = parse(argv)
    if mode == "memory":
        before = rss()
        started = time.perf_counter()
        report = run(spec, params, Options(**{**options.__dict__, "store": "fingerprint"}),
                     ProgressLine())  # on stderr: partial figures if the run is cut short
        seconds = time.perf_counter() - started
        show("fingerprint", report, seconds)
        growth = peak_rss() - before
        kept = report.outcome.stats.kept_states
        print(f"RSS before {before / 2**20:,.0f} MiB, peak {peak_rss() / 2**20:,.0f} MiB, "
              f"growth {growth / 2**20:,.0f} MiB = {growth / kept:.1f} bytes per kept state")
        return
    times = {}
    for store in ("exact", "fingerprint"):
        started = time.perf_counter()
        report = run(spec, params, Options(**{**options.__dict__, "store": store}))
        times[store] = time.perf_counter() - started
        show(store, report, times[store])
    print(f"fingerprint / exact time: {times['fingerprint'] / times['exact']:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
