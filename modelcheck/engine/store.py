"""A compact set of 64-bit state fingerprints (``--store fingerprint``).

Open addressing with linear probing in numpy ``uint64`` arrays, 0 marking a
free slot (``fingerprint`` never returns 0).  The table is split into
``SEGMENTS`` segments by the fingerprint's top byte, each doubling on its
own when it passes ``MAX_LOAD``: growing one segment at a time keeps the
momentary cost of a doubling to 1/256 of the table, so peak memory is the
table itself, 8 bytes per slot, between 10 and 20 bytes per fingerprint.

Collision estimate: with ``n`` fingerprints drawn uniformly from 2^64
values, the probability that two states shared a fingerprint (so that one
of them, and whatever only it leads to, was never explored) is about
n(n-1)/2 / 2^64, TLC's "optimistic" figure.  ``collision_probability``
gives it.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from modelcheck.errors import SpecError

SEGMENTS = 256
#: A segment doubles once more than this share of its slots is taken.
MAX_LOAD = 0.8
_MIN_SLOTS = 1024
_MAGIC = "modelcheck-fingerprints-1"


def collision_probability(n: int) -> float:
    """Probability that some two of ``n`` random 64-bit fingerprints are equal."""
    return min(1.0, n * (n - 1) / 2 / 2.0**64)


class FingerprintSet:
    """A set of non-zero 64-bit integers, 8 bytes per slot.

    With ``values``, a map instead: each fingerprint carries an int64 (the
    state's index, for ``@recoverable`` properties), 8 more bytes a slot;
    use ``insert`` then, not ``add``.
    """

    def __init__(self, expected: int = 0, values: bool = False) -> None:
        slots = _MIN_SLOTS
        while slots * MAX_LOAD * SEGMENTS < expected:
            slots *= 2
        self._tables = [np.zeros(slots, dtype=np.uint64) for _ in range(SEGMENTS)]
        self._values = ([np.zeros(slots, dtype=np.int64) for _ in range(SEGMENTS)]
                        if values else None)
        self._counts = [0] * SEGMENTS
        self._refresh()

    def _refresh(self) -> None:
        # memoryviews index to Python ints several times faster than numpy.
        self._views = [memoryview(table) for table in self._tables]
        self._value_views = ([memoryview(v) for v in self._values]
                             if self._values is not None else None)
        self._limits = [int(len(table) * MAX_LOAD) for table in self._tables]

    def add(self, fp: int) -> bool:
        """Insert ``fp``; True if it was not there before."""
        segment = fp >> 56
        view = self._views[segment]
        slot = _probe(view, fp)
        if view[slot]:
            return False
        self._place(segment, slot, fp)
        return True

    def insert(self, fp: int, value: int) -> int:
        """Map ``fp`` to ``value`` if it is new (then -1), else its value."""
        segment = fp >> 56
        view = self._views[segment]
        slot = _probe(view, fp)
        values = self._value_views[segment]  # type: ignore[index]
        if view[slot]:
            return values[slot]
        values[slot] = value
        self._place(segment, slot, fp)
        return -1

    def _place(self, segment: int, slot: int, fp: int) -> None:
        self._views[segment][slot] = fp
        self._counts[segment] += 1
        if self._counts[segment] > self._limits[segment]:
            self._grow(segment)

    def __contains__(self, fp: int) -> bool:
        view = self._views[fp >> 56]
        return bool(view[_probe(view, fp)])

    def __len__(self) -> int:
        return sum(self._counts)

    @property
    def nbytes(self) -> int:
        values = sum(v.nbytes for v in self._values) if self._values is not None else 0
        return sum(table.nbytes for table in self._tables) + values

    def growth_bytes(self) -> int:
        """Memory the next doubling of a segment may take (a bound for limits)."""
        per_slot = 2 if self._values is not None else 1
        return 2 * per_slot * max(table.nbytes for table in self._tables)

    def _grow(self, segment: int) -> None:
        old = self._tables[segment]
        taken = old != 0
        keys = old[taken]
        self._views[segment].release()
        self._tables[segment] = table = np.zeros(2 * len(old), dtype=np.uint64)
        del old
        if self._values is None:
            _insert_distinct(table, keys, None, None)
        else:
            self._value_views[segment].release()  # type: ignore[index]
            values = self._values[segment][taken]
            self._values[segment] = np.zeros(len(table), dtype=np.int64)
            _insert_distinct(table, keys, self._values[segment], values)
            self._value_views[segment] = memoryview(self._values[segment])  # type: ignore[index]
        self._views[segment] = memoryview(table)
        self._limits[segment] = int(len(table) * MAX_LOAD)

    def save(self, path: Path) -> None:
        """Write the set to ``path`` and fsync it (values are not saved)."""
        with open(path, "wb") as out:
            np.savez(out, magic=np.array(_MAGIC), counts=np.array(self._counts, dtype=np.int64),
                     sizes=np.array([len(t) for t in self._tables], dtype=np.int64),
                     slots=np.concatenate(self._tables))
            out.flush()
            os.fsync(out.fileno())

    @classmethod
    def load(cls, path: Path) -> FingerprintSet:
        """Read a set written by ``save``; SpecError if it is damaged."""
        try:
            with np.load(path, allow_pickle=False) as data:
                magic, counts, sizes = str(data["magic"]), data["counts"], data["sizes"]
                slots = data["slots"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise SpecError(f"{path}: not a readable fingerprint table ({exc})") from exc
        if (magic != _MAGIC or len(counts) != SEGMENTS or len(sizes) != SEGMENTS
                or int(sizes.sum()) != len(slots)):
            raise SpecError(f"{path}: not a fingerprint table of this version")
        store = cls.__new__(cls)
        store._values = None
        store._tables = list(np.split(slots, np.cumsum(sizes)[:-1]))
        store._tables = [np.ascontiguousarray(t, dtype=np.uint64) for t in store._tables]
        store._counts = [int(c) for c in counts]
        if [int(np.count_nonzero(t)) for t in store._tables] != store._counts:
            raise SpecError(f"{path}: fingerprint table is corrupt (counts do not match)")
        store._refresh()
        return store


def _probe(view: memoryview, fp: int) -> int:
    """The slot holding ``fp``, or else the free slot where it belongs."""
    mask = len(view) - 1
    slot = fp & mask
    while (held := view[slot]) and held != fp:
        slot = (slot + 1) & mask
    return slot


def _insert_distinct(table: np.ndarray, keys: np.ndarray, value_table: np.ndarray | None,
                     values: np.ndarray | None) -> None:
    """Insert keys (distinct, none in ``table``) by linear probing, vectorised;
    with ``values``, each key's value goes to the same slot of ``value_table``.

    Each round, of the keys aiming at a free slot one per slot takes it; all
    others move one slot on.  A key only ever passes taken slots, which is
    what lookups by linear probing rely on.
    """
    mask = np.uint64(len(table) - 1)
    slots = keys & mask
    while keys.size:
        aiming = np.flatnonzero(table[slots] == 0)
        _, first = np.unique(slots[aiming], return_index=True)
        placed = aiming[first]
        table[slots[placed]] = keys[placed]
        left = np.ones(keys.size, dtype=bool)
        left[placed] = False
        if values is not None:
            value_table[slots[placed]] = values[placed]  # type: ignore[index]
            values = values[left]
        keys = keys[left]
        slots = (slots[left] + np.uint64(1)) & mask
