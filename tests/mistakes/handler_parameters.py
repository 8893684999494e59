"""Mistake: a message handler without the message parameter."""

from modelcheck.actors import on
from tests.mistakes._correct import Correct, Peer


class DeafPeer(Peer):
    @on("Hello")
    def on_hello(self):
        pass


class Spec(Correct):
    node = DeafPeer
