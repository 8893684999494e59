"""Mistake: the protocol names no node class."""

from modelcheck.actors import Protocol


class Spec(Protocol):
    def __init__(self, nodes: int = 2) -> None:
        super().__init__(nodes)
