"""Kafka partition replication: leader, ISR and high watermark, with the
controller that elects leaders; the seed's data loss and KIP-966.

One partition, replicated on every broker (RF = ``nodes``, 3 by default).
The controller (ZooKeeper or KRaft; itself replicated and fsynced, so it is
modelled as atomic and never loses anything) holds the partition state:
leader, leader epoch, ISR, ELR, and which brokers have a live session.

* The controller elects a leader when the partition has none: a live ISR
  member; under ``version=kip966`` a live ELR member when no ISR member is
  live, and with ``last_known_leader`` (Kafka 4.0's third rule) the last
  leader when ISR and ELR are both empty; with ``unclean_leader_election``
  any live broker when none of these is.  Each election bumps the leader
  epoch, at most to ``epochs``.
* A producer with ``acks=all`` writes to the leader, which appends the record
  unless the ISR is smaller than ``min_isr`` (NOT_ENOUGH_REPLICAS).
* A follower fetches from the leader, one record per fetch (a fetch is
  bounded by bytes, so a follower can be part way).  The leader first checks the
  follower's last epoch against its own log (the diverging-epoch check of
  KIP-279, which since Kafka 2.7 rides on the fetch itself): the follower
  truncates to the leader's end offset for the largest epoch the two share
  (KIP-101's OffsetsForLeaderEpoch).  Then it copies the leader's records,
  the leader notes its log end offset, adds it to the ISR once it has caught
  up to the high watermark and to the start of the leader's epoch, and
  advances the high watermark (HW) to the smallest log end offset in the ISR.
  The leader acknowledges a record of its own epoch once the HW passes it,
  unless the ISR has shrunk below ``min_isr`` meanwhile.  With
  ``guarantee=visible`` every record the HW passes counts as acknowledged:
  a consumer may have read it.
* The leader may drop any follower from the ISR at any moment:
  replica.lag.time.max.ms is a clock this model does not have.
* A broker's session may expire at any moment (a GC pause, a lost
  connection), and every crash or power loss ends it: the controller removes
  the broker from the ISR and, if it led, leaves the partition leaderless
  until it elects again.  The controller notices a restart when the old
  session times out or when the broker registers again, whichever is first.
* Records live in the page cache: Kafka leaves flushing to the OS by
  default, so nothing is fsynced.  A power loss (an unclean shutdown) keeps
  any prefix of a broker's records; ``kill -9`` (``crash``) keeps them all.

``version`` says how the controller treats the ISR:

``3.4``
    As in the seed's demonstration on Kafka 3.4.0 with ZooKeeper: the last
    ISR member stays in the ISR when it fails, and nothing notices that a
    broker restarted uncleanly, so it can come back as leader having lost
    records every other ISR member had.
``kip966``
    KIP-966, Eligible Leader Replicas.  The HW advances only while the ISR
    has at least ``min_isr`` members.  A member dropped from the ISR when
    that leaves fewer than ``min_isr`` joins the ELR (it still has every
    record below the HW); the ISR may become empty.  A broker that
    registers after an unclean shutdown leaves the ELR.  The ELR empties
    once the ISR is back to ``min_isr``.  Leaders come from ISR, then ELR.

Traces show a record as ``e<epoch>:<value>``, a leader's ``fetched`` as
``follower:log end offset`` from each follower's last fetch, and a broker's
``session`` as live, expired (fenced while running) or restarted (back after
a crash or power loss, not registered yet).

Properties: ``durability`` (built in: no two records acknowledged at one
offset, and no leader's records below its HW contradict an acknowledgement)
and ``leader_completeness`` (the leader holds every acknowledged record),
which sees a loss as soon as a leader lacks the record, before any offset is
reused.  ``--only durability`` shows the seed's story to the reuse.
``available`` (recoverability) asks that from every state some run gets the
partition a live leader with ``min_isr`` in-sync replicas again: a design
that stays durable by refusing to elect anyone fails it.

Modelling shortcuts, each to keep the search small:

* The controller's decisions reach every live broker in the same step
  (LeaderAndIsr or metadata propagation is instantaneous), and a fetch is
  one step (request and response together).  A deposed leader therefore
  never acts on stale leadership; that race, which KIP-320's epoch fencing
  addresses, is not explored here; nor is a leader adding to the ISR a
  replica on the strength of a fetch sent before that replica restarted
  (what KIP-903 guards against).
* The leader epoch cache is read off the records' epochs; it agrees with
  Kafka's cache whenever each leader's epoch starts where its first record
  goes, which is the case in this model.
* Session expiry and the leader's ISR shrinking are not in the fault budget:
  they are ordinary events, bounded only by ``epochs``.
* The HW is volatile (the checkpoint file is not modelled): a restarted
  broker starts from 0, which only delays what it reports as committed.

Sources: KIP-101 (leader epoch for truncation), KIP-279 (fixing the
remaining divergence cases), KIP-966 (Eligible Leader Replicas) and Kafka's
"Eligible Leader Replicas" operations page (4.0+: the election order ISR,
unfenced ELR, last known leader), and the seed's reproduction on Kafka 3.4.0.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from modelcheck import invariant, recoverable
from modelcheck.actors import DurableLog, Node, Protocol, Volatile, World
from modelcheck.actors.cluster import Cluster, step
from modelcheck.gallery import Counterexample
from modelcheck.run import Options


class Record(NamedTuple):
    """A record: the leader epoch it was written in, and its value."""

    epoch: int
    value: int

    def __repr__(self) -> str:
        return f"e{self.epoch}:{self.value}"


class Fetched(NamedTuple):
    """The log end offset a follower reported in its last fetch (leader only)."""

    broker: str
    offset: int

    def __repr__(self) -> str:
        return f"{self.broker}:{self.offset}"


class PartitionState(NamedTuple):
    """What the controller knows about the partition and the brokers."""

    leader: str | None
    epoch: int
    isr: frozenset[str]
    elr: frozenset[str]
    live: frozenset[str]
    #: Who led last when the ISR emptied (KIP-966 lets the ISR empty).
    last_leader: str | None = None


class Broker(Node):
    log = DurableLog()  # of Record; offset k is log[k]

    # "live": registered with the controller; "expired": its session ended
    # while it ran; "restarted": back after a crash or power loss.
    session = Volatile("live")
    leader = Volatile(None)  # the leader, as the controller last told it
    epoch = Volatile(0)  # the leader epoch it was told
    hw = Volatile(0)
    # Leader only: the ISR as it last wrote it, and each follower's last fetch.
    isr = Volatile(frozenset())
    fetched = Volatile(frozenset())

    def on_restart(self) -> None:
        self.session = "restarted"

    @property
    def leads(self) -> bool:
        return self.session == "live" and self.leader == self.name

    def step_down(self) -> None:
        self.isr, self.fetched = frozenset(), frozenset()

    def end_offset(self, epoch: int) -> tuple[int, int]:
        """OffsetsForLeaderEpoch: the largest epoch <= ``epoch`` in this log
        and the offset where it ends (where a later epoch starts, or the log
        end offset)."""
        known = max((r.epoch for r in self.log if r.epoch <= epoch), default=0)
        end = next((k for k, r in enumerate(self.log) if r.epoch > known), len(self.log))
        return known, end

    def epoch_start(self) -> int:
        """Where this leader's epoch starts: its first record of the epoch."""
        return next((k for k, r in enumerate(self.log) if r.epoch == self.epoch), len(self.log))

    def on_client_write(self, value: int) -> None:
        """Produce with acks=all: only the leader appends, and only with
        at least min.insync.replicas in the ISR."""
        if not self.leads or len(self.isr) < self.protocol.min_isr:
            return
        self.log.append(Record(self.epoch, value))
        self.advance_hw()

    def advance_hw(self) -> None:
        """Leader: the HW is the smallest log end offset in the ISR; records of
        this epoch below it are acknowledged to their producers."""
        kafka = self.protocol
        if kafka.strict_min_isr and len(self.isr) < kafka.min_isr:
            return
        ends = {f.broker: f.offset for f in self.fetched}
        ends[self.name] = len(self.log)
        hw = min(ends.get(member, 0) for member in self.isr)
        if hw <= self.hw:
            return
        for offset in range(self.hw, hw):
            record = self.log[offset]
            produced_here = record.epoch == self.epoch and len(self.isr) >= kafka.min_isr
            if produced_here or kafka.guarantee == "visible":
                self.ack(record.value, offset + 1)
        self.hw = hw

    def committed(self) -> tuple[int, ...] | None:
        """What consumers read: the leader's records below its HW.  A deposed
        leader's HW is stale (it truncates when it follows again), and a
        follower's only lags the leader's."""
        if not self.leads:
            return None
        return tuple(record.value for record in self.log[: self.hw])


