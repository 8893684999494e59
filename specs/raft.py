"""Raft: leader election and log replication, after Figure 2 of Ongaro and
Ousterhout, "In Search of an Understandable Consensus Algorithm" (2014).

Every server starts as a follower.  A follower or candidate whose election
timeout fires starts an election in the next term, unless that term would
exceed ``terms``.  A candidate with votes from a majority becomes leader; the
leader appends client writes to its log, replicates them with AppendEntries
and, once a majority stores an entry of its own term, commits it and every
entry before it, then acknowledges the client.  Log indexes are 1-based, as
in the paper: entry ``i`` is ``log[i - 1]``.

What reaches stable storage when, by parameter ``fsync``:

``always``
    currentTerm, votedFor and the log are fsynced before a server replies
    to any RPC and before the leader acknowledges a client: Figure 2's
    "updated on stable storage before responding to RPCs".
``log_async``
    currentTerm and votedFor are fsynced whenever they change; log entries
    are not: a follower acknowledges appended entries before they reach the
    disk, and the leader counts its own unsynced entry in the majority.
``never``
    nothing is fsynced.
``parallel``
    the thesis's §10.2.1 (Ongaro, "Consensus: Bridging Theory and Practice",
    2014): the leader sends a new entry to its followers at once and writes
    it to its own disk in parallel (the ``flush_log`` step); it counts
    itself toward the majority only for entries its disk holds, so it may
    commit with a majority of followers that excludes itself.  Followers,
    and every term and vote, fsync before replying, as under ``always``.
    So an acknowledged entry is on the disk of a majority (checked
    exhaustively with two terms; counting the leader's unsynced entry
    breaks it six steps after the initial state: see
    tests/test_raft_variants.py).

``rejoin`` (under ``log_async`` or ``never``): ``immediate`` (Figure 2:
carry on after a restart); ``abstain``: a restarted server neither stands,
votes nor acknowledges entries until a leader of a later term than its own
at the restart has sent it its log (a successful AppendEntries), as in
Viewstamped Replication's recovery and ``quorum_log``'s ``rejoin=abstain``.
That closes the loss below under one power loss (no leader lacks an
acknowledged write in any reachable state, where Figure 2's rejoin elects
one in 11 steps), and with one server
unreachable for good it is the seed's impossibility at n=1: a server that
lost power (or might have) abstains, the other cannot be elected without
its vote, and no write is acknowledged again (``check --unreachable 1``).

A power loss keeps any prefix of each file's unsynced writes, so under
``log_async`` one follower of a majority can forget an entry it
acknowledged, and a pair that lacks the entry elects a leader whose own write
takes the entry's position, even on the old leader that had committed it:
the acknowledged write is lost (``durability``).  The old leader is "cut
off" by its messages being late: in a bag network a partition adds nothing
more (see tests/test_partitions.py), so the default budget is one power loss
and ``--faults power_loss=1,partition=2`` gives the same verdicts at the same
depths.  Under ``never`` a server can also forget its vote, and two
leaders are elected in one term (``election_safety``); ``--only
election_safety`` shows that counterexample on its own.

Modelling choices, to keep the state space finite and small:

* Messages in flight are a bag and nothing is lost unless ``--faults drop``
  says so, so a message is sent once, never retransmitted.  Without clocks a
  heartbeat only announces the term, which the next AppendEntries announces
  too, so there are none.  The leader keeps at most one AppendEntries
  unanswered per follower: it sends one when a client write gives it
  something new, and when an answer shows the follower still lacks entries
  (a refusal for log inconsistency included).  Followers learn leaderCommit
  from those messages.
* Every message in flight multiplies the states, so a reply that could
  change nothing is not sent: a refused vote in the candidate's own term
  (the candidate ignores it), and Figure 2's "reply false if term <
  currentTerm" (it only tells the sender a newer term, which that term's
  own RPCs tell it too).
* Leader-only and candidate-only state is cleared when a server steps down
  (Figure 2 reinitialises it after each election anyway).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from modelcheck import invariant
from modelcheck.gallery import Counterexample
from modelcheck.run import Options
from modelcheck.actors import (
    Durable, DurableLog, Node, Protocol, Volatile, World, on, timeout,
)


class Entry(NamedTuple):
    """A log entry: the term in which the leader received it, and the write."""

    term: int
    value: int

    def __repr__(self) -> str:
        return f"t{self.term}:{self.value}"


class Slot(NamedTuple):
    """A follower's nextIndex or matchIndex (kept as a frozenset of slots)."""

    server: str
    index: int

    def __repr__(self) -> str:
        return f"{self.server}:{self.index}"


