"""Multi-Paxos with Paxos Made Live's rule for a replica that lost its disk.

Sources: Lamport, "Paxos Made Simple" (2001), section 3 (a stable leader
runs phase 1 once for all instances, then phase 2 per instance); Chandra,
Griesemer and Redstone, "Paxos Made Live -- An Engineering Perspective"
(PODC 2007), section 5.1, Disk corruption: a replica whose disk was
corrupted or lost "participates in Paxos as a non-voting member; meaning
that it uses the catch-up mechanism to catch up but does not respond with
promise or acknowledgment messages.  It remains in this state until it
observes one complete instance of Paxos that was started after the replica
started rebuilding its state."

Every replica is proposer, acceptor and learner.  A replica whose timeout
fires runs phase 1 for a new round: Prepare to all, and a Promise back from
each acceptor that has promised no higher round, reporting what it accepted
or knows chosen in every slot.  With a majority of promises it leads: it
proposes again, in its own round, each slot's value from the promises (a
value known chosen, else the one accepted in the highest round, else a
no-op to fill a gap), then puts each client write into the next free slot
(phase 2: Accept to all, Accepted back).  Once a majority has accepted a
slot the leader knows it chosen, acknowledges the write at that slot
(position = slot) and tells the replicas that are catching up (Chosen); the
others learn chosen values from the next leader's phase 1.  ``committed()`` is the
prefix of slots a replica knows chosen; the built-in ``durability`` fails
when an acknowledged write's slot gets another value.

Parameters:

``fsync``
    ``always``: an acceptor fsyncs its promise and its slots before it
    answers, as Paxos requires; ``never``: nothing is fsynced, so a power
    loss may take back promises and acceptances already sent (any prefix of
    the unsynced writes survives).
``rejoin``
    ``immediate``: a restarted replica carries on with what its disk kept;
    ``pml``: it restarts as a non-voting member.  It asks the others to
    let it rejoin (Recovering); a leader answers with the chosen slots it
    knows and its next free slot (CatchUp), which the replica learns; the
    replica neither campaigns, promises nor accepts until that leader tells
    it that a slot at or after that one is chosen (an instance the leader
    started after hearing from the restarted replica, observed from start
    to end) and it knows every slot below that one chosen.
    Only with ``fsync=never`` (under ``always`` nothing promised is lost).
``ballots``
    the highest round a replica may start (phase 1), to keep the search
    finite.

What a replica knows: PML's rule is for a replica that *knows* it lost its
disk.  A power loss without fsync loses only the unsynced writes, silently;
here every restart is taken as possibly unclean (a real system knows this
from the absence of a clean-shutdown marker), so ``pml`` models the replica
that knows it restarted uncleanly and does not vote on what its disk kept
until it has rejoined.  A replica
that cannot tell is ``rejoin=immediate``.

Ballots: a ballot is (round, proposer), and an acceptor promises at most one
proposer per round (the first whose Prepare it sees) and accepts in its
promised round only from that proposer.  Real Paxos orders ballots of one
round by proposer id and lets a higher one pre-empt; this is a subset of its
behaviours that keeps ballots free of node order, so symmetry holds.  A
replica that forgot its own promise may start a round it had started
before: that is what amnesia does to a proposer's ballots.

What the search says (three replicas, two client writes, one power loss;
tests/test_multi_paxos.py pins the verdicts):

* ``fsync=always``: durable, exhaustively with two rounds (``ballots=2``).
* ``fsync=never, rejoin=immediate``: a chosen, acknowledged write is lost,
  in 13 steps after the initial state, with one round per proposer
  already.  A leads round 1 with B's promise, write 1 is accepted by A and
  B and acknowledged at slot 1 (6 steps); one of them loses power and with
  it its promise and acceptance (7); a leader of round 1 is elected again
  without write 1 (3 steps) and gets write 2 accepted in slot 1 (3 more).
  Either C runs round 1 and the amnesiac B promises it, having forgotten
  A; or, as in the gallery's trace, the amnesiac A runs its own round 1
  again and late answers to its first run complete it: C's Promise, sent
  before C accepted write 1, and C's Accepted of round 1, slot 1, which A
  now counts for write 2.  A proposer that forgets its ballots reuses them.
* ``fsync=never, rejoin=pml``: durable exhaustively with one round per
  proposer (``ballots=1``), under one power loss and under two, and with
  two rounds under one (1,534,650 states kept, 794 s on a loaded
  machine).  The restarted replica votes again only once it holds the
  chosen slots a leader knew of and has seen a later slot chosen by a
  majority without it.  Each part of that rule matters, and dropping any
  loses a write (tests/test_multi_paxos.py walks each run):

  - rejoining right after the catch-up: the leader's catch-up can miss a
    slot whose Accepted from the restarted replica, sent before the power
    loss, is still on its way; the replica forgot it accepted, and
    promises a second proposer the same round;
  - counting a slot chosen by *another* leader (two rounds): a stale
    leader of round 1 catches the replica up, and the slot at its next
    free number is chosen by the leader of round 2 in an instance started
    before the restart, with the forgotten acceptance; the replica then
    accepts round 1 in a slot round 2 chose (19 steps);
  - rejoining with a gap below the complete slot (two rounds): a slot the
    catch-up did not list is chosen with the forgotten acceptance just
    after, and the replica, knowing only the later slot, lets the leader
    of round 2 fill it with a no-op (20 steps).

So PML's rule carries over to unsynced writes lost in a power loss *if* the
replica knows it restarted uncleanly and treats everything on its disk as
suspect.  It does not help a replica that cannot tell.

Modelling choices, to keep the state space small (each keeps a subset of
Multi-Paxos's behaviours, so every violation found is one of Multi-Paxos):
messages are sent once, never retransmitted (``--faults drop`` models
loss); refusals are not sent (the proposer just never gets a majority);
only the leader counts acceptances; the client writes through the leader
only, and the leader runs one instance at a time (no pipelining).  Two
reductions change no verdict (see ``successors``): a delivery that would
change nothing is left undone, and once no power loss is left every file is
taken as synced (so a trace shows every file synced after the power loss).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from modelcheck.actors import Durable, Node, Protocol, Volatile, disk, on, timeout
from modelcheck.actors.protocol import POWER_LOSS
from modelcheck.gallery import Counterexample


class Ballot(NamedTuple):
    """A promise: the round, and the proposer promised in it."""

    round: int
    proposer: str | None

    def __repr__(self) -> str:
        return f"r{self.round}:{self.proposer}" if self.proposer else "none"


class Instance(NamedTuple):
    """What an acceptor knows of one slot: the value it accepted there and in
    which round, or (``chosen``) the value it learned was chosen."""

    slot: int
    round: int
    value: int | None  # None: a no-op filling a gap
    chosen: bool = False

    def __repr__(self) -> str:
        value = "no-op" if self.value is None else self.value
        return f"{self.slot}:{value}" + (" chosen" if self.chosen else f"@r{self.round}")


class Proposal(NamedTuple):
    """A leader's phase 2 in progress: who has accepted ``value`` in ``slot``."""

    slot: int
    value: int | None
    accepted_by: frozenset[str]

    def __repr__(self) -> str:
        return f"{self.slot}:{self.value} by {{{', '.join(sorted(self.accepted_by))}}}"


