"""The fault budget: how many environment faults a run may inject.

Written on the command line as ``--faults power_loss=1,crash=1,partition=2``.
Kinds not named get no budget (0); a kind alone means 1.  Healing a
partition is free.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from modelcheck.errors import SpecError


@dataclass(frozen=True)
class FaultBudget:
    #: power loss or OS crash, then restart: unsynced writes may be lost
    power_loss: int = 0
    #: process crash (kill -9), then restart: volatile state lost, disk kept
    crash: int = 0
    #: cut a set of nodes off from the rest and from the client
    partition: int = 0
    #: lose one message in flight
    drop: int = 0
    #: deliver one message twice
    duplicate: int = 0
    #: a node halts for good (modelcheck.actors.stops)
    stop: int = 0

    @classmethod
    def kinds(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def parse(cls, text: str) -> FaultBudget:
        counts: dict[str, int] = {}
        if text.strip() == "none":
            return cls()
        for item in filter(None, (part.strip() for part in text.split(","))):
            kind, eq, number = item.partition("=")
            kind = kind.strip().replace("-", "_")
            if kind not in cls.kinds():
                raise SpecError(
                    f"--faults: unknown fault kind {kind!r} (kinds: {', '.join(cls.kinds())})"
                )
            if kind in counts:
                raise SpecError(f"--faults: {kind} is given twice")
            try:
                counts[kind] = int(number) if eq else 1
            except ValueError:
                raise SpecError(f"--faults: {item!r}: the count must be an integer") from None
            if counts[kind] < 0:
                raise SpecError(f"--faults: {item!r}: the count cannot be negative")
        return cls(**counts)

    def limits(self) -> tuple[int, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    def __str__(self) -> str:
        named = [f"{f.name}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name)]
        return ",".join(named) or "none"
