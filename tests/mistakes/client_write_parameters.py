"""Mistake: on_client_write without the value parameter."""

from tests.mistakes._correct import Correct, Peer


class ValuelessPeer(Peer):
    def on_client_write(self):
        pass


class Spec(Correct):
    node = ValuelessPeer
