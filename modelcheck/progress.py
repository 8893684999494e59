"""A live one-line progress display on stderr, for runs worth watching.

Shown only when stderr is a terminal and the run has lasted a moment, so
pipes, CI logs and quick runs stay clean.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from modelcheck.engine import Stats

#: Seconds before the line first appears, and between redraws.
DELAY = 1.5
REDRAW = 0.25


class ProgressLine:
    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.drawn = False

    def __call__(self, stats: Stats) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.started < DELAY or now - self.last_draw < REDRAW:
            return
        self.last_draw = now
        line = (
            f"level {stats.depth:,} · {stats.distinct_states:,} states · "
            f"{stats.states_per_second:,.0f} states/s · frontier {stats.frontier:,}"
        )
        self.stream.write("\r\x1b[2K" + line)
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
