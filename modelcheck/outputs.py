"""Output paths checked before any search starts.

A search may run for an hour; finding only then that ``--diagram`` names a
missing directory loses the hour.  The command line checks every path it
will write first and refuses a bad one with a message naming the option,
the path and what is wrong.  Writability is probed by creating an unnamed
temporary file in the directory (``O_TMPFILE`` where the system has it),
not by permission bits, which do not bind root and know nothing of
read-only file systems; the probe leaves nothing behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from modelcheck.errors import SpecError


def check_file(path: Path, option: str) -> None:
    """Raise SpecError unless a file can be written at ``path``, given to ``option``."""
    where = f"{option} {path}"
    if path.is_dir():
        raise SpecError(f"{where}: that is a directory; give the name of the file to write")
    parent = path.parent
    if not parent.exists():
        raise SpecError(f"{where}: the directory {parent} does not exist")
    if not parent.is_dir():
        raise SpecError(f"{where}: {parent} is not a directory")
    if path.exists():
        try:
            with open(path, "ab"):  # appending nothing changes nothing
                pass
        except OSError as exc:
            raise SpecError(f"{where}: the file cannot be written ({exc.strerror})") from None
    else:
        _probe(parent, where)


def check_directory(path: Path, option: str) -> None:
    """Raise SpecError unless ``path`` (given to ``option``) is a directory
    files can be written in, or one that can be created with its parents."""
    where = f"{option} {path}"
    if path.exists() and not path.is_dir():
        raise SpecError(f"{where}: that is a file, not a directory")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise SpecError(f"{where}: {existing} is not a directory")
    _probe(existing, where)


def _probe(directory: Path, where: str) -> None:
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise SpecError(f"{where}: cannot write in {directory} ({exc.strerror})") from None