def lookup(slots: frozenset[Slot], server: str) -> int:
    return next(slot.index for slot in slots if slot.server == server)


def assign(slots: frozenset[Slot], server: str, index: int) -> frozenset[Slot]:
    return frozenset(slot for slot in slots if slot.server != server) | {Slot(server, index)}


class Server(Node):
    # Persistent state on all servers.
    current_term = Durable(0)
    voted_for = Durable(None)
    log = DurableLog()  # of Entry

    # Volatile state on all servers.
    role = Volatile("follower")  # follower, candidate or leader
    commit_index = Volatile(0)
    # Volatile state on candidates: who granted a vote in current_term.
    votes = Volatile(frozenset())
    # Volatile state on leaders: a slot per follower, and the followers that
    # have yet to answer the last AppendEntries sent to them.
    next_index = Volatile(frozenset())
    match_index = Volatile(frozenset())
    waiting = Volatile(frozenset())

    # --- helpers --------------------------------------------------------------

    def term_at(self, index: int) -> int:
        """The term of entry ``index``; 0 for index 0, before the first entry."""
        return self.log[index - 1].term if index else 0

    def persist(self) -> None:
        """Put what the ``fsync`` parameter says on stable storage."""
        match self.protocol.fsync:
            case "always" | "parallel":
                self.fsync()
            case "log_async":
                self.fsync("current_term", "voted_for")

    def observe_term(self, term: int) -> None:
        """Rules for all servers: if an RPC request or response contains term
        T > currentTerm, set currentTerm = T and convert to follower."""
        if term > self.current_term:
            self.current_term, self.voted_for = term, None
            self.persist()
            self.become_follower()

    def become_follower(self) -> None:
        self.role, self.votes = "follower", frozenset()
        self.next_index, self.match_index, self.waiting = frozenset(), frozenset(), frozenset()

    def ignores(self, msg) -> bool:
        """Every RPC and response carries its sender's term, and a server
        ignores one from an earlier term than its own (its handlers below).
        Terms only grow, and a power loss can take a server back only to a
        term it has not fsynced, so a message from a term below every term
        the disk may hold is ignored for good.

        In that lowest term itself, a vote counts only for the term's
        candidate and an answer to AppendEntries only for its leader, and
        no server becomes either again in a term its disk holds (standing
        takes a new term).  A vote request is refused for good once every
        vote the disk may hold is for someone else, provided each vote is
        fsynced with its term (not under ``never``, where a power loss can
        keep the term and lose the vote)."""
        floor = min(self.survivors("current_term"))
        if msg.term != floor:
            return msg.term < floor
        match msg.kind:
            case "RequestVoteResponse":
                return (self.role, self.current_term) != ("candidate", floor)
            case "AppendEntriesResponse":
                return (self.role, self.current_term) != ("leader", floor)
            case "RequestVote":
                return self.protocol.fsync != "never" and all(
                    vote not in (None, msg.src) for vote in self.survivors("voted_for"))
            case _:
                return False

    # --- elections --------------------------------------------------------------

    @timeout
    def election_timeout(self) -> None:
        """Followers and candidates: if the election timeout elapses, start an
        election.  Leaders have none; no election goes past term ``terms``."""
        if self.role == "leader" or self.current_term >= self.protocol.terms:
            return
        # Candidates, on conversion: increment currentTerm, vote for self,
        # send RequestVote RPCs to all other servers.
        self.current_term += 1
        self.voted_for = self.name
        self.persist()
        self.role, self.votes = "candidate", frozenset({self.name})
        for peer in self.peers:
            self.send(
                peer, "RequestVote", term=self.current_term,
                last_log_index=len(self.log), last_log_term=self.term_at(len(self.log)),
            )
        self.become_leader_if_elected()  # a cluster of one elects itself

    @on("RequestVote")
    def on_request_vote(self, msg) -> None:
        self.observe_term(msg.term)
        # RequestVote receiver: 1. reply false if term < currentTerm (not
        # sent: see the module docstring); 2. grant the vote if votedFor is
        # null or candidateId, and the candidate's log is at least as
        # up-to-date as the receiver's (§5.4.1: the later last term wins;
        # with equal last terms, the longer log).
        up_to_date = (msg.last_log_term, msg.last_log_index) >= (
            self.term_at(len(self.log)), len(self.log)
        )
        granted = (
            msg.term == self.current_term
            and self.voted_for in (None, msg.src)
            and up_to_date
        )
        if granted:
            self.voted_for = msg.src
            self.persist()
            self.send(msg.src, "RequestVoteResponse", term=self.current_term, vote_granted=True)

    @on("RequestVoteResponse")
    def on_request_vote_response(self, msg) -> None:
        self.observe_term(msg.term)
        if self.role == "candidate" and msg.term == self.current_term and msg.vote_granted:
            self.votes |= {msg.src}
            self.become_leader_if_elected()

    def become_leader_if_elected(self) -> None:
        """Candidates: if votes received from a majority of servers, become leader."""
        if len(self.votes) < self.majority:
            return
        self.role, self.votes = "leader", frozenset()
        # Reinitialised after election: nextIndex to last log index + 1,
        # matchIndex to 0.
        self.next_index = frozenset(Slot(peer, len(self.log) + 1) for peer in self.peers)
        self.match_index = frozenset(Slot(peer, 0) for peer in self.peers)

    # --- log replication ----------------------------------------------------------

    def on_client_write(self, value: int) -> None:
        """Leaders: if command received from client, append entry to local log;
        respond once it is committed.  Other servers ignore the client."""
        if self.role != "leader":
            return
        self.log.append(Entry(self.current_term, value))
        self.persist_own_entry()
        self.replicate()
        self.advance_commit_index()  # a cluster of one commits at once

    def replicate(self) -> None:
        """Leaders: if last log index >= nextIndex for a follower, send
        AppendEntries RPC with log entries starting at nextIndex -- unless
        the follower has yet to answer the last one."""
        for peer in self.peers:
            if peer in self.waiting or len(self.log) < lookup(self.next_index, peer):
                continue
            prev = lookup(self.next_index, peer) - 1
            self.send(
                peer, "AppendEntries", term=self.current_term,
                prev_log_index=prev, prev_log_term=self.term_at(prev),
                entries=tuple(self.log[prev:]), leader_commit=self.commit_index,
            )
            self.waiting |= {peer}

    @on("AppendEntries")
    def on_append_entries(self, msg) -> None:
        self.observe_term(msg.term)

        def reply(success: bool, index: int) -> None:
            """``index``: on success the follower's matchIndex, on failure the
            prevLogIndex it lacks (so the leader knows what was answered)."""
            self.persist()
            self.send(
                msg.src, "AppendEntriesResponse", term=self.current_term, success=success,
                index=index,
            )

        # 1. Reply false if term < currentTerm (not sent: see the module
        # docstring).
        if msg.term < self.current_term:
            return
        # Candidates: if AppendEntries RPC received from new leader, convert
        # to follower.  (A leader gets one of its own term only once election
        # safety is broken; it follows too.)
        self.become_follower()
        # 2. Reply false if log doesn't contain an entry at prevLogIndex whose
        # term matches prevLogTerm.
        if (msg.prev_log_index > len(self.log)
                or self.term_at(msg.prev_log_index) != msg.prev_log_term):
            return reply(False, msg.prev_log_index)
        for index, entry in enumerate(msg.entries, start=msg.prev_log_index + 1):
            # 3. If an existing entry conflicts with a new one (same index but
            # different terms), delete the existing entry and all that follow it.
            if index <= len(self.log) and self.term_at(index) != entry.term:
                self.log.truncate(index - 1)
            # 4. Append any new entries not already in the log.
            if index > len(self.log):
                self.log.append(entry)
        # 5. If leaderCommit > commitIndex, set commitIndex = min(leaderCommit,
        # index of last new entry) -- never backwards: a late message may carry
        # fewer entries than an earlier one.
        last_new = msg.prev_log_index + len(msg.entries)
        self.commit_index = max(self.commit_index, min(msg.leader_commit, last_new))
        reply(True, last_new)
        self.holds_leaders_log(msg)

    @on("AppendEntriesResponse")
    def on_append_entries_response(self, msg) -> None:
        self.observe_term(msg.term)
        if self.role != "leader" or msg.term != self.current_term:
            return
        follower = msg.src
        self.waiting -= {follower}
        if msg.success:
            # If successful: update nextIndex and matchIndex for follower.
            match_index = max(lookup(self.match_index, follower), msg.index)
            self.match_index = assign(self.match_index, follower, match_index)
            self.next_index = assign(self.next_index, follower, match_index + 1)
            self.advance_commit_index()
        else:
            # If AppendEntries fails because of log inconsistency: decrement
            # nextIndex (to the prevLogIndex that failed) and retry.
            self.next_index = assign(self.next_index, follower, msg.index)
        self.replicate()

    def advance_commit_index(self) -> None:
        """Leaders: if there exists an N > commitIndex such that a majority of
        matchIndex[i] >= N and log[N].term == currentTerm, set commitIndex = N
        (the leader's own log counts for itself).  Acknowledge the client's
        writes of this term that are now committed."""
        stored = [self.stored_here()] + [slot.index for slot in self.match_index]
        for n in range(len(self.log), self.commit_index, -1):
            if self.term_at(n) != self.current_term:
                break  # earlier entries commit only with one of this term
            if sum(match >= n for match in stored) >= self.majority:
                for index in range(self.commit_index + 1, n + 1):
                    if self.term_at(index) == self.current_term:
                        self.ack(self.log[index - 1].value, index)
                self.commit_index = n
                return

    def committed(self) -> tuple[int, ...]:
        return tuple(entry.value for entry in self.log[: self.commit_index])

    # --- hooks for the variants below ------------------------------------------------

    def persist_own_entry(self) -> None:
        """The leader's write of a client's entry to its own log."""
        self.persist()

    def stored_here(self) -> int:
        """How much of its log the leader counts itself as storing."""
        return len(self.log)

    def holds_leaders_log(self, msg) -> None:
        """After a successful AppendEntries: this log now holds the sender's
        whole log (a leader sends every entry from nextIndex on)."""


