"""Checkpoints: a search killed with SIGKILL (or stopped by SIGTERM) and
resumed ends exactly as an uninterrupted one; damaged checkpoints and
checkpoints of another check are refused."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

# Checkpoints do not save sleep sets, so the uninterrupted search goes without too.
SEARCH = ["raft", "-p", "fsync=never", "--writes", "1", "--no-symmetry", "--store", "fingerprint",
          "--no-por"]


def modelcheck(*args, **kw):
    return subprocess.run([sys.executable, "-m", "modelcheck", *args],
                          capture_output=True, text=True, **kw)


def facts(stdout):
    data = json.loads(stdout)
    for clock in ("seconds", "states_per_second"):
        del data[clock]
    return data


@pytest.fixture(scope="module")
def uninterrupted():
    result = modelcheck("check", *SEARCH, "--json")
    assert result.returncode == 1, result.stderr
    return facts(result.stdout)


def saved_position(directory):
    try:
        manifest = json.loads((directory / "checkpoint.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return manifest["body"]["position"]


def start_and_stop(directory, stop_signal, wait_for):
    """Start the search with frequent checkpoints; send ``stop_signal`` once
    ``wait_for(position)`` holds for the saved checkpoint."""
    process = subprocess.Popen(
        [sys.executable, "-m", "modelcheck", "check", *SEARCH, "--json", "--quiet",
         "--checkpoint", str(directory), "--checkpoint-every", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        position = saved_position(directory)
        if position is not None and wait_for(position):
            break
        time.sleep(0.01)
    assert process.poll() is None, "the search ended before it could be stopped"
    process.send_signal(stop_signal)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def test_sigkill_in_the_middle_of_a_level_then_resume(tmp_path, uninterrupted):
    directory = tmp_path / "ck"
    code, _, _ = start_and_stop(directory, signal.SIGKILL,
                                lambda p: p["depth"] >= 4 and p["expanded_in_level"] > 0)
    assert code == -signal.SIGKILL
    assert saved_position(directory)["expanded_in_level"] > 0
    resumed = modelcheck("resume", str(directory), "--json")
    assert resumed.returncode == 1, resumed.stderr
    assert facts(resumed.stdout) == uninterrupted


def test_sigterm_saves_a_checkpoint_and_stops(tmp_path, uninterrupted):
    directory = tmp_path / "ck"
    code, out, _ = start_and_stop(directory, signal.SIGTERM, lambda p: p["depth"] >= 3)
    assert code == 3
    stopped = json.loads(out)
    assert stopped["verdict"] == "incomplete" and stopped["limit"] == "interrupted"
    # Same command, same directory: it carries on from the checkpoint.
    again = modelcheck("check", *SEARCH, "--json", "--checkpoint", str(directory))
    assert again.returncode == 1, again.stderr
    assert facts(again.stdout) == uninterrupted


@pytest.fixture
def checkpoint(tmp_path):
    """A small search stopped at a state limit, with its checkpoint."""
    directory = tmp_path / "ck"
    args = ["two_phase", "-p", "n=5", "--no-symmetry", "--store", "fingerprint",
            "--checkpoint", str(directory)]
    stopped = modelcheck("check", *args, "--max-states", "3000")
    assert stopped.returncode == 3, stopped.stderr
    # The same limit would stop a plain resume again at once.
    assert f"modelcheck resume {directory} --max-states ...` carries on" in stopped.stdout
    return directory, args


def test_resuming_with_a_higher_limit_completes(checkpoint):
    directory, _ = checkpoint
    result = modelcheck("resume", str(directory), "--max-states", "100000", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["distinct_states"] == 8832  # TLC's count for n=5


def refused(result, message):
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_truncated_manifest_is_refused(checkpoint):
    directory, _ = checkpoint
    manifest = directory / "checkpoint.json"
    manifest.write_bytes(manifest.read_bytes()[:100])
    refused(modelcheck("resume", str(directory)), "truncated or corrupt")


def test_edited_manifest_is_refused(checkpoint):
    directory, _ = checkpoint
    manifest = directory / "checkpoint.json"
    data = json.loads(manifest.read_text())
    data["body"]["position"]["represented"] += 1
    manifest.write_text(json.dumps(data))
    refused(modelcheck("resume", str(directory)), "checksum does not match")


def test_changed_fingerprint_table_is_refused(checkpoint):
    directory, _ = checkpoint
    (table,) = directory.glob("gen-*/fingerprints.npz")
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0xFF
    table.write_bytes(bytes(data))
    refused(modelcheck("resume", str(directory)), "truncated or changed")


def test_truncated_links_are_refused(checkpoint):
    directory, _ = checkpoint
    links = directory / "links.bin"
    os.truncate(links, links.stat().st_size - 7)
    refused(modelcheck("resume", str(directory)), "truncated or changed")


def test_checkpoint_of_another_check_is_refused(checkpoint):
    directory, args = checkpoint
    other = [a if a != "n=5" else "n=4" for a in args]
    refused(modelcheck("check", *other), "holds a checkpoint of another check")


def test_missing_checkpoint_and_exact_store_are_refused(tmp_path):
    refused(modelcheck("resume", str(tmp_path)), "holds no checkpoint")
    refused(modelcheck("check", "two_phase", "--checkpoint", str(tmp_path / "x")),
            "--checkpoint needs --store fingerprint")
