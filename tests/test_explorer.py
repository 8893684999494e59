"""The explorer: stepping through a model by hand (session), and its HTTP API.

The A/B/C path is the seed's story on Raft with log_async, written down here
step by step from the story (not taken from a checker's output): election of
A, a write acknowledged by A and C, C's power loss takes the unsynced entry,
B is elected with C's vote, and B's write overwrites the acknowledged one.
"""

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from modelcheck.errors import SpecError
from modelcheck.explorer.server import Explorer, serve_in_thread
from modelcheck.explorer.session import Library, ModelChoice, StepError

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "counterexamples"
RAFT = ModelChoice("raft", ("fsync=log_async",))

#: (label prefix of the step to take) for the seed's A/B/C loss.
ABC_LOSS = [
    "A: election_timeout",
    "A → B  RequestVote(",
    "B → A  RequestVoteResponse(",
    "B: election_timeout",
    "client → A  write 1",
    "A → C  AppendEntries(",
    "C → A  AppendEntriesResponse(",
    "⚡ C power loss and restart: unsynced log lost",
    "B → C  RequestVote(",
    "C → B  RequestVoteResponse(",
    "client → B  write 2",
    "B → A  AppendEntries(",
]


def take(session, path, prefix):
    """The index of the one enabled step whose label starts with ``prefix``."""
    enabled = session.view(path)["enabled"]
    matches = [s["index"] for s in enabled if s["label"].startswith(prefix)]
    assert len(matches) == 1, (prefix, [s["label"] for s in enabled])
    return matches[0]


def abc_path(session):
    path = []
    for prefix in ABC_LOSS:
        path.append(take(session, path, prefix))
    return path


@pytest.fixture(scope="module")
def library():
    return Library("raft")


def broken(view):
    return [p["name"] for p in view["properties"] if not p["holds"]]


def test_abc_loss_reachable_step_by_step_and_durability_reported_at_its_end(library):
    session = library.session(RAFT)
    path = abc_path(session)
    for length in range(len(path)):
        assert broken(session.view(path[:length])) == []
    end = session.view(path)
    assert broken(end) == ["durability"]
    explanation = end["properties"][0]["explanation"]
    assert "write 1 was acknowledged at position 1" in explanation
    assert "node A has committed 2" in explanation
    # The step before announces what it leads to.
    last = session.view(path[:-1])["enabled"][path[-1]]
    assert last["breaks"] == ["durability"]
    # Once broken, a property is not announced again by every later step.
    assert all("durability" not in s["breaks"] for s in end["enabled"])


def test_state_view_marks_unsynced_disk_data_and_the_last_change(library):
    session = library.session(RAFT)
    path = abc_path(session)[:6]  # A has sent the write to C: C holds [t1:1] unsynced
    state = session.view(path)["state"]
    c = next(n for n in state["nodes"] if n["name"] == "C")
    log = next(f for f in c["fields"] if f["name"] == "log")
    assert log["durable"] and log["unsynced"] and log["changed"]
    assert log["may_revert_to"] == ["[]"]
    term = next(f for f in c["fields"] if f["name"] == "current_term")
    assert term["durable"] and not term["unsynced"]  # log_async syncs term and vote
    role = next(f for f in c["fields"] if f["name"] == "role")
    assert not role["durable"]
    a = next(n for n in state["nodes"] if n["name"] == "A")
    assert not any(f["changed"] for f in a["fields"])
    responses = [m for m in state["messages"] if m["type"] == "AppendEntriesResponse"]
    assert len(responses) == 1 and responses[0]["new"]
    assert state["faults"] == [{"kind": "power_loss", "used": 0, "limit": 1, "left": 1,
                                "changed": False}]


def test_each_surviving_prefix_of_a_power_loss_is_its_own_step(library):
    session = library.session(RAFT)
    path = abc_path(session)[:7]  # write 1 acknowledged; C's log [t1:1] still unsynced
    view = session.view(path)
    assert [a["text"] for a in view["state"]["client"]["acked"]] == ["1@1"]
    losses = [s for s in view["enabled"] if s["kind"] == "power_loss" and s["node"] == "C"]
    # C's only unsynced file is its log: it keeps [t1:1] or goes back to [].
    assert len(losses) == 2 and all(s["fault"] for s in losses)
    assert sum("nothing lost" in s["label"] for s in losses) == 1
    after = session.view([*path, next(s["index"] for s in losses if "lost from" in s["label"])])
    assert after["state"]["faults"][0]["left"] == 0
    assert not any(s["kind"] == "power_loss" for s in after["enabled"])  # budget spent


