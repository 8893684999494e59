"""Mistake: a @step without the node name parameter."""

from modelcheck.actors.cluster import step
from tests.mistakes._correct import Correct


class Spec(Correct):
    @step("elect {}")
    def elect(self, cluster):
        pass
