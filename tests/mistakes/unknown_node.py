"""Mistake: a handler sends to a node that does not exist."""

from modelcheck.actors import timeout
from tests.mistakes._correct import Correct, Peer


class LostPeer(Peer):
    @timeout
    def start(self):
        self.send("Z", "Hello")


class Spec(Correct):
    node = LostPeer