class ParallelLeader(Server):
    """``fsync=parallel``, the thesis's §10.2.1: the leader sends a new
    entry to its followers at once and writes it to its own disk in
    parallel (``flush_log``, a step of its own); it counts itself toward a
    majority only for the entries its disk holds.  Followers fsync before
    answering, as under ``always``."""

    #: Leaders: how much of the log is on disk.  A new leader's whole log is:
    #: it fsynced everything when it stood, and a candidate appends nothing.
    flushed = Volatile(0)

    def persist_own_entry(self) -> None:
        """Nothing yet: ``flush_log`` writes it, in parallel with replication."""

    def stored_here(self) -> int:
        return self.flushed

    @timeout
    def flush_log(self) -> None:
        if self.role == "leader" and self.flushed < len(self.log):
            self.fsync("log")
            self.flushed = len(self.log)
            self.advance_commit_index()

    def become_leader_if_elected(self) -> None:
        was = self.role
        super().become_leader_if_elected()
        if self.role == "leader" and was != "leader":
            self.flushed = len(self.log)

    def become_follower(self) -> None:
        super().become_follower()
        self.flushed = 0


class Abstaining(Server):
    """``rejoin=abstain``: a restarted server, which may have lost entries it
    acknowledged, neither stands, votes nor acknowledges entries until a
    leader of a later term than its own at the restart has sent it its log
    (compare quorum_log's ``rejoin=abstain``)."""

    #: The term at the last restart, until a later leader has caught this
    #: server up; None once it has (or if it never restarted).
    abstaining_since = Volatile(None)

    def on_restart(self) -> None:
        self.abstaining_since = self.current_term

    @timeout
    def election_timeout(self) -> None:
        if self.abstaining_since is None:
            super().election_timeout()

    @on("RequestVote")
    def on_request_vote(self, msg) -> None:
        if self.abstaining_since is None:
            super().on_request_vote(msg)
        else:
            self.observe_term(msg.term)  # learns the term, grants nothing

    @on("AppendEntries")
    def on_append_entries(self, msg) -> None:
        if self.abstaining_since is None or msg.term > self.abstaining_since:
            super().on_append_entries(msg)
        # else: a leader from before the restart; no answer is no acknowledgement

    def holds_leaders_log(self, msg) -> None:
        self.abstaining_since = None


