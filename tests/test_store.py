"""The fingerprint table against Python's set, including probing, growth,
saving and loading."""

import random

import numpy as np
import pytest

from modelcheck import SpecError
from modelcheck.engine.store import SEGMENTS, FingerprintSet, collision_probability


def clustered(count, seed=0):
    """Non-zero 64-bit values, many sharing a segment and a home slot, so
    linear probing and segment growth are exercised."""
    rng = random.Random(seed)
    values = []
    for i in range(count):
        top = rng.choice([0, 7, 255, rng.getrandbits(8)]) << 56
        # One value in fifty aims at the same home slot as others.
        low = rng.choice([0, 1, 1023]) if i % 50 == 0 else rng.getrandbits(20)
        values.append(top | (rng.getrandbits(16) << 20) | low or 1)
    return values


def test_behaves_like_a_set():
    store, reference = FingerprintSet(), set()
    for value in clustered(60_000) * 2:
        assert store.add(value) == (value not in reference)
        reference.add(value)
    assert len(store) == len(reference)
    assert all(value in store for value in reference)
    assert not any(value in store for value in clustered(2000, seed=99) if value not in reference)


def test_memory_stays_compact():
    store = FingerprintSet()
    rng = random.Random(1)
    for _ in range(300_000):
        store.add(rng.getrandbits(64) or 1)
    # 8 bytes a slot, at least 40% of slots in use once grown past the minimum.
    assert store.nbytes / len(store) <= 8 / 0.4
    assert store.nbytes >= 8 * len(store)


def test_save_and_load(tmp_path):
    store = FingerprintSet()
    values = clustered(20_000)
    for value in values:
        store.add(value)
    store.save(tmp_path / "set.npz")
    loaded = FingerprintSet.load(tmp_path / "set.npz")
    assert len(loaded) == len(store)
    assert all(value in loaded for value in values)
    assert not loaded.add(values[0]) and loaded.add(12345 << 30)


def test_damaged_file_is_refused(tmp_path):
    store = FingerprintSet()
    for value in clustered(5000):
        store.add(value)
    path = tmp_path / "set.npz"
    store.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SpecError, match="not a readable fingerprint table"):
        FingerprintSet.load(path)
    # A slot changed behind the counts' back.
    counts = np.zeros(SEGMENTS, dtype=np.int64)
    with open(path, "wb") as out:
        np.savez(out, magic=np.array("modelcheck-fingerprints-1"), counts=counts,
                 sizes=np.full(SEGMENTS, 4, dtype=np.int64),
                 slots=np.ones(4 * SEGMENTS, dtype=np.uint64))
    with pytest.raises(SpecError, match="corrupt"):
        FingerprintSet.load(path)


def test_collision_probability():
    # n(n-1)/2 pairs, each equal with probability 2^-64.
    assert collision_probability(1) == 0
    assert collision_probability(2**32) == pytest.approx(0.5, rel=1e-6)
    assert collision_probability(10**6) == pytest.approx(10**6 * (10**6 - 1) / 2 / 2**64)
    assert collision_probability(2**40) == 1.0
