"""Progress of a long search on stderr.

On a terminal, one line redrawn in place; otherwise (a log file, CI, a
pipe) a plain line every ``LOG_EVERY`` seconds.  Nothing for the first
``DELAY`` seconds, so quick runs stay clean; ``--quiet`` silences it.  A
line gives the level and how far its expansion got, distinct and kept
states, states kept per second, the next level's size so far, memory in
use, and the time the level still needs at the current rate.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from modelcheck.engine import Stats

#: Seconds before the first line, between redraws on a terminal, and between
#: lines elsewhere.
DELAY = 1.5
REDRAW = 0.25
LOG_EVERY = 10.0


def describe(stats: Stats) -> str:
    """One progress line (without time stamp)."""
    parts = [f"level {stats.depth:,}"]
    if stats.frontier:
        done = stats.level_expanded / stats.frontier
        parts[0] += f" {done:.0%}"
    parts.append(f"{stats.distinct_states:,} states")
    if stats.kept_states != stats.distinct_states:
        parts.append(f"{stats.kept_states:,} kept")
    parts.append(f"{stats.states_per_second:,.0f} states/s")
    parts.append(f"frontier {stats.frontier:,}")
    if stats.memory:
        parts.append(f"{stats.memory / 2**20:,.0f} MiB")
    rate = stats.expanded / stats.seconds if stats.seconds else 0.0
    if rate and stats.frontier:
        parts.append(f"level ETA {duration((stats.frontier - stats.level_expanded) / rate)}")
    return " · ".join(parts)


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ProgressLine:
    """A progress callback for ``explore``; call ``close`` when the search ends."""

    def __init__(self, stream: TextIO = sys.stderr, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.drawn = False

    def __call__(self, stats: Stats) -> None:
        if self._due():
            self._draw(describe(stats))

    def say(self, line: Callable[[], str]) -> None:
        """Show the line ``line()`` makes (called only when a line is due), for
        a phase that is not a breadth-first search, paced like the others."""
        if self._due():
            self._draw(line())

    def _due(self) -> bool:
        now = time.monotonic()
        every = REDRAW if self.tty else LOG_EVERY
        return not (self.quiet or now - self.started < DELAY or now - self.last_draw < every)

    def _draw(self, line: str) -> None:
        now = self.last_draw = time.monotonic()
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
            self.drawn = True
        else:
            self.stream.write(f"[{now - self.started:,.0f} s] {line}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
