"""Mistake: @timeout() with parentheses."""

from modelcheck.actors import timeout
from tests.mistakes._correct import Correct, Peer


class CalledPeer(Peer):
    @timeout()
    def start(self):
        pass


class Spec(Correct):
    node = CalledPeer
