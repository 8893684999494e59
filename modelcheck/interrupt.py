"""Ctrl-C and SIGTERM as one more limit: a request to stop, polled by searches.

While ``stop_on_signals`` is active (the command line wraps every command
that searches in it), the first SIGINT or SIGTERM only sets a flag.  Every
search reads it where it reads the clock for ``--time-limit`` and ends the
same way: verdict ``incomplete``, limit ``interrupted``, the statistics so
far (and, with ``--checkpoint``, a checkpoint saved first).  A second
signal ends the process at once, the way the signal would have without us,
for a user who will not wait.

The flag lives in shared memory once ``shared_flag`` has been called, so
that processes forked afterwards (``--workers``, ``simulate --workers``,
``frontier --jobs``) see a stop requested in the coordinator, which may be
the only process a SIGTERM reached.  A plain byte, not a lock-protected
value: a signal handler may set it whatever the interrupted code holds.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: The limit an interrupted search reports.
LIMIT = "interrupted"

_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_requested = False
_shared: Any = None  # a multiprocessing RawValue('b') once shared_flag() ran


class Interrupted(Exception):
    """A wait on remote workers given up because a stop was requested."""


def requested() -> bool:
    """Whether a stop was requested (here, or in the process that forked this one)."""
    return _requested or (_shared is not None and bool(_shared.value))


def request() -> None:
    """Ask every search of this process, and of its forked workers, to stop."""
    global _requested
    _requested = True
    if _shared is not None:
        _shared.value = 1


def shared_flag() -> None:
    """Keep the flag where processes forked from now on see it change.

    Call before forking workers; harmless to call again."""
    global _shared
    if _shared is None:
        _shared = multiprocessing.get_context("fork").RawValue("b", int(_requested))


def _handle(signum: int, frame: object) -> None:
    # This process's own first signal, not the shared flag: Ctrl-C reaches
    # forked workers too, and one that took it first has set the flag
    # already, which made this process (or the worker) die of its first.
    if not _requested:
        request()
        return
    # The second signal: die of it, as if nobody had caught the first.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into a stop request for the duration.

    Only the main thread may install signal handlers; elsewhere this does
    nothing (signals then behave as usual)."""
    global _requested
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _requested = False
    if _shared is not None:
        _shared.value = 0
    previous = {sig: signal.signal(sig, _handle) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
