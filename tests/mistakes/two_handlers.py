"""Mistake: two handlers of the same message kind."""

from modelcheck.actors import on
from tests.mistakes._correct import Correct, Peer


class TwicePeer(Peer):
    @on("Hello")
    def greet(self, msg):
        pass

    @on("Hello")
    def greet_again(self, msg):
        pass


class Spec(Correct):
    node = TwicePeer
