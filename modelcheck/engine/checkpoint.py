"""Durable checkpoints of a fingerprint search (``--checkpoint DIR``) and
resuming them (``modelcheck resume DIR``).

A checkpoint directory holds:

* ``links.bin``: the parent links, append-only (``visited.LINK`` records);
* ``gen-N/``: the fingerprint table, the level being expanded and the next
  level so far, as pickled chunks;
* ``checkpoint.json``: what is being checked (spec file and its SHA-256,
  parameters, options), where the search stands, how many link records
  count and their SHA-256, and the SHA-256 of every file of ``gen-N``.

Files are written the way this project tells its users to write: to a
temporary name, fsync, rename, fsync the directory.  A new generation is
complete and synced before ``checkpoint.json`` names it, and the old one is
deleted only after, so a kill at any moment leaves one whole checkpoint.
Reading checks every digest: a truncated or changed file is refused, never
silently used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modelcheck.errors import SpecError

VERSION = 1
MANIFEST = "checkpoint.json"


@dataclass(frozen=True)
class Position:
    """Where a search stands: enough, with the store, to carry on exactly."""

    #: BFS level being expanded (initial states are level 1).
    depth: int
    #: States of that level already expanded.
    expanded_in_level: int
    represented: int
    transitions: int
    expanded: int
    seconds: float


def write_durably(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: temp file, fsync, rename, fsync the directory."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class Checkpoint:
    """Checkpoints of one search into ``directory``, at most every ``every`` seconds.

    ``identity`` says what is checked; ``command`` how to run it again (for
    ``resume``).  If the directory already holds a checkpoint of the same
    identity, the search resumes from it (``saved``); of another, SpecError.
    """

    def __init__(self, directory: Path, identity: dict[str, Any], command: dict[str, Any],
                 every: float) -> None:
        self.directory = directory
        self.identity = identity
        self.command = command
        self.every = every
        self.saved: dict[str, Any] | None = None
        if (directory / MANIFEST).exists():
            saved = read(directory)
            _same_identity(directory, saved["identity"], identity)
            self.saved = saved
        else:
            directory.mkdir(parents=True, exist_ok=True)
        self.generation = self.saved["generation"] if self.saved else 0
        self._last = time.monotonic()

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.every

    def position(self) -> Position | None:
        """Where the saved search stood (None: nothing to resume)."""
        return Position(**self.saved["position"]) if self.saved else None

    def generation_dir(self) -> Path:
        return self.directory / f"gen-{self.generation}"

    def save(self, visited: Any, position: Position) -> None:
        """Write ``visited``'s state and ``position`` as the new checkpoint."""
        generation = self.generation + 1
        target = self.directory / f"gen-{generation}"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        store = visited.save(target)
        files = {}
        for path in sorted(target.iterdir()):
            with open(path, "rb") as written:
                os.fsync(written.fileno())
            files[path.name] = _digest(path)
        _fsync_directory(target)
        _fsync_directory(self.directory)
        body = {"version": VERSION, "identity": self.identity, "command": self.command,
                "generation": generation, "store": store, "position": asdict(position),
                "files": files}
        text = json.dumps(body, sort_keys=True)
        manifest = {"body": body, "sha256": hashlib.sha256(text.encode()).hexdigest()}
        write_durably(self.directory / MANIFEST, json.dumps(manifest, indent=1).encode())
        shutil.rmtree(self.generation_dir(), ignore_errors=True)
        self.generation = generation
        self._last = time.monotonic()


def read(directory: Path) -> dict[str, Any]:
    """The checkpoint in ``directory``, every file checked; SpecError if unusable."""
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        body = manifest["body"]
        text = json.dumps(body, sort_keys=True)
        intact = hashlib.sha256(text.encode()).hexdigest() == manifest["sha256"]
    except FileNotFoundError:
        raise SpecError(f"{directory} holds no checkpoint ({MANIFEST} is missing)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SpecError(f"{path} is truncated or corrupt ({exc}); it cannot be resumed") from exc
    if not intact:
        raise SpecError(f"{path} is corrupt (its checksum does not match); it cannot be resumed")
    if body.get("version") != VERSION:
        raise SpecError(f"{path} was written by another version of modelcheck")
    generation = directory / f"gen-{body['generation']}"
    for name, digest in body["files"].items():
        file = generation / name
        if not file.is_file():
            raise SpecError(f"checkpoint file {file} is missing; the checkpoint cannot be resumed")
        if _digest(file) != digest:
            raise SpecError(f"checkpoint file {file} is truncated or changed; "
                            "the checkpoint cannot be resumed")
    return body


def _same_identity(directory: Path, saved: dict[str, Any], wanted: dict[str, Any]) -> None:
    differences = [key for key in sorted(set(saved) | set(wanted)) if saved.get(key) != wanted.get(key)]
    if not differences:
        return
    described = "; ".join(
        f"{key}: {_show(saved.get(key))} in the checkpoint, {_show(wanted.get(key))} now"
        for key in differences
    )
    raise SpecError(
        f"{directory} holds a checkpoint of another check ({described}). Resume it with "
        f"`modelcheck resume {directory}`, or give --checkpoint another directory"
    )


def _show(value: Any) -> str:
    if isinstance(value, str) and len(value) == 64:  # a digest
        return value[:12] + "…"
    return json.dumps(value, sort_keys=True)
