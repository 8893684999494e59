"""Mistake: @step without its label."""

from modelcheck.actors.cluster import step
from tests.mistakes._correct import Correct


class Spec(Correct):
    @step
    def elect(self, cluster, name):
        pass
