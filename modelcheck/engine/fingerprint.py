"""Stable 64-bit fingerprints of states.

``fingerprint(state)`` is the same number in every process and on every
machine, so fingerprints can be stored, compared across workers and written
to checkpoints.  Python's ``hash()`` is salted per process, and so is the
iteration order of a frozenset of strings; neither is used.

A value is encoded canonically: a type tag, then its contents, every part
self-delimiting; a frozenset's element encodings are sorted.  Composite
values (tuples, frozensets, messages, dataclasses) are replaced inside their
parent's encoding by a 16-byte BLAKE2b digest of their own encoding, which
is memoised: a node's state or a message recurs across millions of global
states and is then encoded once.  The state's fingerprint is the first 8
bytes of the BLAKE2b digest of its encoding.

Equal states get equal fingerprints: the encoding follows ``==`` as the
exact store does (``True`` and ``1`` encode alike, a NamedTuple like the
plain tuple it equals).  Types with no canonical encoding are refused.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Hashable
from hashlib import blake2b
from typing import Any

from modelcheck.actors.network import Message
from modelcheck.errors import SpecError

#: Memo entries kept before the memo is cleared; bounds its memory (~40 MB).
MEMO_LIMIT = 200_000

_memo: dict[Any, bytes] = {}


def fingerprint(state: Hashable) -> int:
    """The state's 64-bit fingerprint (never 0: the store uses 0 for empty)."""
    digest = blake2b(_encode(state), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


def _token(value: Any) -> bytes:
    """``value``'s self-delimiting part of its parent's encoding."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return _encode(value)
    # Keyed by value, not identity: successor states are new objects, but
    # their node states and messages are equal to ones seen before.
    token = _memo.get(value)
    if token is None:
        if len(_memo) >= MEMO_LIMIT:
            _memo.clear()
        token = _memo[value] = b"#" + blake2b(_encode(value), digest_size=16).digest()
    return token


def _encode(value: Any) -> bytes:
    kind = type(value)
    if kind is str:
        data = value.encode("utf-8", "surrogatepass")
        return b"s%d:" % len(data) + data
    if kind is int or kind is bool:
        return b"i%d;" % value
    if value is None:
        return b"n"
    if kind is Message:
        return b"m(" + b"".join(map(_token, (value.src, value.dst, value.kind, value.body))) + b")"
    if isinstance(value, tuple):  # NamedTuples equal plain tuples, so encode alike
        return b"(" + b"".join(map(_token, value)) + b")"
    if isinstance(value, frozenset):
        return b"{" + b"".join(sorted(map(_token, value))) + b"}"
    if isinstance(value, enum.Enum):
        return b"e" + _token(_qualified(kind)) + _token(value.name)
    if isinstance(value, float):
        return _encode(int(value)) if value.is_integer() else b"f" + _token(repr(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = tuple(getattr(value, f.name) for f in dataclasses.fields(value) if f.compare)
        return b"d" + _token(_qualified(kind)) + _token(fields)
    raise SpecError(
        f"cannot fingerprint a {kind.__name__} in a state ({value!r:.80}): states for "
        "--store fingerprint are built of tuples, NamedTuples, frozensets, str, int, "
        "bool, None, enums and frozen dataclasses"
    )


def _qualified(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"
