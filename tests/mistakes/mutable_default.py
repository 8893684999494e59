"""Mistake: a field whose default is a list."""

from modelcheck.actors import Volatile
from tests.mistakes._correct import Correct, Peer


class ListPeer(Peer):
    items = Volatile([])


class Spec(Correct):
    node = ListPeer