class Raft(Protocol):
    summary = "Raft (Figure 2): elections and log replication; fsync=log_async|never lose acked writes"
    node = Server
    default_writes = 2
    default_faults = "power_loss=1"
    counterexamples = [
        Counterexample(
            "log_async", "followers ack entries before fsync; one loses its tail, a "
            "leader without the entry is elected", params=("fsync=log_async",)),
        Counterexample(
            "never", "nothing is synced: the shortest loss is a server forgetting its "
            "term and vote, then accepting the deposed leader's entry", params=("fsync=never",),
            options=Options(only=("durability",))),
        Counterexample(
            "never-election_safety", "a server forgets its vote after a power loss and "
            "votes twice in one term", params=("fsync=never",),
            options=Options(only=("election_safety",))),
    ]

    def __init__(
        self,
        nodes: int = 3,
        terms: int = 2,
        fsync: Literal["always", "log_async", "never", "parallel"] = "log_async",
        rejoin: Literal["immediate", "abstain"] = "immediate",
    ) -> None:
        if terms < 1:
            raise ValueError("terms must be at least 1")
        if rejoin == "abstain" and fsync in ("always", "parallel"):
            raise ValueError(
                f"rejoin=abstain: under fsync={fsync} a restart loses nothing acknowledged, "
                "so there is nothing to rejoin from: use rejoin=immediate")
        # The variants' servers are subclasses; Figure 2's is Server.  Chosen
        # before super().__init__, which lays the nodes out with this class.
        if fsync == "parallel":
            self.node = ParallelLeader
        elif rejoin == "abstain":
            self.node = Abstaining
        super().__init__(nodes)
        self.terms = terms
        self.fsync = fsync
        self.rejoin = rejoin

    def recovery(self) -> Raft:
        """Two more terms for recovering: one election may split the vote
        (both remaining servers stand in the same term), the next one wins."""
        relaxed = super().recovery()
        relaxed.terms = self.terms + 2
        return relaxed

    def why_stuck(self, world: World, unreachable: frozenset[str]) -> list[str]:
        """What each reachable server knows of terms, votes and logs, which
        decides who could still be elected."""
        reachable = [name for name in world.nodes if name not in unreachable]
        majority = len(world.nodes) // 2 + 1
        lines = [f"{len(reachable)} of {len(world.nodes)} servers reachable, a leader needs "
                 f"{majority} votes, and recovery may go up to term {self.recovery().terms}"]
        for name, line in zip(reachable, super().why_stuck(world, unreachable)):
            node = world.nodes[name]
            vote = node.voted_for or "nobody"
            if node.voted_for in unreachable:
                vote += " (unreachable: this vote is spent)"
            last = node.term_at(len(node.log))
            lines.append(f"{name}: {node.role} in term {node.current_term}, voted for {vote}, "
                         f"log {node.log!r} (last term {last}, index {len(node.log)}); "
                         + line.partition("): ")[2])
        return lines

    def explain(self, prop: str, state) -> str:
        if prop != "election_safety":
            return super().explain(prop, state)
        leaders: dict[int, list[str]] = {}
        for name, node in World(self, state).nodes.items():
            if node.role == "leader":
                leaders.setdefault(node.current_term, []).append(name)
        term, names = next((t, n) for t, n in leaders.items() if len(n) > 1)
        return f"election_safety broken: {' and '.join(names)} are both leaders of term {term}"

    @invariant
    def election_safety(self, world) -> bool:
        """At most one leader can be elected in a given term (Figure 3).

        A leader of an old term may still believe it leads while a later
        term has its own leader; two leaders of the same term may not.
        """
        terms = [node.current_term for node in world.nodes.values() if node.role == "leader"]
        return len(terms) == len(set(terms))
