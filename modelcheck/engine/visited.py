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

import hashlib
import itertools
import os
import shutil
import tempfile
from array import array
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from modelcheck.engine.fingerprint import fingerprint
from modelcheck.engine.frontier import MEMORY_BUDGET, Frontier
from modelcheck.engine.replay import rebuild
from modelcheck.engine.store import FingerprintSet
from modelcheck.errors import SpecError
from modelcheck.model import Model
from modelcheck.recover import first_stuck_numbered

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

    @staticmethod
    def key(state: Hashable) -> Hashable:
        """What the store files ``state`` under."""
        return state

    @staticmethod
    def added_key(state: Hashable) -> Hashable:
        """What the store filed ``state``, just given to ``add``, under."""
        return state

    def newest(self) -> Hashable:
        return self._newest

    @property
    def kept(self) -> int:
        return len(self.parents)

    def level(self, skip: int = 0) -> Iterator[tuple[Hashable, Hashable]]:
        return ((state, state) for state in self._frontier[skip:])

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
_LINK_BUFFER = 1 << 14


class FingerprintVisited:
    """Fingerprints in memory; frontier, parent links and traces on disk."""

    def __init__(self, model: Model, canonical: Canonical | None, memory: int | None = None,
                 workdir: Path | None = None, fresh: bool = True,
                 recoverables: Sequence[tuple[str, Callable[[Hashable], bool]]] = ()) -> None:
        self._model = model
        self._canonical = canonical
        self._own_dir = workdir is None
        self.dir = Path(tempfile.mkdtemp(prefix="modelcheck-")) if workdir is None else workdir
        self.seen = FingerprintSet(values=bool(recoverables))
        self._added_fp = 0
        # For @recoverable properties (see recover.py): each state's number
        # by fingerprint (in ``seen``), every step as (from, to) numbers, and
        # per property whether it holds in each state.
        self._recoverables = list(recoverables)
        self._sources, self._targets = array("q"), array("q")
        self._good = [bytearray() for _ in recoverables]
        # Each of the two levels in hand may hold a sixteenth of the memory
        # limit in pickled chunks (at most MEMORY_BUDGET) before spilling.
        budget = MEMORY_BUDGET if memory is None else max(1 << 20, min(MEMORY_BUDGET, memory // 16))
        self._frontier = Frontier(self.dir, "level", budget)
        self._next = Frontier(self.dir, "next", budget)
        #: Index of the first state of the level being expanded.
        self.level_start = 0
        self._links_path = self.dir / "links.bin"
        # A resumed search keeps the links file (``restore`` checks it).
        self._links_file = open(self._links_path, "wb" if fresh else "ab")
        self._buffer: list[tuple[int, int, int]] = []
        self._written = 0
        #: Digest of the links written, for checkpoints to vouch for the file.
        self._links_digest = hashlib.sha256()
        self._sample_refs: dict[Hashable, int] = {}

    def add_initial(self, state: Hashable, action: int) -> bool:
        fp = fingerprint(state)
        if not (self.seen.insert(fp, self.kept) < 0 if self._recoverables else self.seen.add(fp)):
            return False
        self._judge(state)
        if len(self._sample_refs) < SAMPLE:
            self._sample_refs[state] = self.kept
        self._frontier.append(state)
        self._link(-1, action, fp)
        return True

    def add(self, state: Hashable, parent: int, action: int) -> bool:
        fp = self._added_fp = fingerprint(state)
        if self._recoverables:
            number = self.kept
            known = self.seen.insert(fp, number)
            self._sources.append(parent)
            self._targets.append(number if known < 0 else known)
            if known >= 0:
                return False
            self._judge(state)
        elif not self.seen.add(fp):
            return False
        self._next.append(state)
        self._link(parent, action, fp)
        return True

    def _judge(self, state: Hashable) -> None:
        for good, (name, holds) in zip(self._good, self._recoverables):
            try:
                good.append(bool(holds(state)))
            except Exception as exc:
                raise SpecError(f"recoverable property {name} raised {type(exc).__name__}: "
                                f"{exc}") from exc

    def first_stuck(self, name: str) -> int | None:
        """The number of the first state from which ``name`` can never hold again."""
        which = [n for n, _ in self._recoverables].index(name)
        good = np.frombuffer(bytes(self._good[which]), dtype=bool)
        return first_stuck_numbered(good, np.frombuffer(self._sources, dtype=np.int64),
                                    np.frombuffer(self._targets, dtype=np.int64))

    def _link(self, parent: int, action: int, fp: int) -> None:
        self._buffer.append((parent, action, fp))
        if len(self._buffer) >= _LINK_BUFFER:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            data = np.array(self._buffer, dtype=LINK).tobytes()
            self._links_file.write(data)
            self._links_digest.update(data)
            self._written += len(self._buffer)
            self._buffer = []
        self._links_file.flush()

    def __contains__(self, state: Hashable) -> bool:
        return fingerprint(state) in self.seen

    @staticmethod
    def key(state: Hashable) -> int:
        """What the store files ``state`` under: its fingerprint."""
        return fingerprint(state)

    def added_key(self, state: Hashable) -> int:
        """What the store filed ``state``, just given to ``add``, under."""
        return self._added_fp

    def newest(self) -> int:
        return self.kept - 1

    @property
    def kept(self) -> int:
        return self._written + len(self._buffer)

    def level(self, skip: int = 0) -> Iterator[tuple[int, Hashable]]:
        """The level being expanded as (index, state), less its first ``skip`` states."""
        return itertools.islice(enumerate(self._frontier, start=self.level_start), skip, None)

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
        self._sample_level()
        return len(self._frontier)

    def _sample_level(self) -> None:
        first = self._frontier.head(SAMPLE)
        self._sample_refs = {state: self.level_start + i for i, state in enumerate(first)}

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

    def save(self, target: Path) -> dict[str, Any]:
        """Write the store's state into directory ``target`` (links stay in
        place, append-only); what ``restore`` needs to find it again."""
        self._flush()
        os.fsync(self._links_file.fileno())
        self.seen.save(target / "fingerprints.npz")
        return {
            "links": self._written, "links_sha256": self._links_digest.hexdigest(),
            "level_start": self.level_start,
            "level": self._frontier.save(target, "level"), "level_size": len(self._frontier),
            "next": self._next.save(target, "next"), "next_size": len(self._next),
        }

    def restore(self, source: Path, saved: dict[str, Any]) -> None:
        """Take the state ``save`` wrote to ``source``: this store must be new.

        Raises SpecError when a file does not hold what was saved.
        """
        self._links_file.close()
        size = saved["links"] * LINK.itemsize
        with open(self._links_path, "r+b") as links:
            data = links.read(size)
            digest = hashlib.sha256(data)
            if len(data) != size or digest.hexdigest() != saved["links_sha256"]:
                raise SpecError(f"{self._links_path} is truncated or changed since the "
                                "checkpoint; the checkpoint cannot be resumed")
            links.truncate(size)  # links written after the checkpoint
        self._links_file = open(self._links_path, "ab")
        self._links_digest = digest
        self._written = saved["links"]
        self.seen = FingerprintSet.load(source / "fingerprints.npz")
        self.level_start = saved["level_start"]
        self._frontier.restore([source / name for name in saved["level"]], saved["level_size"])
        self._next.restore([source / name for name in saved["next"]], saved["next_size"])
        self._sample_level()

    def headroom(self) -> int:
        """Memory the store may claim at once: a segment doubling, frontier chunks."""
        return self.seen.growth_bytes() + self._frontier.unclaimed + self._next.unclaimed

    def close(self) -> None:
        self._links_file.close()
        self._frontier.discard()
        self._next.discard()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
