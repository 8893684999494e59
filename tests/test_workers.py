"""--workers N: the partitioned search must report exactly what one process does.

Each case runs the one-process search and the partitioned one with 1, 2 and
3 workers, and compares the whole report (verdict, property, distinct and
kept states, transitions, depth, the counterexample step by step), timing
aside.  The cases cover every way a search ends: complete, a broken
invariant, a stuck state (@recoverable), a deadlock, each limit, and a spec
error raised inside a worker.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelcheck.actors.network import Message
from modelcheck.cli import main
from modelcheck.engine.share import forked_owner
from modelcheck.run import Options, run

ROOT = Path(__file__).resolve().parent.parent
LADDER = str(ROOT / "tests" / "ladder_spec.py")

CASES = [
    pytest.param("two_phase", ["n=4"], Options(), id="two_phase-ok"),
    pytest.param("two_phase", ["n=3", "bug=commit_early"], Options(), id="two_phase-violation"),
    pytest.param("two_phase", ["n=4"], Options(symmetry=False, max_states=700),
                 id="two_phase-max-states"),
    pytest.param("two_phase", ["n=4"], Options(max_depth=6), id="two_phase-max-depth"),
    pytest.param("two_phase", ["n=3"], Options(deadlock=True), id="two_phase-deadlock"),
    pytest.param(LADDER, [], Options(), id="ladder-stuck"),
    pytest.param("raft", ["fsync=never"], Options(only=("election_safety",)),
                 id="raft-violation"),
    pytest.param("raft", ["fsync=log_async"], Options(writes=1, max_depth=8), id="raft-max-depth"),
    pytest.param("kafka", ["version=3.4"], Options(writes=1), id="kafka-violation"),
    pytest.param("kafka", ["version=3.4", "epochs=2"], Options(writes=1, faults="none"),
                 id="kafka-ok-available"),
    pytest.param("quorum_log", ["terms=1"], Options(), id="quorum_log-ok"),
    pytest.param("quorum_log", ["fsync=log_async"], Options(), id="quorum_log-violation"),
]


def report(spec, params, options):
    # Workers take every step (no sleep sets there yet), so the one-process
    # search they are compared with does too: the same steps counted.
    return run(spec, params, replace(options, por=False)).to_json(timing=False)


@pytest.mark.parametrize(("spec", "params", "options"), CASES)
def test_same_report_for_every_number_of_workers(spec, params, options):
    alone = report(spec, params, options)
    for workers in (2, 3):
        assert report(spec, params, replace(options, workers=workers)) == alone, workers


FINGERPRINTED = ["two_phase-ok", "two_phase-violation", "two_phase-max-states",
                 "raft-violation", "quorum_log-ok", "quorum_log-violation"]


@pytest.mark.parametrize(("spec", "params", "options"), [
    *(case for case in CASES if case.id in FINGERPRINTED),
    # Raft comes back to states of earlier levels: each must be known stored.
    pytest.param("raft", ["fsync=always"], Options(writes=1, max_depth=9), id="raft-revisits"),
])
def test_workers_keeping_fingerprints_report_what_one_process_does(spec, params, options):
    """--store fingerprint: the workers keep the fingerprints of the states
    they own, and report what the one-process fingerprint search does."""
    options = replace(options, store="fingerprint")
    alone = report(spec, params, options)
    assert alone["store"] == "fingerprint"
    for workers in (2, 3):
        assert report(spec, params, replace(options, workers=workers)) == alone, workers


def test_fingerprints_on_workers_refuse_recoverable_properties(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", LADDER, "--workers", "2",
                                       "--store", "fingerprint"])
    assert result.exit_code == 2 and "checks invariants only" in result.output, result.output
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_single_worker_process_too():
    options = Options(writes=1)
    assert report("kafka", ["version=3.4"], replace(options, workers=1, backend="processes")) \
        == report("kafka", ["version=3.4"], options)


def test_fewest_faults_first():
    options = Options(minimize="faults", faults="power_loss=1,crash=1", writes=1)
    params = ["version=3.4", "epochs=2"]
    alone = report("kafka", params, options)
    assert alone["verdict"] == "violation"
    assert report("kafka", params, replace(options, workers=2)) == alone


def test_sweep_passes_workers_on():
    runner = CliRunner()
    args = ["sweep", "two_phase", "-p", "n=3,4", "-p", "bug=none,commit_early", "--json"]
    alone = runner.invoke(main, args)
    shared = runner.invoke(main, [*args, "--workers", "2"])
    assert alone.exit_code == shared.exit_code == 0, shared.output

    def without_timing(text):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in json.loads(text)]

    assert without_timing(shared.stdout) == without_timing(alone.stdout)


RAISING = """\
    from modelcheck import Model, invariant

    class Boom(Model):
        def initial_states(self):
            yield 0

        def successors(self, x):
            if x == 4:
                1 / 0
            yield "inc", x + 1
            yield "double", 2 * x + 1

        @invariant
        def fine(self, x):
            return True
    """


def test_a_spec_error_in_a_worker_reads_as_in_one_process(tmp_path):
    spec = tmp_path / "boom.py"
    spec.write_text(textwrap.dedent(RAISING))
    runner = CliRunner()
    alone = runner.invoke(main, ["check", str(spec)])
    shared = runner.invoke(main, ["check", str(spec), "--workers", "2"])
    assert alone.exit_code == shared.exit_code == 2
    assert "ZeroDivisionError" in shared.output and "Traceback" not in shared.output
    assert shared.output == alone.output


def test_refuses_address_without_ray():
    result = CliRunner().invoke(main, ["check", "two_phase", "--address", "auto"])
    assert result.exit_code == 2 and "--backend ray" in result.output


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find worker processes")
def test_ctrl_c_leaves_no_worker_running():
    process = subprocess.Popen(
        [sys.executable, "-m", "modelcheck", "check", "raft", "-p", "fsync=always",
         "--workers", "2"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        workers = _children(process.pid)
    assert len(workers) == 2, "the workers did not start"
    os.killpg(process.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    process.wait(timeout=120)  # generous: the machine may be loaded
    time.sleep(0.5)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert not alive
    assert "Traceback" not in process.stderr.read().decode()


OWNERS = """\
import sys
from modelcheck.engine.share import owner
from modelcheck.run import Options, build

