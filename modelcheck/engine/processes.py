"""Worker processes on this machine, for ``--workers N``.

Processes, not threads: the search is Python code and the GIL would run
threads one at a time.  Workers are forked once the model is built, so they
inherit it (spec modules loaded from files included) instead of rebuilding
it.  The coordinator talks to each worker through a pipe; a level's batches
travel worker -> coordinator -> owner as bytes, never unpickled on the way.

Ctrl-C reaches the whole process group, SIGTERM perhaps the coordinator
alone: workers ignore SIGINT and stop expanding when the coordinator's
stop request (``modelcheck.interrupt``) reaches them through shared memory;
the coordinator then ends them, so none is left running.  A worker whose
coordinator died finds its pipe closed and exits.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from modelcheck import interrupt
from modelcheck.engine.stealing import Board
from modelcheck.engine.share import Expanded, Owner, Received, Share, forked_owner, owner
from modelcheck.errors import SpecError
from modelcheck.model import Model

#: Seconds a worker gets to exit after being asked, before it is killed.
_GRACE = 2.0


class ProcessPool:
    """``workers`` forked processes, each serving one ``Share``."""

    def __init__(self, model: Model, workers: int, symmetry: bool, only: Sequence[str],
                 deadlock: bool, store: str = "exact") -> None:
        context = multiprocessing.get_context("fork")
        interrupt.shared_flag()  # workers ignore SIGINT: they stop when the coordinator asks
        self.workers = workers
        #: Who owns a state, as the workers judge it: keeping fingerprints,
        #: they compute one anyway, and it names the owner.
        self.owner = owner if store == "fingerprint" else forked_owner
        self._pipes: list[Connection] = []
        self._processes: list[Any] = []
        #: Workers keeping states steal each other's chunks (``stealing``).
        self._board = Board(workers) if workers > 1 and store == "exact" else None
        try:
            for index in range(workers):
                mine, theirs = context.Pipe()
                process = context.Process(
                    target=_serve, name=f"modelcheck-worker-{index}", daemon=True,
                    args=(theirs, model, index, workers, symmetry, tuple(only), deadlock, store,
                          self.owner, self._board))
                process.start()
                theirs.close()
                self._pipes.append(mine)
                self._processes.append(process)
        except BaseException:
            self.close()
            raise

    def call(self, method: str, args: Sequence[tuple]) -> list[Any]:
        for pipe, arguments in zip(self._pipes, args):
            pipe.send((method, arguments))
        # Answers are read as they come, so that a worker that died (its pipe
        # reads as closed) is seen even while another waits on it forever,
        # for a chunk claim it held (``stealing``).
        answers: dict[int, Any] = {}
        waiting = {pipe: index for index, pipe in enumerate(self._pipes)}
        while waiting:
            for pipe in wait(list(waiting)):
                index = waiting.pop(pipe)  # type: ignore[call-overload]
                answers[index] = self._answer(index)
        return [answers[index] for index in range(self.workers)]

    def level(self, deadline: float | None, memory: float
              ) -> tuple[list[Expanded], list[Received]]:
        expanded: list[Expanded] = self.call("expand", [(deadline, memory)] * self.workers)
        batches = [e.batches for e in expanded]
        for e in expanded:
            e.batches = []
        received = self.call("receive", [([b[target] for b in batches],)
                                         for target in range(self.workers)])
        return expanded, received

    def _answer(self, index: int) -> Any:
        try:
            status, value = self._pipes[index].recv()
        except (EOFError, OSError):
            code = self._processes[index].exitcode
            raise RuntimeError(f"worker {index} died (exit code {code})") from None
        if status == "spec-error":
            raise SpecError(value)
        if status == "crash":
            raise RuntimeError(f"worker {index} failed:\n{value}")
        return value

    def close(self) -> None:
        """Stop every worker; kill those that do not stop in time."""
        for pipe in self._pipes:
            try:
                pipe.send(("stop", ()))
            except OSError:
                pass
        for process in self._processes:
            process.join(_GRACE)
            if process.is_alive():
                process.kill()
                process.join()
        for pipe in self._pipes:
            pipe.close()
        if self._board is not None:
            self._board.close()

    def __enter__(self) -> ProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(pipe: Connection, model: Model, index: int, workers: int, symmetry: bool,
           only: tuple[str, ...], deadlock: bool, store: str, owner: Owner,
           board: Board | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()  # as in the one-process search: states form no cycles
    share = Share(model, index, workers, symmetry, only, deadlock, store, owner, board)
    while True:
        try:
            method, args = pipe.recv()
        except (EOFError, OSError):  # the coordinator is gone
            return
        if method == "stop":
            return
        try:
            answer: tuple[str, Any] = ("ok", getattr(share, method)(*args))
        except SpecError as exc:
            answer = ("spec-error", str(exc))
        except Exception:  # noqa: BLE001 - a checker bug: reported, not hidden
            answer = ("crash", traceback.format_exc())
        try:
            pipe.send(answer)
        except (OSError, ValueError):
            return
