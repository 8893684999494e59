"""A tiny spec whose verdicts are worked out by hand (tests of recover and sweep).

0 -> 1 -> 2 -> back to 0.  With ``trap`` also 2 -> 3 -> 4, from where 0 is
out of reach: ``home`` is not recoverable, and 3 (three steps in) is the
first stuck state.  With ``bug`` the invariant breaks at 2 (two steps in).
"""

from modelcheck import Model, invariant, recoverable


class Ladder(Model):
    def __init__(self, trap: bool = True, bug: bool = False, height: int = 4) -> None:
        if height < 4:
            raise ValueError("the ladder needs 4 rungs")
        self.trap, self.bug = trap, bug

    def initial_states(self):
        yield 0

    def successors(self, s):
        if s < 2:
            yield "up", s + 1
        if s == 2:
            yield "home", 0
            if self.trap:
                yield "fall", 3
        if s == 3:
            yield "deeper", 4

    @invariant
    def below_two(self, s):
        return not self.bug or s < 2

    @recoverable
    def home(self, s):
        return s == 0
