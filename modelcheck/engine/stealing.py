"""Work stealing between forked workers, so that a level's expansion ends
on every core at about the same time.

The states of a level split evenly by hash, but their cost does not: on
three-node Raft the two workers' expansions of one level differed by up to
30% in CPU time.  So each worker keeps the head of its part of the
frontier to itself and deals out the tail (at most a quarter, in whole
chunks), pickled into a file the others can read.  It expands its head,
then claims its own chunks from the front; a worker with nothing left
claims other workers' chunks from the back, reads them and expands them.
Claims are two counters per worker in shared memory, under one lock: a
worker's unclaimed chunks are always the run between them.

Who expands a state does not change what the search finds: the owner
merges every successor with the least key found for it, wherever it was
found (see ``share``).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import tempfile
from collections.abc import Hashable
from pathlib import Path

#: States per chunk.
CHUNK = 64
#: The most of its part of a level a worker deals out, in whole chunks.
TAIL = 0.25


class Board:
    """The chunks of the current level, and who has claimed which.  Made
    before the workers are forked; every worker holds the same one."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("fork")
        self._lock = context.Lock()
        #: Per worker, its first and one past its last unclaimed chunk.
        self._front = context.RawArray("q", workers)
        self._back = context.RawArray("q", workers)
        self.directory = Path(tempfile.mkdtemp(prefix="modelcheck-chunks-"))
        self._read: dict[int, list[bytes]] = {}

    def deal(self, worker: int, chunks: list[bytes]) -> bool:
        """Deal out ``worker``'s chunks of the next level, pickled (each a list
        of states and a list of their ids); False if they could not be written
        (a full disk), and then none are.  Called by every worker between
        two levels, while no one claims."""
        self._read = {}
        path = self.directory / str(worker)
        fresh = path.with_suffix(".new")
        try:
            fresh.write_bytes(pickle.dumps(chunks, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(fresh, path)
        except OSError:  # stealing only saves time: do without it this level
            self._front[worker] = self._back[worker] = 0
            return False
        self._front[worker], self._back[worker] = 0, len(chunks)
        return True

    def claim_own(self, worker: int) -> int | None:
        """The next chunk of its own that ``worker`` may expand, if one is left."""
        with self._lock:
            chunk = self._front[worker]
            if chunk >= self._back[worker]:
                return None
            self._front[worker] = chunk + 1
            return chunk

    def steal(self) -> tuple[int, int] | None:
        """(worker, chunk): the last unclaimed chunk of the worker with the most
        left, claimed; None when every chunk is claimed."""
        with self._lock:
            left = [back - front for front, back in zip(self._front, self._back)]
            victim = max(range(len(left)), key=left.__getitem__)
            if left[victim] <= 0:
                return None
            self._back[victim] -= 1
            return victim, self._back[victim]

    def chunk(self, worker: int, chunk: int) -> tuple[list[Hashable], list[int]]:
        """The states and ids of a chunk dealt out by ``worker`` this level."""
        chunks = self._read.get(worker)
        if chunks is None:
            chunks = self._read[worker] = pickle.loads((self.directory / str(worker)).read_bytes())
        return pickle.loads(chunks[chunk])

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
