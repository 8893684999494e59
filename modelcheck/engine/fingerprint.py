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

#: Memo entries kept before the memo is cleared; bounds its memory (~20 MB).
MEMO_LIMIT = 100_000

_memo: dict[Any, bytes] = {}
_memo_get = _memo.get


def fingerprint(state: Hashable) -> int:
    """The state's 64-bit fingerprint (never 0: the store uses 0 for empty)."""
    digest = blake2b(_encode(state), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


def _token(value: Any) -> bytes:
    """``value``'s self-delimiting part of its parent's encoding."""
    # Keyed by value, not identity: successor states are new objects, but
    # their node states, messages and strings are equal to ones seen before.
    token = _memo.get(value)
    if token is None:
        token = _new_token(value)
    return token


def _new_token(value: Any) -> bytes:
    if len(_memo) >= MEMO_LIMIT:
        _memo.clear()
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        token = _encode(value)
    else:
        token = b"#" + blake2b(_encode(value), digest_size=16).digest()
    _memo[value] = token
    return token


def _tokens(values: Any) -> list[bytes]:
    """The tokens of a collection's elements, looked up in C where memoised."""
    tokens = list(map(_memo_get, values))
    if None in tokens:
        tokens = [_new_token(v) if t is None else t for t, v in zip(tokens, values)]
    return tokens


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
        return b"m(" + b"".join(_tokens((value.src, value.dst, value.kind, value.body))) + b")"
    if isinstance(value, tuple):  # NamedTuples equal plain tuples, so encode alike
        return b"(" + b"".join(_tokens(value)) + b")"
    if isinstance(value, frozenset):
        return b"{" + b"".join(sorted(_tokens(tuple(value)))) + b"}"
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
