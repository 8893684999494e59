"""A family of majority-style replicated logs, for the seed's open question:
can a protocol that loses unsynced writes keep Raft's guarantees?

One Raft-like protocol whose design choices are parameters:

``nodes``, ``W``, ``R``
    how many nodes; how many must hold an entry (the leader included) before
    it is committed and acknowledged; how many votes (the candidate's own
    included) elect a leader.  Raft is ``W = R = majority``.
``fsync``
    ``always``: term, vote and log are fsynced before any reply or
    acknowledgement (the baseline: a power loss then loses nothing that was
    promised); ``log_async``: term and vote are fsynced when they change, log
    entries are not; ``never``: nothing is.
``self_ack`` (``log_async`` only)
    ``unsynced``: the leader counts its own entry toward ``W`` before it is
    on disk, as Raft implementations that write the leader's log in parallel
    do; ``synced``: the leader fsyncs its own log first, and only followers
    acknowledge unsynced entries.
``rejoin``
    what a node does after a restart, which may have lost unsynced writes:
    ``immediate``: carries on as if nothing happened (Raft without fsync);
    ``abstain``: takes no part, neither voting, campaigning nor acknowledging
    entries, until a leader of a later term than its own at the restart has
    sent it its log (Viewstamped Replication's recovery); ``detect``: it
    knows it shut down uncleanly (every restart here is a power loss) and,
    until a leader has sent it its log, neither campaigns nor votes for a
    log it cannot vouch for: it grants a vote only to a candidate whose log
    is strictly more up-to-date than its own, since an equal log may lack
    what it lost.  It still acknowledges entries.

The model is kept small so that five nodes have a chance: one client write
by default (the seed's A/B/C story needs one acknowledged write), terms up
to ``terms``, a leader replicates its whole log (one AppendEntries per event,
no nextIndex), only leaders know what is committed, and a message whose
delivery would change no node stays in the bag instead of being consumed
(see ``successors``).  A follower answers a deposed leader's AppendEntries
with its newer term, Raft's "reply false if term < currentTerm": without
it a leader cut off from the newer term's nodes would lead for ever.
With one write the loss shows as ``leader_completeness``: a leader of a
later term lacks an acknowledged write, so its next write takes that
position (``durability`` would break with one more write, at more cost).

Recovery (``--unreachable``) gets its own allowance: one more term and one
probe write, and acknowledgements that lose a write do not count as
recovering (see ``recovery``).
"""

from __future__ import annotations

from typing import Literal

from modelcheck import invariant
from modelcheck.actors import Durable, DurableLog, Node, Protocol, Volatile, World, on, timeout
from specs.raft import Entry