def test_a_path_replays_to_the_same_state_in_a_new_library():
    path = abc_path(Library("raft").session(RAFT))
    again = Library("raft").session(RAFT)
    first = Library("raft").session(RAFT)
    assert first.replay(path)[-1].state == again.replay(path)[-1].state
    assert again.view(path)["labels"][-1].startswith("B → A  AppendEntries(")


def test_step_indices_do_not_depend_on_the_process_hash_seed():
    """A shared URL must name the same state after the server restarts."""
    import subprocess
    import sys

    script = ("from test_explorer import abc_path, RAFT; "
              "from modelcheck.explorer.session import Library; "
              "print(abc_path(Library('raft').session(RAFT)))")
    paths = {subprocess.run([sys.executable, "-c", script], cwd=ROOT / "tests", check=True,
                            capture_output=True, text=True,
                            env={**os.environ, "PYTHONHASHSEED": seed,
                                 "PYTHONPATH": str(ROOT)}).stdout
             for seed in ("1", "2")}
    assert len(paths) == 1


def test_invalid_steps_are_refused_naming_where(library):
    session = library.session(RAFT)
    with pytest.raises(StepError, match="step 2 of the path: 99 is not an enabled step"):
        session.view([99])
    with pytest.raises(StepError, match="'x'"):
        session.view([0, "x"])
    with pytest.raises(StepError, match="True"):
        session.view([True])


def test_the_library_keeps_a_bounded_number_of_models():
    from modelcheck.explorer.session import MAX_SESSIONS

    library = Library("two_phase")
    first = library.session(ModelChoice("two_phase", ("n=1",)))
    assert library.session(ModelChoice("two_phase", ("n=1",))) is first
    for n in range(2, MAX_SESSIONS + 3):
        library.session(ModelChoice("two_phase", (f"n={n}",)))
    assert len(library._sessions) == MAX_SESSIONS
    assert library.session(ModelChoice("two_phase", ("n=1",))) is not first


def test_model_choice_refuses_malformed_input_and_unknown_specs(library):
    with pytest.raises(SpecError, match="model.params"):
        ModelChoice.from_json({"spec": "raft", "params": "fsync=never"})
    with pytest.raises(SpecError, match="cannot load spec '../etc/passwd'"):
        library.session(ModelChoice("../etc/passwd"))
    with pytest.raises(SpecError, match="no parameter 'bogus'"):
        library.session(ModelChoice("raft", ("bogus=1",)))


@pytest.mark.parametrize("entry", sorted(p.stem for p in GALLERY.glob("*.json")))
def test_every_gallery_trace_opens_and_replays_to_its_violation(library, entry):
    report = json.loads((GALLERY / f"{entry}.json").read_text())
    session = library.session(ModelChoice.of_trace(report))
    path = session.path_of_trace(report["trace"])
    view = session.view(path)
    assert view["labels"] == [step["action"] for step in report["trace"][1:]]
    if report["property"] in session.model.invariants():
        assert report["property"] in broken(view)
    else:  # a @recoverable property: not judged at a state
        assert report["property"] in view["recoverables"]


def test_a_trace_of_other_parameters_does_not_open(library):
    report = json.loads((GALLERY / "raft-log_async.json").read_text())
    report["params"]["fsync"] = "always"
    session = library.session(ModelChoice.of_trace(report))
    with pytest.raises(SpecError, match="is not a step of raft"):
        session.path_of_trace(report["trace"])


def test_model_level_spec_with_its_fields(library):
    session = library.session(ModelChoice("two_phase", ("n=2",)))
    view = session.view([])
    assert view["state"]["kind"] == "model"
    first = view["enabled"][0]
    after = session.view([first["index"]])
    assert any(f["changed"] for f in after["state"]["fields"])
    assert after["labels"] == [first["label"]]
    with pytest.raises(StepError, match="starts with the first step"):
        session.chart_svg([])


TWO_STARTS = """
from modelcheck import Model, invariant

class TwoStarts(Model):
    def initial_states(self):
        yield 0
        yield 10

    def successors(self, x):
        if x % 10 < 2:
            yield "Inc", x + 1

    @invariant
    def below_twelve(self, x):
        return x < 12
"""


