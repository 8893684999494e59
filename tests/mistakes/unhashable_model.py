"""Mistake: a Model-level spec whose initial state holds a list."""

from modelcheck import Model


class Spec(Model):
    def initial_states(self):
        yield (0, [])

    def successors(self, s):
        return []
