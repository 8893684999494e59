"""Viewstamped Replication Revisited with its diskless recovery protocol.

Sources: Liskov and Cowling, "Viewstamped Replication Revisited",
MIT-CSAIL-TR-2012-021 (2012), sections 4.1 (normal operation), 4.2 (view
changes) and 4.3 (recovery); Michael, Ports, Sharma and Szekeres,
"Recovering Shared Objects Without Stable Storage", DISC 2017, which shows
that this recovery can lose committed operations and repairs it with crash
vectors.

Replicas keep nothing on disk: every field is volatile, so a crash (or a
power loss: there is no disk to lose) wipes a replica, which comes back
``recovering``.  The primary of view v is replica v mod n.

* Normal operation: the primary appends a client's operation and sends
  PREPARE; a backup in the same view that has every earlier operation
  appends it and answers PREPAREOK; with f of them the primary commits
  and acknowledges the client.
* View change: a replica whose timer fires (at most up to view ``views``),
  or that hears of a later view, moves to it with status view-change and
  sends STARTVIEWCHANGE; with f of those from others it sends DOVIEWCHANGE
  (log, last normal view, commit number) to the new primary; that one,
  with f + 1 of them including its own, takes the log of the latest
  normal view (longest among those), becomes normal and sends STARTVIEW;
  replicas that adopt it send PREPAREOK for its uncommitted operations.
* Recovery (``recovery=published``, as in the paper): the restarted replica
  sends RECOVERY with a nonce; replicas in normal status answer with their
  view, the primary also with its log and commit number; with f + 1
  answers carrying the nonce, one from the primary of the latest view
  among them, it takes that primary's state and is normal again.
* ``recovery=crash_vectors``: our rendering of the DISC 2017 repair.
  Every replica keeps a crash vector, one counter per replica, and every
  message carries the sender's; a message whose sender's own counter is
  below what the receiver knows comes from an incarnation that has since
  crashed and is dropped, and a receiver that learns of a crash forgets
  what that replica told it in a quorum being gathered (the quorum would
  not be crash-consistent).  A restarted replica first asks f + 1 replicas
  for their vectors and takes one more than the largest count of its own
  crashes, then recovers as published with that vector on its RECOVERY, so
  every replica that answers has learnt of the crash before answering.
  (The paper's exact message flow may differ; what is modelled is its
  principle: no quorum mixes a replica's words from before and after a
  crash.)

What it reproduces: with three replicas, one write and two crashes one
after the other (never more than f = 1 replica recovering at once, the
paper's assumption, stated as ``@assume``), the published recovery loses a
committed operation.  A replica B times out and sends STARTVIEWCHANGE for
view 1, crashes and recovers into view 0.  Its old STARTVIEWCHANGE reaches
C, which sends DOVIEWCHANGE (empty log) to B, the primary of view 1, and
then crashes and recovers into view 0 too.  The write is prepared by A and
acknowledged by C, so it is committed by {A, C} and acknowledged.  Then B
takes C's old DOVIEWCHANGE with its own and starts view 1 without the
write: C's words from before its crash and after it were counted in
quorums that should have intersected (``commits_survive_view_changes``, 18
steps).  That run is derived by hand and replayed in tests/test_vr.py (and
in the explorer, path in the README); breadth-first search confirms 18 is
the fewest (2,009,892 states, 24 minutes on a loaded machine with
``--store fingerprint``: too long for the gallery, which searches every
entry again), and random runs (``simulate``) did not hit it.  With crash vectors the stale
messages are refused (tests/test_vr.py); exhaustive verdicts by budget are
in the README (bench/vr.py).

Modelling choices, to keep the state space small:

* One client operation per write; the client talks to the current primary
  only, and an operation is acknowledged once, by the primary that commits
  it (no client table, no retransmission, no COMMIT messages: backups learn
  commit numbers from PREPARE and STARTVIEW).
* No state transfer: a backup that misses a PREPARE stays behind until a
  STARTVIEW; messages of an older view are ignored, and a normal replica
  that hears of a later view only through PREPARE ignores it too.  This
  removes behaviours, so a violation found is real; ``ok`` is for this
  model.
* The nonce is the replica's restart count, a ghost field: fresh on each
  recovery as a random nonce is, and shown with ``--ghosts``.
* Messages are a bag and are sent once; views go up to ``views``; only a
  backup's timer starts a view change (the primary does not suspect
  itself).  A delivery that changes no replica is no step (the message
  stays in the bag, so nothing a replica could do is lost).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from modelcheck import invariant
from modelcheck.actors import Ghost, Node, Protocol, Volatile, World, assume, on, timeout


class Vote(NamedTuple):
    """A DOVIEWCHANGE as the new primary keeps it."""

    sender: str
    last_normal: int
    log: tuple[int, ...]
    commit: int


class Answer(NamedTuple):
    """A RECOVERYRESPONSE as the recovering replica keeps it (log None: not
    from a primary)."""

    sender: str
    view: int
    log: tuple[int, ...] | None
    commit: int


class Replica(Node):
    view = Volatile(0)
    status = Volatile("normal")
    last_normal = Volatile(0)
    log = Volatile(())
    commit = Volatile(0)
    #: View change: who sent STARTVIEWCHANGE for this view; at the new
    #: primary, the DOVIEWCHANGEs.
    svc = Volatile(frozenset())
    dvc = Volatile(frozenset())
    #: At the primary: (backup, op number) of every PREPAREOK of this view.
    oks = Volatile(frozenset())
    #: While recovering: the answers to this recovery (and, crash vectors,
    #: the vectors of the first round).
    answers = Volatile(frozenset())
    #: Crash vectors only: one crash count per replica, and whether this
    #: recovery has learnt its own count yet.
    cv = Volatile(())
    counted = Volatile(False)
    #: How many times this replica has restarted: the recovery nonce.
    restarts = Ghost(0)
    #: (operation, position, view) of every operation this replica
    #: committed as primary: what the property checks later views against.
    commits = Ghost(frozenset())

    # --- helpers -------------------------------------------------------------

    @property
    def f(self) -> int:
        return (len(self.protocol.node_names) - 1) // 2

    def primary(self, view: int) -> str:
        names = self.protocol.node_names
        return names[view % len(names)]

    @property
    def vectors(self) -> bool:
        return self.protocol.recovery_kind == "crash_vectors"

    def send_cv(self, to: str, kind: str, **body) -> None:
        """Send, with the crash vector on the message when the fix is on."""
        if self.vectors:
            body["cv"] = self.cv
        self.send(to, kind, **body)

    def broadcast_cv(self, kind: str, **body) -> None:
        for peer in self.peers:
            self.send_cv(peer, kind, **body)

    def fresh(self, msg) -> bool:
        """Crash vectors: whether ``msg`` comes from its sender's current
        incarnation as far as this replica knows; merges what it teaches.
        Without the fix every message is fresh.  Callers check their status
        first: a recovering replica learns only from recovery messages."""
        if not self.vectors:
            return True
        i = self.protocol.node_index[msg.src]
        if msg.cv[i] < self.cv[i]:
            return False
        merged = tuple(max(a, b) for a, b in zip(self.cv, msg.cv))
        crashed = {name for name, old, new in zip(self.protocol.node_names, self.cv, merged)
                   if new > old}
        if crashed:  # what they said before crashing no longer counts
            self.svc = self.svc - crashed
            self.dvc = frozenset(v for v in self.dvc if v.sender not in crashed)
            self.oks = frozenset(ok for ok in self.oks if ok[0] not in crashed)
            self.cv = merged
        return True

    def on_start(self):
        if self.vectors:
            self.cv = (0,) * len(self.protocol.node_names)

    # --- normal operation (4.1) ---------------------------------------------------

    def on_client_write(self, value):
        if self.status != "normal" or self.primary(self.view) != self.name:
            return
        self.log = self.log + (value,)
        self.broadcast_cv("Prepare", view=self.view, op=len(self.log), entry=value,
                          commit=self.commit)

    @on("Prepare", label=("view", "op"))
    def on_prepare(self, msg):
        if self.status != "normal" or not self.fresh(msg):
            return
        if msg.view == self.view and msg.op == len(self.log) + 1:
            self.log = self.log + (msg.entry,)
            self.commit = max(self.commit, msg.commit)
            self.send_cv(msg.src, "PrepareOk", view=self.view, op=msg.op)

    @on("PrepareOk", label=("view", "op"))
    def on_prepare_ok(self, msg):
        if self.status != "normal" or not self.fresh(msg):
            return
        if msg.view == self.view:
            self.oks = self.oks | {(msg.src, msg.op)}
            self.advance_commit()

    def advance_commit(self) -> None:
        for n in range(len(self.log), self.commit, -1):
            backups = {name for name, op in self.oks if op >= n}
            if len(backups) >= self.f:
                self.commit_up_to(n)
                return

    def commit_up_to(self, n: int) -> None:
        """Commit (and acknowledge) the operations after the commit number up to ``n``."""
        for position in range(self.commit + 1, n + 1):
            self.ack(self.log[position - 1], position)
            self.commits = self.commits | {(self.log[position - 1], position, self.view)}
        self.commit = max(self.commit, n)

    def committed(self):
        return self.log[: self.commit]

    # --- view change (4.2) ----------------------------------------------------------

    @timeout
    def start_view_change(self):
        """A backup that stops hearing from its primary (the primary does
        not suspect itself)."""
        if (self.status != "recovering" and self.view < self.protocol.views
                and self.primary(self.view) != self.name):
            self.move_to(self.view + 1)

    def move_to(self, view: int) -> None:
        self.view = view
        self.status = "view-change"
        self.svc = frozenset()
        self.dvc = frozenset()
        self.oks = frozenset()
        self.broadcast_cv("StartViewChange", view=view)

    def hears_of(self, view: int) -> bool:
        """Move to ``view`` if it is later; whether this replica is now in it."""
        if self.status == "recovering" or view < self.view:
            return False
        if view > self.view:
            self.move_to(view)
        return self.status == "view-change"

    @on("StartViewChange", label=("view",))
    def on_start_view_change(self, msg):
        if self.status == "recovering" or not self.fresh(msg):
            return
        if not self.hears_of(msg.view) or msg.src in self.svc:
            return
        self.svc = self.svc | {msg.src}
        if len(self.svc) == self.f:
            vote = Vote(self.name, self.last_normal, self.log, self.commit)
            new_primary = self.primary(self.view)
            if new_primary == self.name:
                self.count_vote(vote)
            else:
                self.send_cv(new_primary, "DoViewChange", view=self.view, log=self.log,
                             last_normal=self.last_normal, commit=self.commit)

    @on("DoViewChange", label=("view", "log"))
    def on_do_view_change(self, msg):
        if self.status == "recovering" or not self.fresh(msg):
            return
        if self.primary(msg.view) != self.name or not self.hears_of(msg.view):
            return
        self.count_vote(Vote(msg.src, msg.last_normal, msg.log, msg.commit))

    def count_vote(self, vote: Vote) -> None:
        self.dvc = self.dvc | {vote}
        own = any(v.sender == self.name for v in self.dvc)
        if own and len(self.dvc) >= self.f + 1:
            best = max(self.dvc, key=lambda v: (v.last_normal, len(v.log)))
            known = max(v.commit for v in self.dvc)
            self.log = best.log
            self.status = "normal"
            self.last_normal = self.view
            self.dvc = self.svc = frozenset()
            self.commit_up_to(known)
            self.broadcast_cv("StartView", view=self.view, log=self.log, commit=self.commit)

    @on("StartView", label=("view", "log"))
    def on_start_view(self, msg):
        if self.status == "recovering" or not self.fresh(msg) or msg.view < self.view:
            return
        if msg.view == self.view and self.status == "normal":
            return
        self.view = msg.view
        self.status = "normal"
        self.last_normal = msg.view
        self.log = msg.log
        self.commit = msg.commit
        self.svc = self.dvc = self.oks = frozenset()
        if len(self.log) > self.commit:
            self.send_cv(msg.src, "PrepareOk", view=self.view, op=len(self.log))

    # --- recovery (4.3) ------------------------------------------------------------

    def on_restart(self):
        self.restarts = self.restarts + 1
        self.status = "recovering"
        if self.vectors:
            self.broadcast("CrashCount", nonce=self.restarts)
        else:
            self.broadcast("Recovery", nonce=self.restarts)

    @on("CrashCount", label=("nonce",))
    def on_crash_count(self, msg):
        if self.status != "recovering":
            self.send(msg.src, "CrashCountReply", nonce=msg.nonce, cv=self.cv)

    @on("CrashCountReply", label=("nonce",))
    def on_crash_count_reply(self, msg):
        if self.status != "recovering" or msg.nonce != self.restarts or self.counted:
            return
        if any(a[0] == msg.src for a in self.answers):
            return
        self.answers = self.answers | {(msg.src, msg.cv)}
        if len(self.answers) == self.f + 1:
            i = self.protocol.node_index[self.name]
            known = [a[1] for a in self.answers]
            merged = tuple(max(column) for column in zip(*known))
            self.cv = merged[:i] + (merged[i] + 1,) + merged[i + 1 :]
            self.counted = True
            self.answers = frozenset()
            self.broadcast_cv("Recovery", nonce=self.restarts)

    @on("Recovery", label=("nonce",))
    def on_recovery(self, msg):
        if self.status != "normal" or not self.fresh(msg):
            return
        mine = self.primary(self.view) == self.name
        self.send_cv(msg.src, "RecoveryResponse", view=self.view, nonce=msg.nonce,
                     log=self.log if mine else None, commit=self.commit if mine else 0)

    @on("RecoveryResponse", label=("view", "nonce"))
    def on_recovery_response(self, msg):
        if self.status != "recovering" or msg.nonce != self.restarts:
            return
        if self.vectors and not (self.counted and self.fresh(msg)):
            return
        answers = {a for a in self.answers if a.sender != msg.src}
        self.answers = frozenset(answers | {Answer(msg.src, msg.view, msg.log, msg.commit)})
        latest = max(a.view for a in self.answers)
        primary = next((a for a in self.answers
                        if a.view == latest and a.sender == self.primary(latest)), None)
        if len(self.answers) >= self.f + 1 and primary is not None:
            self.view = latest
            self.last_normal = latest
            self.log = primary.log
            self.commit = primary.commit
            self.status = "normal"
            self.answers = frozenset()
            self.counted = False


class VR(Protocol):
    summary = ("Viewstamped Replication Revisited, diskless recovery: recovery=published "
               "loses a committed write, crash_vectors does not")
    node = Replica
    symmetric = False  # the primary of view v is replica v mod n
    default_writes = 1
    default_faults = "crash=2"
    # No gallery entry: the gallery (and its staleness test) searches every
    # entry again, and the published loss takes a 24-minute search;
    # tests/test_vr.py replays it.

    def __init__(
        self,
        nodes: int = 3,
        views: int = 1,
        recovery: Literal["published", "crash_vectors"] = "published",
    ) -> None:
        super().__init__(nodes)
        if views < 0:
            raise ValueError("views must be at least 0")
        self.views = views
        self.recovery_kind = recovery
        self.f = (nodes - 1) // 2

    def successors(self, s):
        # A delivery that changes no node only consumes the message: leaving
        # it in the bag loses no node behaviour (it can still be delivered
        # later, should that ever matter) and spares the search every order
        # of consuming stale messages (as specs/quorum_log.py does).
        nodes, acked = s[0], s[3][1]
        return ((action, nxt) for action, nxt in super().successors(s)
                if not (action.kind == "deliver" and nxt[0] == nodes
                        and nxt[3][1] is acked and len(nxt[1]) < len(s[1])))

    def recovery(self) -> VR:
        """One more view for recovering: a view change past a lost primary."""
        relaxed = super().recovery()
        relaxed.views = self.views + 1
        return relaxed

    @assume
    def at_most_f_recovering(self, world: World) -> bool:
        """The paper's failure model: at most f replicas down (stopped) or
        recovering at once."""
        recovering = sum(n.status == "recovering" for n in world.nodes.values())
        return recovering + len(world.stopped) <= self.f

    @invariant
    def commits_survive_view_changes(self, world: World) -> bool:
        """Every replica running in a view has, at its position, every
        operation committed in an earlier view: the guarantee VR's view
        change gives, and what a lost committed operation breaks."""
        return self.lost_commit(world) is None

    def lost_commit(self, world: World) -> str | None:
        commits = {c for node in world.nodes.values() for c in node.commits}
        for name, node in world.nodes.items():
            if node.status != "normal":
                continue
            for value, position, view in sorted(commits, key=repr):
                if view < node.view and node.log[position - 1: position] != (value,):
                    return (f"{value} was committed at position {position} in view {view}, "
                            f"but {name}, running view {node.view}, has log {list(node.log)}: "
                            "the committed operation is lost")
        return None

    def explain(self, prop: str, state) -> str:
        if prop != "commits_survive_view_changes":
            return super().explain(prop, state)
        return f"{prop} broken: {self.lost_commit(World(self, state))}"