def test_several_initial_states_the_first_index_picks_one(tmp_path):
    spec = tmp_path / "two_starts.py"
    spec.write_text(TWO_STARTS)
    session = Library(str(spec)).session(ModelChoice("two_starts"))
    root = session.view([])
    assert root["state"] == {"kind": "choose"} and root["properties"] == []
    assert [s["label"] for s in root["enabled"]] == ["Initial state 1", "Initial state 2"]
    assert root["enabled"][1]["breaks"] == []
    end = session.view([1, 0, 0])
    assert end["state"]["fields"] == [{"name": "state", "value": "12", "changed": True}]
    assert broken(end) == ["below_twelve"]
    assert end["labels"] == ["Initial state 2", "Inc", "Inc"]
    assert end["trace_text"].splitlines()[0] == "1. Initial state"
    report = session.report([1, 0, 0])
    assert session.path_of_trace(report["trace"]) == [1, 0, 0]
    with pytest.raises(StepError, match="step 1 of the path: 2 is not an initial state"):
        session.view([2])
    with pytest.raises(StepError, match="choose one first"):
        session.report([])


COIN = """
from modelcheck import Model

class Coin(Model):
    def initial_states(self):
        yield "start"

    def successors(self, x):
        if x == "start":
            yield "Toss", "heads"
            yield "Toss", "tails"
"""


def test_a_trace_step_is_matched_by_its_state_where_labels_repeat(tmp_path):
    spec = tmp_path / "coin.py"
    spec.write_text(COIN)
    session = Library(str(spec)).session(ModelChoice("coin"))
    assert [s["label"] for s in session.view([])["enabled"]] == ["Toss", "Toss"]
    for path in ([0], [1]):
        assert session.path_of_trace(session.report(path)["trace"]) == path
    edited = session.report([1])
    edited["trace"][1]["state"] = {"state": "edge"}
    with pytest.raises(SpecError, match=r"step 2 of the trace \(Toss\) is not a step of coin"):
        session.path_of_trace(edited["trace"])


# --- the HTTP API --------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    library = Library("raft")
    running = serve_in_thread(Explorer(library, RAFT, GALLERY))
    yield running
    running.explorer.checks.stop()
    running.shutdown()
    running.server_close()


