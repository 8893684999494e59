"""The ABD atomic register, with and without fsync.

Source: H. Attiya, A. Bar-Noy and D. Dolev, "Sharing Memory Robustly in
Message-Passing Systems", JACM 42(1), 1995: a linearizable read/write
register emulated by ``n`` replicas, any minority of which may crash, in
its multi-reader form (reads write back what they return, so that two
reads cannot see a new value and then an old one).

The protocol, as modelled:

* each replica keeps a tagged value ``(tag, value)`` on disk and adopts a
  tagged value only if its tag is higher than its own;
* a **write** goes to a replica, which acts for the client: it stores the
  value itself, sends it to the others (``Store``) and acknowledges the
  write once a majority, itself included, has stored it (``Stored``);
* a **read** goes to a replica: phase one asks every replica for its tagged
  value (``Query``/``Value``) and keeps the highest of a majority's; phase
  two stores that one on a majority (``Store``/``Stored``, the write-back),
  and only then does the read return its value.

Modelling choices: the client is the single writer of the multi-reader
register, and writes the values 1, 2, ... in order, each after the last is
acknowledged (as ``Register`` clients do, see modelcheck.actors.client), so
a write's value serves as its tag and the writer needs no query phase.
Each read is a reader of its own.  A replica counts itself at once in both
quorums.  Replies to a finished round are left alone (they change nothing).

``write_back`` (default true): ``false`` drops the read's second phase, which
gives Lamport's regular register, not an atomic one.

``fsync``:

``always``
    a replica fsyncs its tagged value before it replies ``Stored`` or counts
    itself (the paper's crash-stop replicas: a crash loses nothing stored);
``never``
    it never does: a power loss can take a replica's tagged value back.

What the search shows (``modelcheck check abd``, writes 1, reads 1,
``power_loss=1``):

* ``fsync=always``: ``ok``: every history is linearizable and no read
  misses an acknowledged write, in every interleaving of one write, one
  read and one power loss (and with ``crash=1`` too, see tests/test_abd.py).
* ``fsync=never``: ``durability`` breaks after nine steps (a trace of 10
  numbered lines, the initial state being the first), the seed's A/B/C story
  for a register: write 1 is acknowledged by a majority {A, B}, one of the
  two loses it in a power loss, and a read served by that replica and C,
  the one that never had it, finds no trace of write 1 and returns the
  empty register.  The same history is not linearizable (``--only
  linearizable``).  The intersection of two majorities is one replica, and
  one replica's amnesia is enough: replication without fsync tolerates
  crashes, not power loss.

Nine steps after the initial state are the least: the write takes three
(the client's request, a replica storing it, the coordinator hearing back),
the power loss one, and the read five (the request, a Query and its Value,
the write-back's Store and Stored); a shorter non-linearizable history
would need a read to return a value never written.

* ``write_back=false`` (``--reads 2``): not linearizable after seven steps,
  with no fault: read 1 hears write 1 from the one replica that has it
  while the write is in flight, read 2, begun after read 1 returned, hears
  two replicas that do not (the new/old inversion that the write-back
  exists to prevent).

Bigger bounds cost (``fsync=always``, loaded machine): 1 write and 1 read,
7,377 states kept, 2-5 s; 2 writes and 1 read, 222,718 kept, 73 s; 1 write
and 2 reads, not exhausted in 90 s (231,309 kept at depth 11): each read
adds a round of messages to every replica, which the bag lets arrive in any
order.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from modelcheck.actors import Durable, Node, Protocol, Volatile, on
from modelcheck.gallery import Counterexample
from modelcheck.linearizable import Register
from modelcheck.run import Options
from modelcheck.trace import show


class Tagged(NamedTuple):
    """A register value with the tag that orders it (the write's number)."""

    tag: int
    value: Any

    def __repr__(self) -> str:
        return f"({self.tag}, {show(self.value)})"


EMPTY = Tagged(0, None)


class Round(NamedTuple):
    """An operation a replica coordinates: ``("write", value)`` or
    ``("read", number)``, the phase it is in, who answered, and the highest
    tagged value heard (what a write or a write-back stores)."""

    op: tuple[str, int]
    phase: str  # "query" (reads only) or "store"
    heard: frozenset[str]
    best: Tagged

    def __repr__(self) -> str:
        kind, number = self.op
        return f"{kind} {number}: {self.phase}, heard {''.join(sorted(self.heard))}, {self.best!r}"


class Replica(Node):
    stored = Durable(EMPTY)
    rounds = Volatile(())  # the Rounds this replica coordinates, sorted

    def adopt(self, tagged: Tagged) -> None:
        """Keep ``tagged`` if it is newer, and under ``always`` make it durable."""
        if tagged.tag > self.stored.tag:
            self.stored = tagged
            if self.protocol.fsync == "always":
                self.fsync()

    def update(self, old: Round, new: Round | None) -> None:
        rest = [r for r in self.rounds if r != old]
        self.rounds = tuple(sorted(rest + ([new] if new is not None else [])))

    def start_store(self, op: tuple[str, int], tagged: Tagged, old: Round | None) -> None:
        """Phase "store": this replica and then a majority keep ``tagged``."""
        self.adopt(tagged)
        self.update(old, Round(op, "store", frozenset({self.name}), tagged))
        self.broadcast("Store", op=op, stored=tagged)
        self.finish_if_done(self.round_of(op))

    def round_of(self, op: tuple[str, int]) -> Round | None:
        return next((r for r in self.rounds if r.op == op), None)

    # --- the client's operations ----------------------------------------------------

    def on_client_write(self, value: int) -> None:
        self.start_store(("write", value), Tagged(value, value), None)

    def on_client_read(self, op: int) -> None:
        round_ = Round(("read", op), "query", frozenset({self.name}), self.stored)
        self.update(None, round_)
        self.broadcast("Query", op=round_.op)

    # --- replicas answering -------------------------------------------------------

    @on("Store")
    def on_store(self, msg) -> None:
        self.adopt(msg.stored)
        self.send(msg.src, "Stored", op=msg.op)

    @on("Query")
    def on_query(self, msg) -> None:
        self.send(msg.src, "Value", op=msg.op, stored=self.stored)

    # --- the coordinator hearing back ---------------------------------------------

    @on("Value")
    def on_value(self, msg) -> None:
        round_ = self.round_of(msg.op)
        if round_ is None or round_.phase != "query" or msg.src in round_.heard:
            return
        best = max(round_.best, msg.stored)
        heard = round_.heard | {msg.src}
        if len(heard) < self.majority:
            self.update(round_, round_._replace(heard=heard, best=best))
        elif self.protocol.write_back:  # what the read returns must be on a majority first
            self.start_store(round_.op, best, round_)
        else:
            self.update(round_, None)
            self.respond(round_.op[1], best.value)

    @on("Stored")
    def on_stored(self, msg) -> None:
        round_ = self.round_of(msg.op)
        if round_ is None or round_.phase != "store" or msg.src in round_.heard:
            return
        new = round_._replace(heard=round_.heard | {msg.src})
        self.update(round_, new)
        self.finish_if_done(new)

    def finish_if_done(self, round_: Round) -> None:
        if len(round_.heard) < self.majority:
            return
        self.update(round_, None)
        kind, number = round_.op
        if kind == "write":
            self.ack(number)
        else:
            self.respond(number, round_.best.value)


class ABD(Protocol):
    summary = "ABD atomic register (Attiya, Bar-Noy, Dolev): fsync=never loses an acked write"
    node = Replica
    behaves_as = Register()
    default_writes = 1
    default_reads = 1
    default_faults = "power_loss=1"
    counterexamples = [
        Counterexample(
            "never", "a replica of the write's majority loses it in a power loss; a read "
            "served by it and the replica that never had the write returns the empty "
            "register", params=("fsync=never",)),
        Counterexample(
            "never-linearizable", "the same history, judged by the built-in linearizability "
            "check", params=("fsync=never",), options=Options(only=("linearizable",))),
        Counterexample(
            "no_write_back", "reads return without the write-back: one read sees a write "
            "still in flight, a later read does not (the new/old inversion)",
            params=("write_back=false",), options=Options(reads=2)),
    ]

    def __init__(self, nodes: int = 3, fsync: Literal["always", "never"] = "always",
                 write_back: bool = True) -> None:
        super().__init__(nodes)
        self.fsync = fsync
        self.write_back = write_back
