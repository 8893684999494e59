"""A BFS level held off the Python heap: states pickled in chunks, in
discovery order, spilled to files once the level outgrows its memory budget.

A kept state costs a few hundred bytes as Python objects but a few dozen
pickled (a chunk's pickle shares the sub-values its states have in common),
and nothing in RAM once spilled.  Pickling round-trips to equal states;
interned messages pickle by their content (``Message.__reduce__``).
"""

from __future__ import annotations

import itertools
import os
import pickle
from collections.abc import Hashable, Iterator
from pathlib import Path

#: States per pickled chunk.
CHUNK = 2048
#: Bytes of pickled chunks a level keeps in memory before spilling to disk.
MEMORY_BUDGET = 16 << 20

#: Spill files are named uniquely in their directory, whatever was there.
_serial = itertools.count()


class Frontier:
    """An append-only sequence of states, read back in order."""

    def __init__(self, spill_dir: Path, name: str, budget: int = MEMORY_BUDGET) -> None:
        self._dir = spill_dir
        self._name = name
        self._budget = budget
        #: Pickled chunks in order: bytes in memory, or the file holding them.
        self._chunks: list[bytes | Path] = []
        self._pending: list[Hashable] = []
        self._in_memory = 0
        self._length = 0

    def append(self, state: Hashable) -> None:
        self._pending.append(state)
        self._length += 1
        if len(self._pending) >= CHUNK:
            self._seal()

    def __len__(self) -> int:
        return self._length

    def head(self, count: int) -> list[Hashable]:
        """The first ``count`` states (for sampling checks)."""
        first: list[Hashable] = []
        for state in self:
            if len(first) >= count:
                break
            first.append(state)
        return first

    def __iter__(self) -> Iterator[Hashable]:
        for chunk in self._chunks:
            data = chunk if isinstance(chunk, bytes) else chunk.read_bytes()
            yield from pickle.loads(data)
        yield from list(self._pending)

    @property
    def unclaimed(self) -> int:
        """Bytes of its memory budget the frontier may still take."""
        return max(0, self._budget - self._in_memory)

    def _seal(self) -> None:
        data = pickle.dumps(self._pending, protocol=pickle.HIGHEST_PROTOCOL)
        self._pending = []
        if self._in_memory + len(data) <= self._budget:
            self._chunks.append(data)
            self._in_memory += len(data)
            return
        path = self._spill_path()
        path.write_bytes(data)
        self._chunks.append(path)

    def _spill_path(self) -> Path:
        return self._dir / f"{self._name}-{os.getpid()}-{next(_serial):08d}.pickle"

    def save(self, target: Path, prefix: str) -> list[str]:
        """Write every chunk (spilled ones hard-linked) to ``target``; their names.

        The frontier itself is unchanged.
        """
        names = []
        chunks = list(self._chunks)
        if self._pending:
            chunks.append(pickle.dumps(self._pending, protocol=pickle.HIGHEST_PROTOCOL))
        for number, chunk in enumerate(chunks):
            name = f"{prefix}-{number:06d}.pickle"
            if isinstance(chunk, bytes):
                (target / name).write_bytes(chunk)
            else:
                os.link(chunk, target / name)
            names.append(name)
        return names

    def restore(self, files: list[Path], length: int) -> None:
        """Make this empty frontier hold the chunks ``save`` wrote (hard-linked here)."""
        for file in files:
            path = self._spill_path()
            os.link(file, path)
            self._chunks.append(path)
        self._length = length

    def discard(self) -> None:
        """Delete the spilled files; the frontier is empty afterwards."""
        for chunk in self._chunks:
            if isinstance(chunk, Path):
                os.unlink(chunk)
        self.__init__(self._dir, self._name, self._budget)  # type: ignore[misc]
