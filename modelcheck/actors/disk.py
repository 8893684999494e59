"""A node's disk: files whose writes sit in the page cache until fsync.

Each durable field is one file.  A file is stored as the tuple of versions a
power loss could leave behind, oldest first; the last is what the node reads
now.  That is exact for "any prefix of the unsynced writes survives": the
version after each prefix is in the tuple, and nothing else is.

| event                      | effect on a file                         |
|----------------------------|------------------------------------------|
| write                      | the new version is appended              |
| fsync                      | only the current version remains         |
| process crash (kill -9)    | unchanged: the page cache survives       |
| power loss / OS crash      | any one version survives, synced         |

A version written earlier and written again is kept once: which versions can
survive, not in what order they were written, decides what can happen next.
"""

from __future__ import annotations

from typing import Any

File = tuple[Any, ...]


def fresh(value: Any) -> File:
    return (value,)


def current(file: File) -> Any:
    return file[-1]


def write(file: File, value: Any) -> File:
    if value == file[-1]:
        return file
    return tuple(v for v in file if v != value) + (value,)


def fsync(file: File) -> File:
    return file if len(file) == 1 else (file[-1],)


def is_synced(file: File) -> bool:
    return len(file) == 1


def survivors(file: File) -> tuple[Any, ...]:
    """Every version a power loss can leave: one branch each."""
    return file