def call(server, method, route, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url.rstrip("/") + route, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def call_json(server, method, route, body=None, headers=None):
    status, raw = call(server, method, route, body, headers)
    return status, json.loads(raw)


def test_server_listens_on_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"


def test_http_view_of_the_abc_path_reports_durability(server):
    path = abc_path(server.explorer.library.session(RAFT))
    status, view = call_json(server, "POST", "/api/view",
                             {"model": RAFT.to_json(), "path": path})
    assert status == 200 and broken(view) == ["durability"]


def test_http_refuses_an_invalid_step_with_4xx(server):
    status, answer = call_json(server, "POST", "/api/view",
                               {"model": RAFT.to_json(), "path": [0, 1000]})
    assert 400 <= status < 500 and "1000 is not an enabled step" in answer["error"]
    status, answer = call_json(server, "POST", "/api/view",
                               {"model": {"spec": "nope"}, "path": []})
    assert status == 400 and "cannot load spec 'nope'" in answer["error"]


def test_http_refuses_other_hosts_non_json_and_unknown_routes(server):
    status, _ = call(server, "GET", "/api/config", headers={"Host": "evil.example:80"})
    assert status == 403
    status, _ = call(server, "GET", "/", headers={"Host": f"evil.example:{server.server_port}"})
    assert status == 403
    request = urllib.request.Request(server.url + "api/view", data=b"path=0", method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    assert call(server, "GET", "/static/../session.py")[0] == 404
    assert call(server, "POST", "/api/nothing", {})[0] == 404


def test_http_serves_the_page(server):
    status, page = call(server, "GET", "/")
    assert status == 200 and b"/static/app.js" in page
    assert call(server, "GET", "/static/app.js")[0] == 200


def test_http_opens_gallery_entries_by_name_only(server):
    status, opened = call_json(server, "POST", "/api/open", {"gallery": "kafka-3.4"})
    assert status == 200 and opened["model"]["spec"] == "kafka"
    assert len(opened["path"]) == 11
    status, answer = call_json(server, "POST", "/api/open", {"gallery": "../README"})
    assert status == 400 and "no gallery entry" in answer["error"]
    status, answer = call_json(server, "POST", "/api/open", {"trace": {"trace": "x"}})
    assert status == 400 and "not a JSON trace" in answer["error"]


def test_http_opens_an_uploaded_trace(server):
    report = json.loads((GALLERY / "primary_backup-no_fsync.json").read_text())
    status, opened = call_json(server, "POST", "/api/open", {"trace": report})
    assert status == 200 and len(opened["path"]) == len(report["trace"]) - 1


RAISING = """
from modelcheck import Model

class Raising(Model):
    def initial_states(self):
        yield 0

    def successors(self, x):
        yield "Step", x + 1
        if x == 1:
            raise ValueError("the spec's own bug")
"""


def test_http_reports_a_spec_that_raises_as_a_500_with_its_message(tmp_path, capsys):
    spec = tmp_path / "raising.py"
    spec.write_text(RAISING)
    running = serve_in_thread(Explorer(Library(str(spec)), ModelChoice("raising"), None))
    try:
        status, answer = call_json(running, "POST", "/api/view",
                                   {"model": {"spec": "raising"}, "path": [0]})
        assert status == 500 and "ValueError: the spec's own bug" in answer["error"]
        assert call_json(running, "GET", "/api/config")[1]["gallery"] == []
    finally:
        running.shutdown()
        running.server_close()


def test_http_chart_is_svg(server):
    if call(server, "GET", "/api/config")[0] != 200:
        pytest.fail("server down")
    status, answer = call_json(server, "POST", "/api/chart", {"model": RAFT.to_json(),
                                                              "path": [0]})
    if status == 400 and "Graphviz" in answer["error"]:
        pytest.skip("Graphviz's dot is not installed")
    assert status == 200 and answer["svg"].lstrip().startswith(("<?xml", "<svg"))


def test_http_check_runs_in_the_background_and_its_trace_steps(server):
    model = ModelChoice("two_phase", ("n=2", "bug=commit_early")).to_json()
    status, answer = call_json(server, "POST", "/api/check",
                               {"model": model, "max_states": 10**9, "time_limit": 5})
    assert status == 400 and "max_states" in answer["error"]
    status, started = call_json(server, "POST", "/api/check",
                                {"model": model, "max_states": 1000, "time_limit": 60})
    assert status == 200 and started["status"] == "running"
    deadline = time.time() + 120
    while True:
        status, answer = call_json(server, "GET", "/api/check")
        assert status == 200
        if answer["status"] != "running" or time.time() > deadline:
            break
        time.sleep(0.2)
    assert answer["status"] == "done", answer
    assert answer["report"]["verdict"] == "violation"
    status, view = call_json(server, "POST", "/api/view", {"model": model,
                                                          "path": answer["path"]})
    assert answer["report"]["property"] in broken(view)


# --- the command ------------------------------------------------------------------


def test_command_refuses_bad_input_with_status_2():
    from click.testing import CliRunner

    from modelcheck.cli import main

    for args, needle in ((["no_such_spec"], "no spec 'no_such_spec'"),
                         (["raft", "-p", "bogus=1"], "no parameter 'bogus'"),
                         (["raft", "--faults", "meteor=1"], "unknown fault kind 'meteor'"),
                         (["two_phase", "--writes", "1"], "Model-level spec")):
        result = CliRunner().invoke(main, ["explore", *args])
        assert result.exit_code == 2, result.output
        assert needle in result.output and "Traceback" not in result.output


def test_command_refuses_a_port_in_use():
    import socket

    from click.testing import CliRunner

    from modelcheck.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["explore", "raft", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def test_command_serves_until_interrupted():
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "modelcheck", "explore", "raft", "-p", "fsync=log_async",
         "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = line.split(" at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "api/config", timeout=30) as response:
            config = json.loads(response.read())
        assert config["model"]["params"] == ["fsync=log_async"]
        assert "raft-log_async" in config["gallery"]
        # The page's check runs in a process spawned from the command's own.
        model = {"spec": "two_phase", "params": ["n=2", "bug=commit_early"]}
        started = urllib.request.Request(
            url + "api/check", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"model": model, "max_states": 1000, "time_limit": 60}).encode())
        urllib.request.urlopen(started, timeout=30).close()
        deadline = time.time() + 120
        while True:
            with urllib.request.urlopen(url + "api/check", timeout=30) as response:
                status = json.loads(response.read())
            if status["status"] != "running" or time.time() > deadline:
                break
            time.sleep(0.2)
        assert status["status"] == "done" and status["report"]["verdict"] == "violation"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.wait()


def test_http_check_can_be_stopped(server):
    model = ModelChoice("raft", ("nodes=5", "fsync=always")).to_json()  # minutes to exhaust
    status, started = call_json(server, "POST", "/api/check",
                                {"model": model, "max_states": 2_000_000, "time_limit": 300})
    assert status == 200 and started["status"] == "running"
    process = server.explorer.checks._process
    status, stopped = call_json(server, "POST", "/api/check/stop", {})
    assert status == 200 and stopped["status"] == "stopped"
    assert not process.is_alive()
    assert call_json(server, "GET", "/api/check")[1]["status"] == "stopped"