class Kafka(Protocol):
    summary = "Kafka ISR replication (controller, HW, truncation); version=3.4 loses acked records"
    node = Broker
    shared_name = "controller"
    default_writes = 2
    default_faults = "power_loss=1"
    counterexamples = [
        Counterexample(
            "3.4", "the seed's demonstration: the leader loses its page cache, comes back "
            "as the only ISR member, and reuses the offset of an acknowledged record",
            params=("version=3.4",), options=Options(only=("durability",))),
        Counterexample(
            "3.4-leader_completeness", "the same loss, seen as soon as the broker that "
            "lost the record is elected leader again", params=("version=3.4",),
            options=Options(only=("leader_completeness",))),
        Counterexample(
            "unclean", "with unclean.leader.election.enable, an out-of-sync broker is "
            "elected without any fault", params=("unclean_leader_election=true",),
            options=Options(faults="none")),
        Counterexample(
            "kip966-stuck", "KIP-966 keeps every record, but two unclean shutdowns "
            "(kill -9 counts) empty ISR and ELR: no leader can ever be elected again",
            params=("version=kip966", "epochs=2"),
            options=Options(writes=1, faults="power_loss=1,crash=1")),
        Counterexample(
            "kip966-unreachable", "KIP-966 with one broker unreachable for good: "
            "another was fenced and the third shut down uncleanly, so neither may lead "
            "and the partition never takes a write again (availability half of the pair)",
            params=("version=kip966", "epochs=1"),
            options=Options(writes=0, faults="power_loss=1", only=("available",),
                            unreachable=1)),
        Counterexample(
            "kip966-last_known_leader", "Kafka 4.0's third election rule, the last "
            "known leader, restores availability and loses an acknowledged record",
            params=("version=kip966", "last_known_leader=true"),
            options=Options(faults="power_loss=1,crash=1")),
    ]

    def __init__(
        self,
        nodes: int = 3,
        epochs: int = 3,
        min_isr: int = 2,
        version: Literal["3.4", "kip966"] = "3.4",
        unclean_leader_election: bool = False,
        last_known_leader: bool = False,
        guarantee: Literal["acked", "visible"] = "acked",
    ) -> None:
        super().__init__(nodes)
        if epochs < 1:
            raise ValueError("epochs must be at least 1")
        if not 1 <= min_isr <= nodes:
            raise ValueError(f"min_isr must be between 1 and nodes ({nodes})")
        if last_known_leader and version != "kip966":
            raise ValueError("last_known_leader is an ELR rule: it needs version=kip966")
        self.epochs = epochs
        self.min_isr = min_isr
        self.version = version
        self.unclean_leader_election = unclean_leader_election
        self.last_known_leader = last_known_leader
        self.guarantee = guarantee
        #: KIP-966's "strict min ISR": the HW waits while the ISR is too small.
        self.strict_min_isr = version == "kip966"

    @invariant
    def leader_completeness(self, world: World) -> bool:
        """The leader holds every acknowledged record at its offset."""
        return self.missing_record(world) is None

    @recoverable
    def available(self, world: World) -> bool:
        """Producers can be served again: a live leader with at least
        ``min_isr`` replicas in the ISR.  Reaching the ``epochs`` bound
        counts as available: there the search stops electing, not Kafka."""
        p = world.shared
        if p.epoch >= self.epochs:
            return True
        return p.leader in p.live and len(p.isr) >= self.min_isr

    def missing_record(self, world: World) -> str | None:
        for name, broker in world.nodes.items():
            if not broker.leads:
                continue
            for value, position in sorted(world.acked, key=lambda a: a[1]):
                if position > len(broker.log) or broker.log[position - 1].value != value:
                    return (f"leader {name} of epoch {broker.epoch} lacks record {value}, "
                            f"acknowledged at offset {position - 1}")
        return None

    def explain(self, prop: str, state) -> str:
        if prop == "leader_completeness":
            return f"leader_completeness broken: {self.missing_record(World(self, state))}"
        if prop == "available":
            p = World(self, state).shared
            return (f"unavailable for good: no run from here elects a leader with "
                    f"{self.min_isr} in-sync replicas (leader {p.leader}, ISR {_names(p.isr)}, "
                    f"ELR {_names(p.elr)}, live {_names(p.live)})")
        return super().explain(prop, state)

    def recovery(self) -> Kafka:
        """Two more leader epochs for recovering: the leader may have to be
        fenced and another elected, and that one may need replacing too."""
        relaxed = super().recovery()
        relaxed.epochs = self.epochs + 2
        return relaxed

    def why_stuck(self, world: World, unreachable: frozenset[str]) -> list[str]:
        """The controller's view, which decides who may lead, then each broker."""
        p = world.shared
        rules = "the live ISR" + (", then the live ELR" if self.version == "kip966" else "")
        if self.last_known_leader:
            rules += ", then the last known leader"
        if self.unclean_leader_election:
            rules += ", then any live broker"
        return [f"controller: leader {p.leader or 'none'}, epoch {p.epoch} (recovery may go up "
                f"to {self.recovery().epochs}), ISR {_names(p.isr)}, ELR {_names(p.elr)}, live "
                f"{_names(p.live)}; a leader comes from {rules}, and takes writes with "
                f"{self.min_isr} in the ISR", *super().why_stuck(world, unreachable)]

    def initial_shared(self) -> PartitionState:
        everyone = frozenset(self.node_names)
        return PartitionState(leader=None, epoch=0, isr=everyone, elr=frozenset(), live=everyone)

    def position_name(self, position: int) -> str:
        return f"offset {position - 1}"

    def show_ack(self, value: int, position: int) -> str:
        return f"{value}@offset {position - 1}"

    # --- the controller ---------------------------------------------------------

    @step("controller elects {} leader")
    def elect(self, cluster: Cluster, name: str) -> None:
        p = cluster.shared
        if p.leader is not None or name not in p.live or p.epoch >= self.epochs:
            return
        if name in p.isr:
            isr, elr = p.isr, p.elr
        elif p.isr & p.live:
            return
        elif self.version == "kip966" and name in p.elr:
            isr, elr = frozenset({name}), p.elr - {name}
            cluster.note("from the ELR")
        elif p.elr & p.live:
            return
        elif self.last_known_leader and not p.isr and not p.elr and name == p.last_leader:
            isr, elr = frozenset({name}), frozenset()
            cluster.note("the last known leader")
        elif self.unclean_leader_election:
            isr, elr = frozenset({name}), frozenset()
            cluster.note("unclean: it is not in the ISR")
        else:
            return
        cluster.shared = p = p._replace(
            leader=name, epoch=p.epoch + 1, isr=isr, elr=elr, last_leader=None)
        cluster.note(f"epoch {p.epoch}, ISR {_names(isr)}")
        for member in p.live:
            broker = cluster[member]
            broker.leader, broker.epoch = name, p.epoch
            broker.step_down()
        cluster[name].isr = isr

    @step("{} registers with the controller")
    def register(self, cluster: Cluster, name: str) -> None:
        broker = cluster[name]
        if broker.session == "live":
            return
        if name in cluster.shared.live:  # it restarted before its session ran out
            cluster.note("the controller ends its old session")
            self.fail(cluster, name)
        p = cluster.shared
        if broker.session == "restarted" and self.version == "kip966" and name in p.elr:
            p = p._replace(elr=p.elr - {name})
            cluster.note("after an unclean shutdown it leaves the ELR")
        cluster.shared = p._replace(live=p.live | {name})
        broker.session, broker.leader, broker.epoch = "live", p.leader, p.epoch

    def fail(self, cluster: Cluster, name: str) -> None:
        """The controller learns that ``name``'s session ended."""
        p = cluster.shared
        isr, elr = self.without(p, name)
        leader = None if p.leader == name else p.leader
        last_leader = name if p.leader == name and not isr else p.last_leader
        cluster.shared = p._replace(leader=leader, isr=isr, elr=elr, live=p.live - {name},
                                    last_leader=last_leader)
        if p.leader == name:
            cluster.note("the partition has no leader")
        if leader is not None and isr != p.isr:
            cluster[leader].isr = isr
            cluster[leader].advance_hw()

    def without(self, p: PartitionState, name: str) -> tuple[frozenset, frozenset]:
        """ISR and ELR once ``name`` leaves the ISR."""
        if name not in p.isr:
            return p.isr, p.elr
        isr = p.isr - {name}
        if self.version == "3.4":
            return (isr, p.elr) if isr else (p.isr, p.elr)  # the last member stays
        return isr, (p.elr | {name} if len(isr) < self.min_isr else p.elr)

    # --- the leader and its followers -------------------------------------------

    @step("{} fetches from the leader")
    def fetch(self, cluster: Cluster, name: str) -> None:
        follower = cluster[name]
        if follower.session != "live" or follower.leader in (None, name):
            return
        leader = cluster[follower.leader]
        if not leader.leads or leader.epoch != follower.epoch:
            return  # NOT_LEADER or FENCED_LEADER_EPOCH: wait for the controller
        while follower.log:  # the diverging-epoch check, until the logs agree
            known, end = leader.end_offset(follower.log[-1].epoch)
            own_end = follower.end_offset(known)[1]
            if min(end, own_end) >= len(follower.log):
                break
            follower.log.truncate(min(end, own_end))
            cluster.note(f"truncates to offset {len(follower.log)}, where its log and "
                         "the leader's diverge")
        if len(follower.log) < len(leader.log):
            follower.log.append(leader.log[len(follower.log)])
            cluster.note(f"copies offset {len(follower.log) - 1}")
        ends = frozenset(f for f in leader.fetched if f.broker != name)
        leader.fetched = ends | {Fetched(name, len(follower.log))}
        p = cluster.shared
        if name not in p.isr and self.caught_up(leader, len(follower.log)):
            isr = p.isr | {name}
            elr = p.elr - {name}
            if self.version == "kip966" and len(isr) >= self.min_isr:
                elr = frozenset()
            cluster.shared = p._replace(isr=isr, elr=elr)
            leader.isr = isr
            cluster.note(f"caught up: the leader adds it to the ISR {_names(isr)}")
        leader.advance_hw()
        follower.hw = min(leader.hw, len(follower.log))

    def caught_up(self, leader: Broker, end: int) -> bool:
        """Whether a follower whose log ends at ``end`` may join the ISR: it
        has the leader's HW and everything before the leader's epoch."""
        return end >= leader.hw and end >= leader.epoch_start()

    @step("the leader drops {} from the ISR (replica.lag.time.max.ms)")
    def shrink_isr(self, cluster: Cluster, name: str) -> None:
        p = cluster.shared
        if p.leader in (None, name) or name not in p.isr:
            return
        isr, elr = self.without(p, name)
        if isr == p.isr:
            return
        cluster.shared = p._replace(isr=isr, elr=elr)
        leader = cluster[p.leader]
        leader.isr = isr
        leader.advance_hw()

    @step("{}'s session expires: the controller fences it", fences=True)
    def expire(self, cluster: Cluster, name: str) -> None:
        broker = cluster[name]
        if name not in cluster.shared.live:
            return
        self.fail(cluster, name)
        if broker.session == "live":  # a restarted broker keeps saying so
            broker.session, broker.leader = "expired", None
            broker.step_down()


def _names(names: frozenset[str]) -> str:
    return "{" + ", ".join(sorted(names)) + "}"