def pick(reported: frozenset[Instance], slot: int) -> int | None:
    """Phase 1's choice for ``slot``: a value known chosen, else the value
    accepted in the highest round (ties, which only amnesia makes, broken by
    value so that no node order enters), else a no-op."""
    here = [i for i in reported if i.slot == slot]
    chosen = [i.value for i in here if i.chosen]
    if chosen:
        return chosen[0]
    if not here:
        return None
    return max(here, key=lambda i: (i.round, -1 if i.value is None else i.value)).value


class Replica(Node):
    # Acceptor state, on disk.
    promised = Durable(Ballot(0, None))
    instances = Durable(())  # of Instance, by slot

    role = Volatile("follower")  # follower, candidate or leader
    promises = Volatile(frozenset())  # candidates: who promised this round
    reported = Volatile(frozenset())  # candidates: the Instances promises reported
    proposals = Volatile(frozenset())  # leaders: Proposals not yet chosen
    rejoiners = Volatile(frozenset())  # leaders: restarted replicas catching up (pml)
    #: rejoin=pml: None while a voting member; "restarted" until it has
    #: asked to rejoin, "asked" until a leader answered, then the pairs
    #: (leader, slot) of the leaders that answered, each with the first slot
    #: whose choice *by that leader* completes an instance started after the
    #: restart; then that slot, until every slot up to it is known chosen.
    rejoining = Volatile(None)

    # --- helpers -------------------------------------------------------------------

    def persist(self) -> None:
        if self.protocol.fsync == "always":
            self.fsync()

    def known(self, slot: int) -> Instance | None:
        return next((i for i in self.instances if i.slot == slot), None)

    def record(self, instance: Instance) -> None:
        others = tuple(i for i in self.instances if i.slot != instance.slot)
        self.instances = tuple(sorted(others + (instance,)))

    def next_slot(self) -> int:
        return max((i.slot for i in self.instances), default=0) + 1

    def step_down(self) -> None:
        self.role = "follower"
        self.promises, self.reported = frozenset(), frozenset()
        self.proposals, self.rejoiners = frozenset(), frozenset()

    def on_restart(self) -> None:
        if self.protocol.rejoin == "pml":
            self.rejoining = "restarted"

    def ignores(self, msg) -> bool:
        """Prepare, Promise, Accept and Accepted carry a round, and a replica
        ignores one from a round below its promise (the handlers below).
        Promises only grow, and a power loss takes a replica back only to a
        promise it had not fsynced, so a round below every promise its disk
        may hold is ignored for good.  At that lowest round itself: a
        Prepare is ignored too (it needs a higher round); a Promise or an
        Accepted matter only to the replica standing or leading in that
        round, which no replica can start again once its disk holds it; an
        Accept matters only if some promise the disk may hold is that
        round's from the sender."""
        if msg.kind not in ("Prepare", "Promise", "Accept", "Accepted"):
            return False
        promises = self.survivors("promised")
        floor = min(b.round for b in promises)
        if msg.round != floor:
            return msg.round < floor
        match msg.kind:
            case "Prepare":
                return True
            case "Accept":
                return Ballot(floor, msg.src) not in promises
            case _:
                return not (self.role in ("candidate", "leader")
                            and self.promised.round == floor)

    # --- phase 1 --------------------------------------------------------------------

    @timeout
    def campaign(self) -> None:
        if (self.role == "leader" or self.rejoining is not None
                or self.promised.round >= self.protocol.ballots):
            return
        self.promised = Ballot(self.promised.round + 1, self.name)
        self.persist()
        self.step_down()
        self.role, self.promises = "candidate", frozenset({self.name})
        self.reported = frozenset(self.instances)
        self.broadcast("Prepare", round=self.promised.round)
        self.lead_if_promised()

    @on("Prepare")
    def on_prepare(self, msg) -> None:
        if self.rejoining is not None or msg.round <= self.promised.round:
            return  # non-voting, or promised this round or a later one
        self.promised = Ballot(msg.round, msg.src)
        self.persist()
        self.step_down()
        self.send(msg.src, "Promise", round=msg.round, instances=self.instances)

    @on("Promise")
    def on_promise(self, msg) -> None:
        if self.role == "candidate" and msg.round == self.promised.round:
            self.promises |= {msg.src}
            self.reported |= frozenset(msg.instances)
            self.lead_if_promised()

    def lead_if_promised(self) -> None:
        """With a majority of promises, lead: propose again every slot the
        promises reported, in this round (no-ops in the gaps)."""
        if len(self.promises) < self.majority:
            return
        reported = self.reported
        self.step_down()
        self.role = "leader"
        for slot in range(1, max((i.slot for i in reported), default=0) + 1):
            known_chosen = next((i for i in reported if i.slot == slot and i.chosen), None)
            if known_chosen is not None:
                self.record(known_chosen)
            else:
                self.propose(slot, pick(reported, slot))
        self.persist()

    # --- phase 2 --------------------------------------------------------------------

    def propose(self, slot: int, value: int | None) -> None:
        """Accept ``value`` in ``slot`` as this leader's own acceptor, and ask the others."""
        self.record(Instance(slot, self.promised.round, value))
        self.proposals |= {Proposal(slot, value, frozenset({self.name}))}
        self.broadcast("Accept", round=self.promised.round, slot=slot, value=value)
        self.choose_if_accepted(slot)

    def on_client_write(self, value: int) -> None:
        if self.role != "leader" or self.proposals:
            return  # one instance at a time: no pipelining
        self.propose(self.next_slot(), value)
        self.persist()

    @on("Accept")
    def on_accept(self, msg) -> None:
        promised = self.promised
        if (self.rejoining is not None or msg.round < promised.round
                or (msg.round == promised.round and promised.proposer != msg.src)):
            return
        if msg.round > promised.round:
            self.promised = Ballot(msg.round, msg.src)
            self.step_down()
        known = self.known(msg.slot)
        if known is None or not known.chosen:
            self.record(Instance(msg.slot, msg.round, msg.value))
        self.persist()
        self.send(msg.src, "Accepted", round=msg.round, slot=msg.slot)

    @on("Accepted")
    def on_accepted(self, msg) -> None:
        if self.role != "leader" or msg.round != self.promised.round:
            return
        for proposal in self.proposals:
            if proposal.slot == msg.slot:
                self.proposals = (self.proposals - {proposal}) | {
                    proposal._replace(accepted_by=proposal.accepted_by | {msg.src})}
                self.choose_if_accepted(msg.slot)
                self.persist()
                return

    def choose_if_accepted(self, slot: int) -> None:
        proposal = next(p for p in self.proposals if p.slot == slot)
        if len(proposal.accepted_by) < self.majority:
            return
        self.proposals -= {proposal}
        self.record(Instance(slot, self.promised.round, proposal.value, chosen=True))
        if proposal.value is not None:
            self.ack(proposal.value, slot)
        # Only a replica catching up needs to hear it: the others learn
        # chosen values from the next leader's phase 1 (fewer messages).
        for name in sorted(self.rejoiners):
            self.send(name, "Chosen", slot=slot, value=proposal.value)

    # --- learning, and Paxos Made Live's rejoin ---------------------------------------

    @on("Chosen")
    def on_chosen(self, msg) -> None:
        self.record(Instance(msg.slot, 0, msg.value, chosen=True))
        if isinstance(self.rejoining, frozenset) and any(
                leader == msg.src and msg.slot >= first for leader, first in self.rejoining):
            # An instance this leader started after the restart is complete.
            # Another leader's slot of that number may have been started
            # before it, with an acceptance the replica forgot.
            self.rejoining = msg.slot
        self.rejoin_if_caught_up()
        self.persist()

    def rejoin_if_caught_up(self) -> None:
        """Vote again once every slot up to the complete instance is known
        chosen: a slot below it may have been chosen with an acceptance
        this replica forgot, after the leader's catch-up was sent."""
        if isinstance(self.rejoining, int) and all(
                (i := self.known(slot)) is not None and i.chosen
                for slot in range(1, self.rejoining + 1)):
            self.rejoining = None

    @timeout
    def ask_to_rejoin(self) -> None:
        if self.rejoining == "restarted":
            self.rejoining = "asked"
            self.broadcast("Recovering")

    @on("Recovering")
    def on_recovering(self, msg) -> None:
        if self.role == "leader":
            self.rejoiners |= {msg.src}
            chosen = tuple(i for i in self.instances if i.chosen)
            self.send(msg.src, "CatchUp", chosen=chosen, next_slot=self.next_slot())

    @on("CatchUp")
    def on_catch_up(self, msg) -> None:
        if self.rejoining is None or self.rejoining == "restarted":
            return
        for instance in msg.chosen:
            self.record(instance)
        if isinstance(self.rejoining, int):
            self.rejoin_if_caught_up()
        else:
            answered = frozenset() if self.rejoining == "asked" else self.rejoining
            self.rejoining = answered | {(msg.src, msg.next_slot)}
        self.persist()

    def committed(self) -> tuple[int | None, ...]:
        prefix = []
        for slot, instance in enumerate(self.instances, start=1):
            if instance.slot != slot or not instance.chosen:
                break
            prefix.append(instance.value)
        return tuple(prefix)