model = build("kafka", ["version=3.4"], Options(writes=1))[1]
level, seen = list(model.initial_states()), []
while level and len(seen) < 400:
    level = [t for s in level for _, t in model.successors(s)]
    seen += level
print([owner(s, 3) for s in seen[:400]])
"""


def test_owners_are_the_same_in_every_process():
    """Workers started apart (Ray, other machines) must agree on who owns a state,
    whatever their hash seeds: fork-started workers would hide a salted hash."""
    answers = {
        subprocess.run([sys.executable, "-c", OWNERS], cwd=ROOT, capture_output=True,
                       text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(answers) == 1
    assert set(eval(answers.pop())) == {0, 1, 2}  # every worker gets a share


PROBES = [("n1", "n2", "owner-probe", (("term", term),)) for term in range(60)]


def _owners_of_states_made(backwards: bool) -> list[int]:
    """Owners forked workers give states holding new interned messages, made
    in either order."""
    made = {args: Message(*args) for args in (PROBES[::-1] if backwards else PROBES)}
    return [forked_owner(((made[args],), args[3]), 3) for args in PROBES]


def test_forked_workers_agree_on_owners_of_states_they_made_apart():
    """Forked workers find owners by Python's hash, whose salt they share: a
    message made apart in each must hash alike (by content, not identity)."""
    forked = multiprocessing.get_context("fork")
    with forked.Pool(1) as first, forked.Pool(1) as second:
        owners = first.apply(_owners_of_states_made, (False,))
        assert owners == second.apply(_owners_of_states_made, (True,))
    assert set(owners) == {0, 1, 2}


def test_memory_limit_ends_the_search_as_incomplete():
    result = CliRunner().invoke(main, ["check", "two_phase", "-p", "n=5", "--workers", "2",
                                       "--memory", "1MB", "--json"])
    assert result.exit_code == 3, result.output
    outcome = json.loads(result.stdout)
    assert outcome["verdict"] == "incomplete" and outcome["limit"] == "memory"


def test_time_limit_ends_the_search_as_incomplete():
    outcome = run("raft", ["fsync=always"], Options(workers=2, time_limit=1.0)).outcome
    assert outcome.verdict == "incomplete" and outcome.limit == "time-limit"


def test_refuses_what_workers_do_not_share_yet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "two_phase", "--workers", "2", "--store",
                                       "fingerprint", "--checkpoint", "somewhere"])
    assert result.exit_code == 2 and "not available with --workers" in result.output
    assert not list(tmp_path.iterdir())  # nothing written


RING = '''
from modelcheck import Model


class Ring(Model):
    """States 0..23 in a ring; the first 12 are initial, and each is reached again."""

    def initial_states(self):
        return range(12)

    def successors(self, s):
        yield "next", (s + 1) % 24
'''


def test_workers_keeping_fingerprints_know_initial_states_found_again(tmp_path):
    """Initial states go to the owners their fingerprints name, as successors
    do; an initial state at another owner would be stored twice."""
    spec = tmp_path / "ring.py"
    spec.write_text(RING)
    options = Options(store="fingerprint")
    alone = report(str(spec), [], options)
    assert alone["verdict"] == "ok" and alone["kept_states"] == 24
    for workers in (2, 3):
        assert report(str(spec), [], replace(options, workers=workers)) == alone, workers


FALL = '''\
from modelcheck import Model, recoverable


class Fall(Model):
    """Steps right or up a 6 x 6 grid, and home from anywhere but the last
    column, which only climbs: its six states cannot get home."""

    def initial_states(self):
        yield (0, 0)

    def successors(self, s):
        x, y = s
        if x < 5:
            yield "right", (x + 1, y)
        if y < 5:
            yield "up", (x, y + 1)
        if x < 5:
            yield "home", (0, 0)

    @recoverable
    def home(self, s):
        return s == (0, 0)
'''


def test_workers_find_the_first_stuck_state_among_many_per_level(tmp_path):
    """Each worker's new states are stored in the order it meets them, its
    own first, and numbered in key order: the backward search for stuck
    states must map one to the other.  The first stuck state is (5, 0),
    five steps right: the first state of its level."""
    spec = tmp_path / "fall.py"
    spec.write_text(FALL)
    alone = report(str(spec), [], Options())
    assert (alone["verdict"], alone["property"], alone["kept_states"]) == ("violation", "home", 36)
    assert [step["action"] for step in alone["trace"]] == ["Initial state"] + ["right"] * 5
    # 30 states step right and home, 25 of them up, and the last column's 5 up.
    assert alone["transitions"] == 90
    for workers in (2, 3):
        assert report(str(spec), [], Options(workers=workers)) == alone, workers


STUCK_AND_DEAD = '''\
import multiprocessing
import os
import time

from modelcheck import Model, invariant


class StuckAndDead(Model):
    """Worker 1 dies in the first level, while worker 0 hangs for 40 s."""

    def initial_states(self):
        return range(64)

    def successors(self, s):
        name = multiprocessing.current_process().name
        if name == "modelcheck-worker-0" and not hasattr(self, "hung"):
            self.hung = True
            time.sleep(40)
        if name == "modelcheck-worker-1":
            os._exit(3)
        yield "next", s + 64

    @invariant
    def fine(self, s):
        return True
'''


def test_a_dead_worker_is_reported_while_another_hangs(tmp_path):
    """A worker may hang on a chunk claim the dead one held: the coordinator
    must not wait for it to notice the death."""
    spec = tmp_path / "stuck_and_dead.py"
    spec.write_text(STUCK_AND_DEAD)
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="worker 1 died"):
        run(str(spec), [], Options(workers=2))
    assert time.perf_counter() - started < 20
