"""Progress lines: plain lines on a non-terminal, nothing when quiet or early."""

import io

from modelcheck.engine import Stats
from modelcheck.progress import DELAY, LOG_EVERY, ProgressLine


def stats():
    return Stats(distinct_states=6000, kept_states=1000, depth=7, seconds=2.0, frontier=400,
                 memory=64 << 20, expanded=800, level_expanded=100)


def test_a_line_every_few_seconds_when_not_a_terminal():
    stream = io.StringIO()
    progress = ProgressLine(stream)
    progress(stats())
    assert stream.getvalue() == ""  # too early
    progress.started -= DELAY + 1
    progress(stats())
    progress(stats())  # too soon after the first line
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    # 100 of the level's 400 states done; 300 left at 800 states per 2 s.
    assert "level 7 25%" in lines[0] and "6,000 states" in lines[0] and "1,000 kept" in lines[0]
    assert "500 states/s" in lines[0] and "frontier 400" in lines[0] and "64 MiB" in lines[0]
    assert "level ETA 1 s" in lines[0]
    progress.last_draw -= LOG_EVERY
    progress(stats())
    assert len(stream.getvalue().splitlines()) == 2


def test_quiet_prints_nothing():
    stream = io.StringIO()
    progress = ProgressLine(stream, quiet=True)
    progress.started -= DELAY + 1
    progress(stats())
    progress.close()
    assert stream.getvalue() == ""
