"""Mistake: a handler returns the new value instead of assigning it."""

from modelcheck.actors import timeout
from tests.mistakes._correct import Correct, Peer


class ReturningPeer(Peer):
    @timeout
    def start(self):
        if not self.items:
            return self.items + ("started",)


class Spec(Correct):
    node = ReturningPeer
