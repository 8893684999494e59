"""How much memory a search uses and may use (``--memory``).

The search reads its resident set size every thousand or so expansions and
stops, as ``incomplete`` with limit ``memory``, once that plus what its store
may claim at once would pass the limit: stopping early is cheap, being
killed by the kernel loses everything.

The default limit is a safe share of the machine: three quarters of the
smaller of physical memory and the cgroup limit, and no more than what was
available when the run started (other processes keep theirs).
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from modelcheck.errors import SpecError

_PAGE = os.sysconf("SC_PAGE_SIZE")
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20,
          "MB": 1 << 20, "MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30,
          "T": 1 << 40, "TB": 1 << 40, "TIB": 1 << 40}


def rss() -> int:
    """This process's resident set size in bytes."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE


def parse_size(text: str) -> int:
    """``4GB``, ``512M``, ``1.5GiB`` or plain bytes; units are powers of 1024."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).upper() if match else None
    if match is None or unit not in _UNITS:
        raise SpecError(f"--memory {text!r}: expected a size such as 4GB, 512MB or 1.5GiB")
    size = int(float(match.group(1)) * _UNITS[unit])
    if size <= 0:
        raise SpecError(f"--memory {text!r}: the limit must be positive")
    return size


def default_limit() -> int:
    """Three quarters of the machine's (or cgroup's) memory, within what is free now."""
    info = _meminfo()
    total = info.get("MemTotal", 0)
    cgroup = _cgroup_limit()
    if cgroup is not None:
        total = min(total, cgroup) if total else cgroup
    share = total * 3 // 4
    available = info.get("MemAvailable")
    if available is not None:
        share = min(share, available + rss())
    return share


def _meminfo() -> dict[str, int]:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name] = int(parts[0]) * 1024
    return values


def _cgroup_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            return int(text)
    return None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a search or a simulation.

    Millions of long-lived tuples (visited states, cached successors) make
    the collector rescan them over and over, and states form no cycles: on
    five-node Raft the collector took half of a simulation's time.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