class Replica(Node):
    term = Durable(0)
    voted_for = Durable(None)
    log = DurableLog()  # of Entry

    role = Volatile("follower")  # follower, candidate or leader
    votes = Volatile(frozenset())  # candidates: who voted for them this term
    holders = Volatile(frozenset())  # leaders: followers known to hold the whole log
    commit = Volatile(0)  # leaders: how many entries are committed
    #: abstain / detect: the term at the last restart, until a leader of a
    #: later term has sent this node its log; None once it has (or never restarted).
    recovering_since = Volatile(None)

    # --- helpers -----------------------------------------------------------------

    def last(self) -> tuple[int, int]:
        """(last log term, length): Raft's order of up-to-date logs."""
        return (self.log[-1].term if len(self.log) else 0, len(self.log))

    def persist_metadata(self) -> None:
        """Term and vote reach the disk under ``always`` and ``log_async``."""
        if self.protocol.fsync != "never":
            self.fsync("term", "voted_for")

    def persist_log(self, leader: bool = False) -> None:
        if self.protocol.fsync == "always" or (leader and self.protocol.self_ack == "synced"):
            self.fsync("log")

    def observe_term(self, term: int) -> None:
        if term > self.term:
            self.term, self.voted_for = term, None
            self.persist_metadata()
            self.role, self.votes, self.holders, self.commit = "follower", frozenset(), frozenset(), 0

    @property
    def abstaining(self) -> bool:
        return self.recovering_since is not None and self.protocol.rejoin == "abstain"

    def on_restart(self) -> None:
        if self.protocol.rejoin != "immediate":
            self.recovering_since = self.term

    def ignores(self, msg) -> bool:
        """Every message carries a term, and terms only grow but for a power
        loss, which takes a node back no further than the lowest term its
        disk may hold: ``floor``.  Below it a message changes nothing (the
        handlers below) but an ``Append``, which is answered with ``Newer``.
        A ``Newer`` not above ``floor`` changes nothing either.

        In ``floor`` itself a vote counts only for the term's candidate and
        an acknowledgement only for its leader, and no node becomes either
        again in a term its disk holds (campaigning takes a new term).  A
        vote request is refused for good once every vote the disk may hold
        is for another node of that term (not under ``never``, where the
        vote may be lost while the term survives)."""
        floor = min(self.survivors("term"))
        if msg.kind == "Newer":
            return msg.term <= floor
        if msg.term != floor:
            return msg.term < floor and msg.kind != "Append"
        match msg.kind:
            case "Vote":
                return (self.role, self.term) != ("candidate", floor)
            case "Appended":
                return (self.role, self.term) != ("leader", floor)
            case "RequestVote":
                return self.protocol.fsync != "never" and all(
                    vote not in (None, msg.src) for vote in self.survivors("voted_for"))
            case _:
                return False

    # --- elections -----------------------------------------------------------------

    @timeout
    def campaign(self) -> None:
        if (self.role == "leader" or self.term >= self.protocol.terms
                or self.recovering_since is not None):
            return
        self.term += 1
        self.voted_for = self.name
        self.persist_metadata()
        self.role, self.votes = "candidate", frozenset({self.name})
        last_term, length = self.last()
        self.broadcast("RequestVote", term=self.term, last_term=last_term, length=length)
        self.become_leader_if_elected()

    @on("RequestVote")
    def on_request_vote(self, msg) -> None:
        self.observe_term(msg.term)
        theirs, mine = (msg.last_term, msg.length), self.last()
        if self.recovering_since is None or self.protocol.rejoin == "immediate":
            vouched = theirs >= mine
        else:  # abstain votes for nobody; detect only for a strictly better log
            vouched = self.protocol.rejoin == "detect" and theirs > mine
        if msg.term == self.term and self.voted_for in (None, msg.src) and vouched:
            self.voted_for = msg.src
            self.persist_metadata()
            self.send(msg.src, "Vote", term=self.term)

    @on("Vote")
    def on_vote(self, msg) -> None:
        self.observe_term(msg.term)
        if self.role == "candidate" and msg.term == self.term:
            self.votes |= {msg.src}
            self.become_leader_if_elected()

    def become_leader_if_elected(self) -> None:
        if len(self.votes) >= self.protocol.R:
            # No AppendEntries yet: the next write carries the whole log, and
            # committing needs an entry of this term anyway.
            self.role, self.votes, self.holders, self.commit = "leader", frozenset(), frozenset(), 0

    # --- replication ---------------------------------------------------------------

    def on_client_write(self, value: int) -> None:
        if self.role != "leader":
            return
        self.log.append(Entry(self.term, value))
        self.persist_log(leader=True)
        self.holders = frozenset()
        self.broadcast("Append", term=self.term, entries=tuple(self.log))
        self.advance_commit()

    @on("Append")
    def on_append(self, msg) -> None:
        self.observe_term(msg.term)
        if msg.term < self.term:
            # Tell a deposed leader the newer term: it has no other way to
            # learn it if the nodes of that term are unreachable.  Not as an
            # Appended of the newer term: should the deposed leader lead that
            # term later, it would count this refusal as holding its log.
            self.send(msg.src, "Newer", term=self.term)
            return
        self.role, self.votes = "follower", frozenset()
        catching_up = self.recovering_since is not None and msg.term > self.recovering_since
        if self.abstaining and not catching_up:
            return
        # Raft's rule: drop our entries from the first conflict on, add the rest.
        for index, entry in enumerate(msg.entries):
            if index < len(self.log) and self.log[index] != entry:
                self.log.truncate(index)
            if index >= len(self.log):
                self.log.append(entry)
        self.persist_log()
        if catching_up:
            self.recovering_since = None
        self.send(msg.src, "Appended", term=msg.term, length=len(msg.entries))

    @on("Appended")
    def on_appended(self, msg) -> None:
        self.observe_term(msg.term)
        if self.role == "leader" and msg.term == self.term and msg.length == len(self.log):
            self.holders |= {msg.src}
            self.advance_commit()

    @on("Newer")
    def on_newer(self, msg) -> None:
        self.observe_term(msg.term)

    def advance_commit(self) -> None:
        """Commit the whole log once W nodes hold it and its last entry is of
        this term (Raft's rule: older entries commit only through a newer one);
        acknowledge this term's writes."""
        length = len(self.log)
        if (length > self.commit and self.log[-1].term == self.term
                and len(self.holders) + 1 >= self.protocol.W):
            for index in range(self.commit, length):
                if self.log[index].term == self.term:
                    self.ack(self.log[index].value, index + 1)
            self.commit = length

    def committed(self) -> tuple[int, ...]:
        return tuple(entry.value for entry in self.log[: self.commit])


