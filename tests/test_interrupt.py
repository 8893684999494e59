"""Ctrl-C and SIGTERM end a run as a limit does: verdict incomplete, limit
interrupted, the statistics so far, JSON still printed, exit 3; sweeps keep
their finished rows, frontiers their finished searches, and no worker is
left running."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

#: A search that runs for many minutes (five-node Raft's proof keeps 2.1M
#: states); the time limit only keeps a broken test from hanging.
LONG = ["raft", "-p", "nodes=5", "-p", "fsync=always", "--time-limit", "60"]


def start(*args):
    """The command in a session of its own, as a shell runs it in a job."""
    return subprocess.Popen([sys.executable, "-m", "modelcheck", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_stderr(process, startswith):
    """Read stderr until a line starting with ``startswith`` (the run is under
    way); the lines read."""
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith(startswith):
            return "".join(lines)
    process.kill()
    pytest.fail("no such line on stderr before the run ended:\n" + "".join(lines))


def children(pid):
    """Processes whose parent is ``pid`` (Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(process, how):
    """``ctrl-c``: SIGINT to the whole process group, as a terminal sends it;
    ``sigterm``: SIGTERM to the process alone, as ``kill`` sends it."""
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM)
    # Not communicate(): it would miss what stderr's buffer already holds.
    # Little goes to stderr, so reading stdout first cannot block the run.
    out, err = process.stdout.read(), process.stderr.read()
    return process.wait(timeout=60), out, err


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_check_ends_incomplete_with_its_statistics(how):
    process = start("check", *LONG, "--json")
    wait_for_stderr(process, "[")
    code, out, err = stop(process, how)
    assert code == 3, err
    report = json.loads(out)
    assert report["verdict"] == "incomplete" and report["limit"] == "interrupted"
    assert report["kept_states"] > 0 and report["transitions"] > 0
    assert "Traceback" not in err and "Aborted" not in err


def test_check_text_says_interrupted():
    process = start("check", *LONG)
    wait_for_stderr(process, "[")
    code, out, _ = stop(process, "ctrl-c")
    assert code == 3
    assert "INCOMPLETE: interrupted" in out and "distinct states" in out


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_check_on_workers_stops_them_all(how):
    process = start("check", *LONG, "--workers", "2", "--json")
    wait_for_stderr(process, "[")
    workers = children(process.pid)
    assert len(workers) >= 2
    code, out, err = stop(process, how)
    assert code == 3, err
    report = json.loads(out)
    assert report["limit"] == "interrupted" and report["kept_states"] > 0
    time.sleep(0.5)
    assert not [pid for pid in workers if alive(pid)]


def test_check_on_ray_actors():
    pytest.importorskip("ray")
    process = start("check", *LONG, "--backend", "ray", "--workers", "2", "--json")
    wait_for_stderr(process, "[")
    code, out, err = stop(process, "ctrl-c")
    assert code == 3, err
    report = json.loads(out)
    assert report["limit"] == "interrupted" and report["kept_states"] > 0


