"""Every path a command writes is checked before its search starts: an
unwritable directory, a missing parent, a directory where a file is
wanted (or the reverse) is refused at once, exit 2, naming the option and
the path, and nothing is written."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelcheck.errors import SpecError
from modelcheck.outputs import check_directory, check_file

ROOT = Path(__file__).parents[1]
#: A check of many minutes (five-node Raft's proof): refusing a path after
#: it would time out.
LONG = ["raft", "-p", "nodes=5", "-p", "fsync=always"]
#: Any existing file: the output path is refused before the trace is read.
TRACE = Path(__file__)

#: Commands writing a file, with the option that names it.
FILE_OPTIONS = {
    "check --diagram": (["check", *LONG, "--diagram"], "--diagram"),
    "check --state-graph": (["check", *LONG, "--state-graph"], "--state-graph"),
    "simulate --diagram": (["simulate", *LONG, "--runs", "1000000", "--diagram"], "--diagram"),
    "render -o": (["render", str(TRACE), "-o"], "--output"),
}
#: Commands writing into a directory (created, with its parents, if missing).
DIRECTORY_OPTIONS = {
    "check --checkpoint": (["check", *LONG, "--store", "fingerprint", "--checkpoint"],
                           "--checkpoint"),
    "gallery --out": (["gallery", "--out"], "--out"),
    "frontier --cache": (["frontier", "quorum_log", "--nodes", "3", "--cache"], "--cache"),
}


@pytest.fixture
def unwritable(tmp_path):
    """A directory nobody here can create files in."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        yield locked
        locked.chmod(0o755)
        return
    # Root ignores permission bits; sysfs refuses new files even to root.
    if not Path("/sys/kernel").is_dir():
        pytest.skip("needs Linux's /sys to have an unwritable directory as root")
    yield Path("/sys")


def refused(args, *needles):
    started = subprocess.run([sys.executable, "-m", "modelcheck", *args], capture_output=True,
                             text=True, timeout=60, cwd=ROOT)
    assert started.returncode == 2, started.stderr
    assert started.stdout == "", "the search ran before the path was refused"
    assert "Traceback" not in started.stderr
    for needle in needles:
        assert needle in started.stderr, started.stderr
    return started.stderr


@pytest.mark.parametrize("command", FILE_OPTIONS)
def test_file_in_a_missing_directory(tmp_path, command):
    args, option = FILE_OPTIONS[command]
    target = tmp_path / "missing" / "chart.svg"
    refused([*args, str(target)], option, str(target), "does not exist")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [*FILE_OPTIONS, *DIRECTORY_OPTIONS])
def test_path_in_an_unwritable_directory(unwritable, command):
    args, option = {**FILE_OPTIONS, **DIRECTORY_OPTIONS}[command]
    before = sorted(os.listdir(unwritable))
    target = unwritable / "chart.svg"
    refused([*args, str(target)], option, str(target), "cannot write")
    assert sorted(os.listdir(unwritable)) == before


@pytest.mark.parametrize("command", FILE_OPTIONS)
def test_file_that_is_a_directory(tmp_path, command):
    args, option = FILE_OPTIONS[command]
    target = tmp_path / "chart.svg"
    target.mkdir()
    refused([*args, str(target)], str(target), "directory")
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("command", DIRECTORY_OPTIONS)
def test_directory_under_a_file(tmp_path, command):
    args, option = DIRECTORY_OPTIONS[command]
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "out"
    refused([*args, str(target)], option, str(target), "not a directory")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


@pytest.mark.parametrize("command", DIRECTORY_OPTIONS)
def test_directory_that_is_a_file(tmp_path, command):
    args, _option = DIRECTORY_OPTIONS[command]
    target = tmp_path / "out"
    target.write_text("x")
    refused([*args, str(target)], str(target), "file")
    assert target.read_text() == "x"


def test_good_paths_pass_and_leave_nothing(tmp_path):
    check_file(tmp_path / "chart.svg", "--diagram")
    check_directory(tmp_path / "new" / "deeper", "--out")
    (tmp_path / "old.svg").write_text("kept")
    check_file(tmp_path / "old.svg", "--diagram")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.svg"]
    assert (tmp_path / "old.svg").read_text() == "kept"


def test_relative_file_in_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_file(Path("chart.svg"), "--diagram")
    with pytest.raises(SpecError, match="--diagram nowhere/chart.svg: the directory nowhere"):
        check_file(Path("nowhere/chart.svg"), "--diagram")


def test_gallery_check_of_a_missing_directory_is_refused_before_any_search(tmp_path):
    target = tmp_path / "none"
    refused(["gallery", "--out", str(target), "--check"], "--out", str(target),
            "no such directory")
    assert list(tmp_path.iterdir()) == []
