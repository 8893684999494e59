"""Checks the explorer page starts: one at a time, in a separate process.

A search is CPU-bound Python: in a thread it would hold the interpreter
lock and slow every page request, and it could not be stopped.  In its own
process it leaves the server responsive, is ended when its time is up (or
when the page starts another), and its memory goes back to the machine when
it ends.  Limits are capped, since a page could ask for anything.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import dataclass
from typing import Any

from modelcheck.errors import SpecError
from modelcheck.explorer.session import ModelChoice
from modelcheck.run import Options, run

MAX_STATES = 2_000_000
MAX_SECONDS = 600.0
#: A search the page starts may use this much memory at most.
MEMORY = 2 * 2**30
#: How long past its time limit a search may take to finish its report.
GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class Limits:
    max_states: int
    time_limit: float

    @classmethod
    def from_json(cls, data: Any) -> Limits:
        """The page's limits, refused when missing or beyond the caps."""
        if not isinstance(data, dict):
            raise SpecError("check: expected an object with max_states and time_limit")
        states, seconds = data.get("max_states"), data.get("time_limit")
        if not isinstance(states, int) or isinstance(states, bool) or not 1 <= states <= MAX_STATES:
            raise SpecError(f"check: max_states must be an integer from 1 to {MAX_STATES:,}")
        if (not isinstance(seconds, (int, float)) or isinstance(seconds, bool)
                or not 0 < seconds <= MAX_SECONDS):
            raise SpecError(f"check: time_limit must be a number of seconds, above 0 and at "
                            f"most {MAX_SECONDS:g}")
        return cls(states, float(seconds))


def _search(source: str, choice: ModelChoice, limits: Limits, answer: Any) -> None:
    """In the child process: run the check, send back its JSON report or error."""
    options = Options(writes=choice.writes, faults=choice.faults, reads=choice.reads,
                      max_states=limits.max_states,
                      time_limit=limits.time_limit, memory=MEMORY)
    try:
        answer.send(("done", run(source, list(choice.params), options).to_json()))
    except SpecError as exc:
        answer.send(("error", str(exc)))


class CheckRunner:
    """The page's check: started, polled, replaced by the next one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {"status": "idle"}
        self._process: multiprocessing.process.BaseProcess | None = None
        self._generation = 0

    def status(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._status)

    def start(self, source: str, choice: ModelChoice, limits: Limits) -> None:
        """Start a check, stopping one still running."""
        self.stop()
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_search, args=(source, choice, limits, send),
                                  daemon=True)
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._status = {"status": "running", "model": choice.to_json(),
                            "started": time.time(), "limits": vars(limits)}
            self._process = process
        process.start()
        send.close()
        threading.Thread(target=self._wait, args=(process, receive, limits, generation),
                         daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            if self._status["status"] == "running":
                self._status = {"status": "stopped", "model": self._status["model"]}
        if process is not None and process.is_alive():
            process.terminate()
            process.join()

    def _wait(self, process: Any, receive: Any, limits: Limits, generation: int) -> None:
        deadline = limits.time_limit + GRACE_SECONDS
        result: dict[str, Any]
        if receive.poll(deadline):
            try:
                outcome, payload = receive.recv()
            except EOFError:  # the process died without answering
                outcome, payload = "error", "the check's process ended without a result"
            result = ({"status": "done", "report": payload} if outcome == "done"
                      else {"status": "error", "error": payload})
        else:
            result = {"status": "error",
                      "error": f"the check did not finish within {deadline:g} s"}
        process.terminate()
        process.join()
        with self._lock:
            if generation == self._generation and self._status["status"] == "running":
                self._status = {**result, "model": self._status["model"]}
                self._process = None
