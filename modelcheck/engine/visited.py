"""The visited set, the frontier and the parent links a BFS keeps.

Two interchangeable stores, chosen with ``--store``:

* ``ExactVisited`` keeps every state as a Python object in a dict mapping
  it to its parent state: no risk at all, several hundred bytes per state.
* ``FingerprintVisited`` keeps a 64-bit fingerprint per state in a compact
  table (``store.FingerprintSet``), the frontier pickled and spilled to disk
  (``frontier.Frontier``), and per kept state a parent link record in a file;
  traces are rebuilt by replaying the links (``replay.rebuild``).

The explorer sees one interface: iterate the level being expanded as
``(ref, state)`` pairs, ``add`` successors with their parent's ref and action
index, ``end_level`` to move on, ``path_to(ref)`` for a trace.  A ref is the
state itself in the exact store and its index in discovery order (initial
states first, 0-based) in the fingerprint store.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path

import numpy as np

from modelcheck.engine.fingerprint import fingerprint
from modelcheck.engine.frontier import Frontier
from modelcheck.engine.replay import rebuild
from modelcheck.engine.store import FingerprintSet
from modelcheck.model import Model

#: States per level handed to the sampling checks (mutability, symmetry).
SAMPLE = 256

Canonical = Callable[[Hashable], tuple[Hashable, int]]


class ExactVisited:
    """Every state kept as itself, mapped to its parent state."""

    def __init__(self) -> None:
        self.parents: dict[Hashable, Hashable | None] = {}
        self._frontier: list[Hashable] = []
        self._next: list[Hashable] = []
        self._newest: Hashable = None

    def add_initial(self, state: Hashable, action: int) -> bool:
        if state in self.parents:
            return False
        self.parents[state] = None
        self._frontier.append(state)
        return True

    def add(self, state: Hashable, parent: Hashable, action: int) -> bool:
        parents = self.parents
        if state in parents:
            return False
        parents[state] = parent
        self._next.append(state)
        self._newest = state
        return True

    def __contains__(self, state: Hashable) -> bool:
        return state in self.parents

    def newest(self) -> Hashable:
        return self._newest

    @property
    def kept(self) -> int:
        return len(self.parents)

    def level(self) -> Iterator[tuple[Hashable, Hashable]]:
        return ((state, state) for state in self._frontier)

    def level_size(self) -> int:
        return len(self._frontier)

    def sample(self) -> list[Hashable]:
        return self._frontier[:SAMPLE]

    def ref_of(self, state: Hashable) -> Hashable:
        return state

    def end_level(self) -> int:
        self._frontier, self._next = self._next, []
        return len(self._frontier)

    def path_to(self, state: Hashable) -> list[Hashable]:
        path = [state]
        while (state := self.parents[state]) is not None:
            path.append(state)
        path.reverse()
        return path

    def headroom(self) -> int:
        """Memory the store may claim at once (a dict doubling its table)."""
        return 48 * len(self.parents)

    def close(self) -> None:
        pass


#: One parent link: parent's index (-1 for an initial state), action index,
#: fingerprint.  20 bytes a kept state, on disk.
LINK = np.dtype([("parent", "<i8"), ("action", "<u4"), ("fp", "<u8")])
_LINK_BUFFER = 1 << 16


class FingerprintVisited:
    """Fingerprints in memory; frontier, parent links and traces on disk."""

    def __init__(self, model: Model, canonical: Canonical | None, workdir: Path | None = None
                 ) -> None:
        self._model = model
        self._canonical = canonical
        self._own_dir = workdir is None
        self.dir = Path(tempfile.mkdtemp(prefix="modelcheck-")) if workdir is None else workdir
        self.seen = FingerprintSet()
        self._frontier = Frontier(self.dir, "level")
        self._next = Frontier(self.dir, "next")
        #: Index of the first state of the level being expanded.
        self.level_start = 0
        self._links_path = self.dir / "links.bin"
        self._links_file = open(self._links_path, "ab")
        self._buffer: list[tuple[int, int, int]] = []
        self._written = 0
        self._sample_refs: dict[Hashable, int] = {}

    def add_initial(self, state: Hashable, action: int) -> bool:
        fp = fingerprint(state)
        if not self.seen.add(fp):
            return False
        if len(self._sample_refs) < SAMPLE:
            self._sample_refs[state] = self.kept
        self._frontier.append(state)
        self._link(-1, action, fp)
        return True

    def add(self, state: Hashable, parent: int, action: int) -> bool:
        fp = fingerprint(state)
        if not self.seen.add(fp):
            return False
        self._next.append(state)
        self._link(parent, action, fp)
        return True

    def _link(self, parent: int, action: int, fp: int) -> None:
        self._buffer.append((parent, action, fp))
        if len(self._buffer) >= _LINK_BUFFER:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            np.array(self._buffer, dtype=LINK).tofile(self._links_file)
            self._written += len(self._buffer)
            self._buffer = []
        self._links_file.flush()

    def __contains__(self, state: Hashable) -> bool:
        return fingerprint(state) in self.seen

    def newest(self) -> int:
        return self.kept - 1

    @property
    def kept(self) -> int:
        return self._written + len(self._buffer)

    def level(self) -> Iterator[tuple[int, Hashable]]:
        return enumerate(self._frontier, start=self.level_start)

    def level_size(self) -> int:
        return len(self._frontier)

    def sample(self) -> list[Hashable]:
        return list(self._sample_refs)

    def ref_of(self, state: Hashable) -> int:
        return self._sample_refs[state]

    def end_level(self) -> int:
        self.level_start += len(self._frontier)
        self._frontier.discard()
        self._frontier, self._next = self._next, self._frontier
        first = self._frontier.head(SAMPLE)
        self._sample_refs = {state: self.level_start + i for i, state in enumerate(first)}
        return len(self._frontier)

    def links_to(self, ref: int) -> list[tuple[int, int]]:
        """(action index, fingerprint) of each state from an initial one to ``ref``."""
        self._flush()
        records = np.memmap(self._links_path, dtype=LINK, mode="r", shape=(self.kept,))
        links = []
        while ref >= 0:
            parent, action, fp = records[ref]
            links.append((int(action), int(fp)))
            ref = int(parent)
        del records
        links.reverse()
        return links

    def path_to(self, ref: int) -> list[Hashable]:
        return rebuild(self._model, self._canonical, self.links_to(ref))

    def headroom(self) -> int:
        """Memory the store may claim at once: a segment doubling, frontier chunks."""
        return self.seen.growth_bytes() + self._frontier.unclaimed + self._next.unclaimed

    def close(self) -> None:
        self._links_file.close()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
