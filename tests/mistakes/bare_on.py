"""Mistake: @on without the message kind."""

from modelcheck.actors import on
from tests.mistakes._correct import Correct, Peer


class BarePeer(Peer):
    @on
    def on_hello(self, msg):
        pass


class Spec(Correct):
    node = BarePeer
