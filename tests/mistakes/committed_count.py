"""Mistake: committed() returns a count, not the prefix."""

from tests.mistakes._correct import Correct, Peer


class CountingPeer(Peer):
    def committed(self):
        return len(self.log)


class Spec(Correct):
    node = CountingPeer
