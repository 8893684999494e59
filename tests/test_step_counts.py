"""'N steps' means what the trace shows: the number of its last line (the
initial state is step 1), in the gallery's index, in sweep and in frontier."""

import re
from pathlib import Path

from click.testing import CliRunner

from modelcheck.cli import main
from modelcheck.frontier import CACHE_FORMAT, Budget, Cache

GALLERY = Path(__file__).parents[1] / "counterexamples"


def last_step_number(trace_text):
    return int(re.findall(r"^ *(\d+)\. ", trace_text, re.M)[-1])


def test_gallery_index_counts_as_its_traces_number():
    rows = re.findall(r"^\| \[([^\]]+)\].*\| (\d+) \| `", (GALLERY / "README.md").read_text(),
                      re.M)
    assert len(rows) == len(list(GALLERY.glob("*.txt")))
    for stem, steps in rows:
        assert int(steps) == last_step_number((GALLERY / f"{stem}.txt").read_text()), stem


def test_sweep_counts_as_check_numbers():
    runner = CliRunner()
    swept = runner.invoke(main, ["sweep", "two_phase", "-p", "bug=commit_early"])
    steps = int(re.search(r"✗ TCConsistent, (\d+) steps", swept.output).group(1))
    checked = runner.invoke(main, ["check", "two_phase", "-p", "bug=commit_early"])
    assert checked.exit_code == 1
    assert steps == last_step_number(checked.output)


def test_frontier_results_cached_by_the_old_format_are_counted_anew(tmp_path):
    # Format 1 stored transitions: read back, they gain the initial state.
    cache = Cache(tmp_path)
    key = {"format": CACHE_FORMAT, "design": "x"}
    cache.put({**key, "format": 1}, Budget(), {"verdict": "violation", "steps": 6})
    cache.put({**key, "format": 1, "design": "y"}, Budget(), {"verdict": "ok", "steps": 0})
    assert cache.get(key, Budget())["steps"] == 7
    assert cache.get({**key, "design": "y"}, Budget())["steps"] == 0
    cache.put(key, Budget(), {"verdict": "violation", "steps": 9})
    assert cache.get(key, Budget())["steps"] == 9