@pytest.mark.parametrize("as_json", [False, True])
def test_sweep_keeps_its_finished_rows(as_json):
    # never: a loss found in about two seconds; always: about 17 s with a
    # third term; log_async is never started.
    process = start("sweep", "raft", "-p", "fsync=never,always,log_async", "-p", "terms=3",
                    "--time-limit", "60",
                    *(["--json"] if as_json else []))
    wait_for_stderr(process, "fsync=never")
    time.sleep(1)  # well into fsync=always
    code, out, err = stop(process, "ctrl-c")
    assert code == 3, err
    if as_json:
        never, always, log_async = json.loads(out)
        assert never["safety"]["verdict"] == "violation" and never["started"]
        assert always["safety"] == {"verdict": "incomplete", "property": None, "steps": None,
                                    "limit": "interrupted"}
        assert always["kept_states"] > 0
        assert not log_async["started"] and log_async["safety"]["verdict"] is None
    else:
        rows = {line.split()[0]: line for line in out.splitlines()[1:]}
        assert "✗ election_safety" in rows["never"]
        assert "? interrupted" in rows["always"]
        assert "not started" in rows["log_async"]


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_simulate_on_workers(how):
    process = start("simulate", *LONG, "--workers", "2", "--json")
    # simulate prints no progress: its forked workers say it is under way.
    deadline = time.monotonic() + 60
    while len(workers := children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    code, out, err = stop(process, how)
    assert code == 3, err
    report = json.loads(out)
    assert report["verdict"] == "incomplete" and report["limit"] == "interrupted"
    assert report["runs"] > 0
    time.sleep(0.5)
    assert not [pid for pid in workers if alive(pid)]


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_frontier_prints_and_caches_what_it_finished(tmp_path, how):
    # Ctrl-C reaches the searching children too: one of them taking it for
    # the user's second signal killed it, and the frontier printed nothing.
    cache = tmp_path / "cache"
    process = start("frontier", "quorum_log", "--nodes", "3", "--unreachable", "1",
                    "--losses", "0..1", "--cache", str(cache), "--jobs", "2", "--json")
    before = wait_for_stderr(process, "n=3 k=0")
    searching = children(process.pid)
    code, out, err = stop(process, how)
    assert code == 3, err
    time.sleep(0.5)
    assert not [pid for pid in searching if alive(pid)]
    cells = json.loads(out)
    assert len(cells) == 2
    searches = [line for line in (before + err).splitlines() if line.startswith("n=3")]
    # A line per search, "...: durability ok, availability ? interrupted":
    # each result it names is cached unless it was interrupted.
    results = [part for line in searches
               for part in re.split(r", (?=(?:durability|availability) )", line.split(": ", 1)[1])]
    finished = [part for part in results if not part.endswith("? interrupted")]
    assert finished
    entries = [json.loads(p.read_text()) for p in cache.glob("*.json")]
    assert len(entries) == len(finished)
    assert all(e["result"]["limit"] != "interrupted" for e in entries)


def test_resume_is_interrupted_and_saves_again(tmp_path):
    directory = tmp_path / "ck"
    args = ["raft", "-p", "nodes=5", "-p", "fsync=always", "--store", "fingerprint",
            "--checkpoint", str(directory)]
    first = subprocess.run([sys.executable, "-m", "modelcheck", "check", *args,
                            "--max-states", "2000", "--quiet"], capture_output=True, text=True)
    assert first.returncode == 3, first.stderr
    process = start("resume", str(directory), "--json", "--time-limit", "60",
                    "--max-states", "10000000")
    wait_for_stderr(process, "[")
    code, out, err = stop(process, "ctrl-c")
    assert code == 3, err
    report = json.loads(out)
    assert report["limit"] == "interrupted" and report["kept_states"] > 2000
    saved = json.loads((directory / "checkpoint.json").read_text())["body"]["position"]
    assert saved["expanded"] > 0


SECOND_SIGNAL = textwrap.dedent("""
    import os, signal, sys
    from modelcheck import interrupt
    with interrupt.stop_on_signals():
        for _ in range(int(sys.argv[1])):
            os.kill(os.getpid(), signal.SIGTERM)
        print(interrupt.requested(), flush=True)
""")


def test_first_signal_asks_the_second_one_quits():
    once = subprocess.run([sys.executable, "-c", SECOND_SIGNAL, "1"], capture_output=True,
                          text=True, cwd=Path(__file__).parents[1])
    assert once.returncode == 0 and once.stdout.strip() == "True", once.stderr
    twice = subprocess.run([sys.executable, "-c", SECOND_SIGNAL, "2"], capture_output=True,
                           text=True, cwd=Path(__file__).parents[1])
    assert twice.returncode == -signal.SIGTERM and twice.stdout == ""


def test_frontier_does_not_cache_an_interrupted_search(tmp_path):
    # Deterministic where the end-to-end test depends on timing: a search
    # in flight when the stop came.
    from modelcheck import frontier

    run = frontier.Frontier("quorum_log", frontier.Budget(), frontier.Cache(tmp_path))
    job = ("design", 3, frontier.family(run.spec, 3)[0], 0, 0)
    result = {"verdict": "incomplete", "property": None, "steps": 0, "limit": "interrupted",
              "trace": "", "kept_states": 5, "seconds": 0.1}
    ok = {**result, "verdict": "ok", "limit": None}
    stored = run._store([job], [{"durability": ok, "availability": result}])[job]
    assert stored["availability"].text() == "? interrupted"
    assert len(list(tmp_path.glob("*.json"))) == 1  # the durability only
    run._store([job], [{"durability": ok, "availability": {**result, "limit": "time-limit"}}])
    assert len(list(tmp_path.glob("*.json"))) == 2