class QuorumLog(Protocol):
    summary = "Majority-style replicated logs: W, R, fsync and rejoin rule as parameters"
    node = Replica
    default_writes = 1
    default_faults = "power_loss=1"

    def __init__(
        self,
        nodes: int = 3,
        W: int = 2,
        R: int = 2,
        fsync: Literal["always", "log_async", "never"] = "log_async",
        self_ack: Literal["unsynced", "synced"] = "unsynced",
        rejoin: Literal["immediate", "abstain", "detect"] = "immediate",
        terms: int = 2,
    ) -> None:
        super().__init__(nodes)
        for name, quorum in (("W", W), ("R", R)):
            if not 1 <= quorum <= nodes:
                raise ValueError(f"{name}={quorum}: a quorum is between 1 and nodes={nodes}")
        if self_ack == "synced" and fsync != "log_async":
            raise ValueError(
                f"self_ack=synced means the leader alone fsyncs its log: it only differs "
                f"under fsync=log_async (fsync={fsync})")
        if rejoin != "immediate" and fsync == "always":
            raise ValueError(
                f"rejoin={rejoin}: under fsync=always a restart loses nothing promised, "
                "so there is nothing to rejoin from: use rejoin=immediate")
        if terms < 1:
            raise ValueError("terms must be at least 1")
        self.W, self.R = W, R
        self.fsync, self.self_ack, self.rejoin = fsync, self_ack, rejoin
        self.terms = terms
        #: "dropped" on the recovery copy: acknowledgements that lose a write
        #: are no step there.
        self.losing_acks = "kept"

    def recovery(self) -> QuorumLog:
        """One more term, the probe write, and no acknowledgement that loses
        a write: becoming available again by overwriting one is not
        recovering.  One term is enough because recovery asks whether
        *some* run gets the probe acknowledged: that run has a single
        candidate stand in the new term, so no vote is split; and every node
        is at most at term ``terms`` when recovery starts, so a leader of
        the new term is later than any restart (what ``abstain`` waits for)."""
        relaxed = super().recovery()
        relaxed.terms = self.terms + 1
        relaxed.losing_acks = "dropped"
        return relaxed

    def successors(self, s):
        # A delivery that changes no node only consumes the message.  Leaving
        # such stale messages in the bag instead loses no node behaviour (the
        # message can still be delivered later, should it ever matter, e.g.
        # after a power loss rolled a term back) and spares the search every
        # order of consuming them.
        nodes, acked = s[0], s[3][1]
        steps = ((action, nxt) for action, nxt in super().successors(s)
                 if not (action.kind == "deliver" and nxt[3][1] is acked and nxt[0] == nodes
                         and len(nxt[1]) < len(s[1])))
        if self.losing_acks == "kept":
            return steps
        # Only a new acknowledgement can lose a write in a way that matters
        # here: the probe's, at a position already taken or over a lost entry.
        return ((action, nxt) for action, nxt in steps
                if nxt[3][1] is acked or self.lost_write(nxt) is None)

    def invariants(self):
        found = super().invariants()
        check = found["leader_completeness"]
        # Most states have no acknowledged write yet: skip building their World.
        found["leader_completeness"] = lambda s: not s[3][1] or check(s)
        return found

    @invariant
    def leader_completeness(self, world: World) -> bool:
        """Raft's Leader Completeness for acknowledged writes: some node still
        holds each one, and every leader of a later term than the write's
        holds it at its position (else its next write takes that position)."""
        return self.incomplete_leader(world) is None

    def incomplete_leader(self, world: World) -> str | None:
        """Why an acknowledged write is lost for good, or None."""
        for value, position in sorted(world.acked, key=lambda a: a[1]):
            terms = {entry.term for node in world.nodes.values()
                     for entry in node.log if entry.value == value}
            if not terms:
                return f"no node holds write {value} any more (acknowledged at position {position})"
            for name, node in world.nodes.items():
                held = position <= len(node.log) and node.log[position - 1].value == value
                if node.role == "leader" and node.term > min(terms) and not held:
                    return (f"{name} leads term {node.term} without write {value}, acknowledged "
                            f"at position {position} in term {min(terms)}: its next write "
                            f"takes that position, and write {value} is lost")
        return None

    def explain(self, prop: str, state) -> str:
        if prop == "leader_completeness":
            return f"leader_completeness broken: {self.incomplete_leader(World(self, state))}"
        return super().explain(prop, state)