class MultiPaxos(Protocol):
    summary = ("Multi-Paxos, fsync=always|never, rejoin=immediate|pml (Paxos Made Live's "
               "non-voting rejoin after disk loss)")
    node = Replica
    default_writes = 2
    default_faults = "power_loss=1"
    counterexamples = [
        Counterexample(
            "never", "nothing fsynced: an acceptor forgets its promise and acceptance in a "
            "power loss, and a second leader chooses another write in the same slot",
            params=("fsync=never", "ballots=1")),
    ]

    def __init__(
        self,
        nodes: int = 3,
        fsync: Literal["always", "never"] = "always",
        rejoin: Literal["immediate", "pml"] = "immediate",
        ballots: int = 2,
    ) -> None:
        super().__init__(nodes)
        if ballots < 1:
            raise ValueError("ballots must be at least 1")
        if rejoin == "pml" and fsync == "always":
            raise ValueError(
                "rejoin=pml: under fsync=always a restart loses nothing promised, so there "
                "is nothing to rejoin from: use rejoin=immediate")
        self.fsync, self.rejoin, self.ballots = fsync, rejoin, ballots

    def position_name(self, position: int) -> str:
        return f"slot {position}"

    def successors(self, s):
        # A delivery that changes no replica and sends nothing (a Promise to
        # a leader already elected, an Accepted for a slot already chosen, a
        # Prepare of a round already promised) is not taken: the message
        # stays in flight.  Every replica state and acknowledgement stays
        # reachable in as many steps (delivering such a message later is
        # still possible, should a power loss make it matter), and the search
        # is spared every order of consuming them.  Checked against the plain
        # successors in tests/test_multi_paxos.py.
        nodes, bag, acked = s[0], s[1], s[3][1]
        for action, nxt in super().successors(s):
            if not (action.kind == "deliver" and nxt[0] == nodes and nxt[3][1] is acked
                    and len(nxt[1]) == len(bag) - 1):
                yield action, self.forget_unsynced(nxt)

    def forget_unsynced(self, s):
        """``s`` with every file synced once no power loss is left in the budget.

        Which unsynced versions a power loss could keep matters only to a
        power loss; with none left, states that differ only there behave
        alike, and under ``fsync=never`` they are most of the states.  (A
        framework-wide version of this belongs in the actor layer; this is
        the spec's own until then.)
        """
        nodes, used = s[0], s[4]
        room = self.max_total_faults is None or sum(used) < self.max_total_faults
        if room and used[POWER_LOSS] < self.faults.limits()[POWER_LOSS]:
            return s
        if all(disk.is_synced(f) for _, files in nodes for f in files):
            return s
        synced = tuple((volatile, tuple(disk.fsync(f) for f in files))
                       for volatile, files in nodes)
        return (synced,) + s[1:]
