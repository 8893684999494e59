"""Mistake: __init__ does not call super().__init__."""

from tests.mistakes._correct import Correct


class Spec(Correct):
    def __init__(self, nodes: int = 2) -> None:
        self.size = nodes
