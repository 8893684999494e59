"""Compiling nodes, network, client and faults into a Model.

The global state is the tuple ``(nodes, network, isolated, client, used, shared)``:

* ``nodes``    one NodeState per node, in layout order (modelcheck.actors.roles;
               a stopped node's ends with ``stops.STOPPED``);
* ``network``  the messages in flight, a sorted tuple (modelcheck.actors.links);
* ``isolated`` the set of nodes cut off from the rest and from the client;
* ``client``   ``(next_write, acked)``: the next value the client will write
               and the frozenset of ``(value, position)`` acknowledgements;
               with a third part, the history of reads and writes, when the
               protocol declares ``behaves_as`` (see modelcheck.actors.client);
* ``used``     how many faults of each kind have happened (FaultBudget order);
* ``shared``   the state outside the nodes that the protocol's ``@step``
               methods keep (see modelcheck.actors.cluster), or None.

Every step is one of: deliver a message, fire a node's timeout, the client
writes to or reads from a node, one of the protocol's atomic ``@step`` methods,
or a fault (crash, power loss, partition, heal, drop, duplicate, stop) within
the budget; less the steps a stopped node cannot take and those that leave
the model (``@assume``).
"""

from __future__ import annotations

import copy
import inspect
from collections import Counter
import traceback
from collections.abc import Callable, Iterator
from functools import partial
from itertools import combinations, product
from pathlib import Path
from typing import Any, NamedTuple

from modelcheck import glyphs
from modelcheck.actors import client as client_ops
from modelcheck.actors import disk, stops
from modelcheck.actors.assume import assumptions_of, broken
from modelcheck.actors.cluster import Cluster, steps_of
from modelcheck.actors.stale import StaleMessages, declares_rule
from modelcheck.actors.symmetry import NodeSymmetry
from modelcheck.actors.faults import FaultBudget
from modelcheck.actors.independence import ActorSleepRules
from modelcheck.actors.links import Links, semantics
from modelcheck.actors.network import Bag, Message, connected
from modelcheck.actors.roles import lay_out, single, suffers
from modelcheck.actors.authoring import defined_at, returns_nothing
from modelcheck.actors.node import LogView, Node, NodeState
from modelcheck.errors import SpecError
from modelcheck.linearizable import SequentialObject
from modelcheck.model import Model
from modelcheck.trace import show, shown
from modelcheck.validate import find_mutable

GlobalState = tuple[
    tuple[NodeState, ...], Bag, frozenset, tuple[int, frozenset], tuple[int, ...], Any
]
POWER_LOSS, CRASH, PARTITION, DROP, DUPLICATE, STOP = range(6)

#: Takes a step: its label and the next state, or None when it would change nothing.
Taker = Callable[[], "tuple[Action, GlobalState] | None"]
#: A step that may be possible: its label (an atomic step's without the notes
#: it adds when taken), and how to take it.
Candidate = tuple["Action", Taker]


def _unchanged(state: GlobalState) -> GlobalState:
    return state


def _given(label: Action, state: GlobalState) -> tuple[Action, GlobalState]:
    return label, state


FAULT_KINDS = FaultBudget.kinds()
_ATOMIC = frozenset({int, str, bool, type(None)})

_IN_PLACE = ("Node fields must hold immutable values (tuples, frozensets): assign a new "
             "value instead of changing one in place")

_CHECKED_LIMIT = 400_000
#: Values already found immutable: field values recur across many steps.
_checked: set[Any] = set()


def _mutable_part(value: Any, where: str) -> str | None:
    """``find_mutable``, remembering the values that passed."""
    if type(value) in _ATOMIC:
        return None
    # A set is looked up as the equal frozenset: never look up the unhashable.
    if type(value).__hash__ is None:
        return find_mutable(value, where)
    try:
        if value in _checked:
            return None
    except TypeError:  # a tuple holding something unhashable: find_mutable says where
        return find_mutable(value, where)
    problem = find_mutable(value, where)
    if problem is None:
        if len(_checked) > _CHECKED_LIMIT:
            _checked.clear()
        _checked.add(value)
    return problem


#: The framework's own files: a spec's error is shown at the spec's line.
_FRAMEWORK = str(Path(__file__).resolve().parents[1])


def _spec_line(exc: BaseException) -> str:
    """Where in the spec ``exc`` was raised (or the innermost line if nowhere)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if not str(Path(f.filename).resolve()).startswith(_FRAMEWORK)]
    frame = (ours or frames)[-1]
    # A handler called with the wrong arguments raised in our call: no spec line.
    if not ours and isinstance(exc, SpecError):
        return ""
    return f"\n  at {frame.filename}:{frame.lineno}\n    {frame.line}"


class Action(NamedTuple):
    """A step's label.  ``kind`` is deliver, timeout, write, step, or a fault kind."""

    kind: str
    node: str | None = None
    message: Message | None = None
    detail: str = ""
    #: For atomic steps: the node whose acknowledgement reached the client.
    acked_by: str | None = None
    #: For atomic steps: the nodes the step read or changed, less the node a
    #: fencing step is about (see ``involves``).
    reaches: frozenset[str] = frozenset()

    @property
    def is_fault(self) -> bool:
        return self.kind in FAULT_KINDS or self.kind == "heal"

    def involves(self) -> frozenset[str] | None:
        """The nodes that must be reachable for this step to happen: a
        message's sender and receiver, the node of a timeout or client
        write, the nodes an atomic step reads or changes (a fencing step
        does without the node it fences).  None for faults and healing,
        which are the environment's, not the nodes'."""
        match self.kind:
            case "deliver":
                return frozenset((self.message.src, self.message.dst))
            case "timeout" | "write" | "read":
                return frozenset((self.node,))
            case "step":
                return self.reaches
        return None

    def __str__(self) -> str:
        m = self.message
        match self.kind:
            case "deliver":
                return f"{m.src} → {m.dst}  {m!r}"
            case "timeout":
                return f"{self.node}: {self.detail}"
            case "write":
                return f"client → {self.node}  write {self.detail}"
            case "read":
                return f"client → {self.node}  read {self.detail}"
            case "step":
                return f"{glyphs.STEP} {self.detail}"
            case "crash":
                return (f"{glyphs.CRASH} {self.node} crashes (kill -9) and restarts: "
                        "memory lost, disk kept")
            case "power_loss":
                return f"{glyphs.POWER_LOSS} {self.node} power loss and restart: {self.detail}"
            case "stop":
                return f"{glyphs.STOP} {self.node} stops for good"
            case "partition":
                return f"{glyphs.PARTITION} partition {self.detail}"
            case "heal":
                return f"{glyphs.HEAL} partition healed"
            case "drop":
                return f"{glyphs.NETWORK} lost in the network: {m.src} → {m.dst}  {m!r}"
            case "duplicate":
                return f"{glyphs.NETWORK} duplicated by the network: {m.src} → {m.dst}  {m!r}"
        return self.kind


class World:
    """A read-only view of a global state, for invariants.

    A World made to judge a property (``judging``) refuses to show the
    messages in flight while stale ones are pruned (modelcheck.actors.stale):
    the property could judge a pruned state otherwise than the real one.
    """

    def __init__(self, protocol: Protocol, state: GlobalState, judging: bool = False) -> None:
        nodes, network, isolated, client, _used, shared = state
        self.nodes = {
            name: protocol.inspect(name, ns) for name, ns in zip(protocol.node_names, nodes)
        }
        self._network = network
        self._hidden = judging and protocol.pruning
        self.isolated = isolated
        self.acked = client[1]
        self.shared = shared
        #: The nodes stopped for good (``--faults stop=N``).
        self.stopped = stops.stopped(protocol.node_names, nodes)

    @property
    def network(self) -> Bag:
        """The messages in flight."""
        if self._hidden:
            raise SpecError("a property or assumption reads world.network, the messages in "
                            "flight, while stale messages are pruned from it (the spec's "
                            "ignores): run with --no-prune")
        return self._network


class Protocol(Model):
    """Base class of actor-level specs.

    A subclass names its node class (``node = Replica``), or a class per
    role (``roles = {"replica": Replica, "master": Master}``, see
    modelcheck.actors.roles), and takes its own parameters in ``__init__``,
    calling ``super().__init__(nodes)`` (with roles: ``nodes`` of the first
    role, one of each other, unless counted by name: ``replica=3, master=1``).
    Invariants are methods ``(self, world) -> bool`` marked ``@invariant``;
    durability is built in when the node class defines ``committed`` or the
    protocol declares ``behaves_as`` (which adds ``linearizable`` too).
    Atomic steps across nodes are methods marked ``@step``, keeping any state
    outside the nodes in ``initial_shared``'s value.
    """

    node: type[Node]
    #: A node class per role, instead of ``node`` (modelcheck.actors.roles).
    roles: dict[str, type[Node]] | None = None
    #: How messages travel: "bag", "fifo" or "tcp" (modelcheck.actors.links).
    network = "bag"
    #: Whether nodes (of one role) are interchangeable (modelcheck.actors.symmetry).
    symmetric = True
    #: Defaults for ``--writes`` and ``--faults``.  No partitions: in the bag
    #: network they reach no new node state, and multiply the states (README).
    default_writes = 2
    default_faults = "power_loss=1"
    #: How traces title the shared state.
    shared_name = "shared"
    #: Whether traces, JSON and charts show ghost fields (``--ghosts``).
    show_ghosts = False
    #: The object the client sees (modelcheck.linearizable's Register() or
    #: Log()): the client then reads too (``--reads``), keeps a history, and
    #: ``linearizable`` and reads in ``durability`` are checked.
    behaves_as: SequentialObject | None = None
    #: Default for ``--reads``.
    default_reads = 0
    #: On the copy ``recovery()`` makes: the probe write's value, which a
    #: register's one writer issues without waiting for the write before it
    #: (whose node may be unreachable for good).
    probe_write: int | None = None
    #: On that copy too: the nodes the recovery run in progress has cut off.
    #: Deliveries to or from them, their timeouts and the client's requests
    #: to them are not even tried, since a recovery never takes them
    #: (``modelcheck.available.allowed``).  A spec's own ``successors`` that
    #: filters steps one by one sees the same steps, less those.
    cut_off: frozenset[str] = frozenset()

    def __init__(self, nodes: int = 3, **counts: int) -> None:
        cls = type(self)
        if cls.roles is None:
            if counts:
                raise SpecError(f"{inspect.getsourcefile(cls)}: {cls.__name__} gives node "
                                f"counts by role ({counts}) but declares no roles = {{...}}")
            # self, not cls: a spec may pick its node class per instance before
            # calling super().__init__ (Raft's variants do).
            layout = single(getattr(self, "node", None), nodes)
        else:
            layout = lay_out(f"{inspect.getsourcefile(cls)}: {cls.__name__}", cls.roles,
                             nodes, counts)
        self.node_names, self.node_classes, self.node_roles = layout
        self.node_index = {name: i for i, name in enumerate(self.node_names)}
        self._kin = {name: self.names_of(role) for name, role in zip(self.node_names,
                                                                     self.node_roles)}
        self._symmetry = NodeSymmetry(self.node_names, self.node_roles)
        self.writes = self.default_writes
        self.reads = self.default_reads
        self.faults = FaultBudget.parse(self.default_faults)
        #: With --minimize faults: the most fault events of any kind together.
        self.max_total_faults: int | None = None
        #: Prune stale messages (modelcheck.actors.stale): None, wherever a
        #: node class says which messages it ignores.
        self.prune_stale: bool | None = None
        self._steps = steps_of(type(self))
        self._assumptions = assumptions_of(type(self))

    def check_setup(self) -> None:
        """Refuse a subclass that skipped ``super().__init__`` or names no node class."""
        cls = type(self)
        where = f"{inspect.getsourcefile(cls)}: {cls.__name__}"
        node = getattr(cls, "node", None)
        if cls.roles is None and not (isinstance(node, type) and issubclass(node, Node)):
            raise SpecError(f"{where} names no node class: set node = YourNode (a subclass "
                            f"of modelcheck.actors.Node) in the class body, not {node!r}")
        if "node_names" not in vars(self):
            raise SpecError(
                f"{where}.__init__ does not call super().__init__(nodes): Protocol.__init__ "
                "sets up the node names, the writes and the fault budget")
        self._links()
        self._check_reads()

    def _check_reads(self) -> None:
        """Refuse reads that no object or no handler can serve."""
        if not self.reads:
            return
        cls = type(self)
        where = f"{inspect.getsourcefile(cls)}: {cls.__name__}"
        if self.behaves_as is None:
            raise SpecError(f"--reads {self.reads}: {where} does not say what object the "
                            "client reads: set behaves_as = Register() or Log() (from "
                            "modelcheck.linearizable) in the class body")
        for node in self._classes():
            if node.serves_client and not callable(getattr(node, "on_client_read", None)):
                raise SpecError(f"--reads {self.reads}: {node.__name__} "
                                f"({inspect.getsourcefile(node)}) has no "
                                "on_client_read(self, op) to serve them")

    def configure(
        self, writes: int | None = None, faults: FaultBudget | None = None,
        reads: int | None = None, prune: bool | None = None,
    ) -> None:
        if prune is not None:
            self.prune_stale = prune
            if prune and not self.pruning:
                self._refuse_pruning()
        if writes is not None:
            self.writes = writes
        if faults is not None:
            self.faults = faults
        if reads is not None:
            self.reads = reads
            self._check_reads()
        self._links().check_faults(self.faults)

    # --- roles and links ---------------------------------------------------

    def node_class(self, name: str) -> type[Node]:
        """The class of node ``name`` (``node`` itself, without roles)."""
        return self.node_classes[self.node_index[name]]

    def names_of(self, role: str) -> tuple[str, ...]:
        """The names of the nodes of ``role``."""
        return tuple(n for n, r in zip(self.node_names, self.node_roles) if r == role)

    def kin(self, name: str) -> tuple[str, ...]:
        """The nodes of the role of node ``name``, itself included."""
        return self._kin[name]

    def _links(self) -> Links:
        """The semantics of ``network``, which a spec may set in ``__init__``."""
        links = self.__dict__.get("_resolved_links")
        if links is None or links.name != self.network:
            cls = type(self)
            links = self._resolved_links = semantics(
                self.network, f"{inspect.getsourcefile(cls)}: {cls.__name__}.network")
            self._symmetry.arrange = links.arrange
        return links

    @property
    def pruning(self) -> bool:
        """Whether the search prunes stale messages (modelcheck.actors.stale)."""
        return (self.prune_stale is not False and any(map(declares_rule, self.node_classes))
                and not self._links().ordered)

    def _refuse_pruning(self) -> None:
        cls = type(self)
        where = f"{inspect.getsourcefile(cls)}: {cls.__name__}"
        if not any(map(declares_rule, self.node_classes)):
            raise SpecError(f"--prune: no node class of {where} says which messages it "
                            "ignores (def ignores(self, msg)), so there is nothing to prune")
        raise SpecError(f"--prune: {where} has {self._links().name} links, where a stale "
                        "message holds back those behind it: pruning needs network = 'bag'")

    def _classes(self) -> tuple[type[Node], ...]:
        """Each node class once, in role order."""
        return tuple(dict.fromkeys(self.node_classes))

    # --- availability (see modelcheck.available) --------------------------------

    def recovery(self) -> Protocol:
        """This protocol as the recovery phase of availability runs it.

        Bounds such as ``writes``, terms or epochs keep the fault phase
        finite; a recovery must not be refused by them.  The default copy
        allows one probe write past ``writes`` and no faults.  A spec with
        bounds of its own overrides this, raising them on the copy::

            def recovery(self):
                relaxed = super().recovery()
                relaxed.terms = self.terms + 2
                return relaxed
        """
        relaxed = copy.copy(self)
        relaxed.writes = self.writes + 1
        relaxed.probe_write = relaxed.writes
        relaxed.faults = FaultBudget()
        relaxed.max_total_faults = None
        return relaxed

    def why_stuck(self, world: World, unreachable: frozenset[str]) -> list[str]:
        """Why the nodes outside ``unreachable`` cannot get a new write
        acknowledged from ``world``: a line per remaining node.

        The default shows each remaining node's memory and the messages it
        is left waiting on: those it sent to an unreachable node, and those
        an unreachable node sent it, neither of which will ever arrive.
        """
        lines = []
        for name, node in world.nodes.items():
            if name in unreachable:
                continue
            if name in world.stopped:
                lines.append(f"{name}: stopped for good")
                continue
            memory = ", ".join(f"{f.name}={show(getattr(node, f.name))}"
                               for f in node._volatile_fields)
            waiting = [f"its {m!r} to {m.dst} never arrives" for m in world.network
                       if m.src == name and m.dst in unreachable]
            waiting += [f"{m.src}'s {m!r} to it never arrives" for m in world.network
                        if m.dst == name and m.src in unreachable]
            lines.append(f"{name} ({memory or 'no memory'}): "
                         + ("; ".join(waiting) or "no message to or from an unreachable node"))
        return lines

    def initial_shared(self) -> Any:
        """The initial state outside the nodes, kept by ``@step`` methods."""
        return None

    def position_name(self, position: int) -> str:
        """How traces name a 1-based log position."""
        return f"position {position}"

    def show_ack(self, value: Any, position: int | None) -> str:
        """An acknowledgement as the client's line in a trace shows it."""
        return show(value) if position is None else f"{show(value)}@{position}"

    # --- Model interface ---------------------------------------------------

    def initial_states(self) -> Iterator[GlobalState]:
        self._links()
        nodes = []
        for name, cls in zip(self.node_names, self.node_classes):
            node = cls._thaw(name, self, cls._initial(), writable=True)
            self._call(node, "on_start", ())
            if node._outbox or node._acks:
                raise SpecError(f"node {name}: on_start may not send or acknowledge")
            nodes.append(node._freeze())
            self._check_fields(
                f"the start of node {name}", node, None, nodes[-1],
                f"Give the fields of {cls.__name__} ({inspect.getsourcefile(cls)}) "
                "immutable defaults and on_start values: tuples, frozensets")
        initial = (tuple(nodes), (), frozenset(), client_ops.initial(self),
                   (0,) * len(FAULT_KINDS), self.initial_shared())
        if self._assumptions and (label := broken(self, self._assumptions,
                                                  World(self, initial))) is not None:
            raise SpecError(f"the initial state breaks the assumption {label}: the model "
                            "has no behaviour at all")
        yield initial

    def successors(self, s: GlobalState) -> Iterator[tuple[Action, GlobalState]]:
        """Every step from ``s``, less those at stopped nodes and those that
        leave the model (``@assume``)."""
        return (step for _label, take in self.candidates(s) if (step := take()) is not None)

    def candidates(self, s: GlobalState) -> Iterator[Candidate]:
        """The steps that may be possible from ``s``, in ``successors``' order,
        each not yet taken: a simulation takes only the one it picks."""
        gone = stops.stopped(self.node_names, s[0])
        if not gone and not self._assumptions:
            return self._moves(s)
        return ((label, partial(self._within_model, gone, take)) for label, take in self._moves(s))

    def _within_model(self, gone: frozenset[str], take: Taker
                      ) -> tuple[Action, GlobalState] | None:
        step = take()
        if step is None or (gone and not stops.enabled(step[0], gone)):
            return None
        if self._assumptions and broken(self, self._assumptions,
                                        World(self, step[1], judging=True)) is not None:
            return None
        return step

    def _moves(self, s: GlobalState) -> Iterator[Candidate]:
        nodes, bag, isolated, client, used, shared = s
        links = self._links()
        classes = self.node_classes
        cut = self.cut_off
        limits = self.faults.limits()
        fault_room = self.max_total_faults is None or sum(used) < self.max_total_faults

        def may(kind: int) -> bool:
            return fault_room and used[kind] < limits[kind]

        def spend(kind: int) -> tuple[int, ...]:
            return used[:kind] + (used[kind] + 1,) + used[kind + 1 :]

        for m in links.deliverable(bag):
            if cut and (m.src in cut or m.dst in cut):
                continue
            rest = links.take(bag, m)
            if connected(isolated, m.src, m.dst):
                dst = self.node_index[m.dst]
                handler = classes[dst]._receivers[m.kind]  # checked when it was sent
                label = Action("deliver", m.dst, m)
                yield label, partial(self._run, label, s, dst, handler, (m,), rest, client)
            if may(DROP):
                label = Action("drop", m.dst, m)
                yield label, partial(_given, label, (
                    nodes, links.drop(bag, m), isolated, client, spend(DROP), shared))
            if may(DUPLICATE):
                label = Action("duplicate", m.dst, m)
                yield label, partial(_given, label, (
                    nodes, links.duplicate(bag, m), isolated, client, spend(DUPLICATE), shared))

        for i, name in enumerate(self.node_names):
            if name in cut:
                continue
            for handler in classes[i]._timeouts:
                label = Action("timeout", name, detail=handler)
                yield label, partial(self._run, label, s, i, handler, (), bag, client)

        if client_ops.may_write(self, client):
            yield from self._requests(s, "write", client[0], client_ops.issue_write(client))
        if (read := client_ops.next_read(self, client)) is not None:
            yield from self._requests(s, "read", read, client_ops.issue_read(client))

        for method in self._steps:
            template = self._steps[method][0]
            for name in self.node_names:
                # Its label before it is taken: the notes it adds come with the step.
                yield (Action("step", name, detail=template.format(name)),
                       partial(self._run_step, s, method, name))

        for i, name in enumerate(self.node_names):
            if may(CRASH) and suffers(classes[i], "crash"):
                label = Action("crash", name)
                yield label, partial(self._restart, label, s, i, nodes[i][1], spend(CRASH))
            if may(POWER_LOSS) and suffers(classes[i], "power_loss"):
                files = nodes[i][1]
                for kept in product(*(disk.survivors(f) for f in files)):
                    synced = tuple(disk.fresh(v) for v in kept)
                    label = Action("power_loss", name,
                                   detail=self._describe_loss(classes[i], files, kept))
                    yield label, partial(self._restart, label, s, i, synced,
                                         spend(POWER_LOSS))

        if may(STOP):
            for i, name in enumerate(self.node_names):
                if not suffers(classes[i], "stop"):
                    continue
                halted = nodes[:i] + (stops.halt(nodes[i]),) + nodes[i + 1 :]
                label = Action("stop", name)
                yield label, partial(_given, label, (
                    halted, bag, isolated, client, spend(STOP), shared))

        if may(PARTITION):
            cuttable = [n for n, c in zip(self.node_names, classes) if suffers(c, "partition")]
            for size in range(1, min(len(cuttable), len(self.node_names) - 1) + 1):
                for cut in combinations(cuttable, size):
                    side = frozenset(cut)
                    if side != isolated:
                        rest = ", ".join(n for n in self.node_names if n not in side)
                        label = Action("partition",
                                       detail=f"{{{', '.join(cut)}}} | {{{rest}, client}}")
                        yield label, partial(_given, label, (
                            nodes, bag, side, client, spend(PARTITION), shared))
        if isolated:
            label = Action("heal")
            yield label, partial(_given, label, (
                nodes, bag, frozenset(), client, used, shared))

    def invariants(self) -> dict[str, Callable[[GlobalState], bool]]:
        found: dict[str, Callable[[GlobalState], bool]] = {}
        if (any(c.committed is not Node.committed for c in self._classes())
                or self.behaves_as is not None):
            found["durability"] = lambda s: self.lost_write(s) is None
        if self.behaves_as is not None:
            found["linearizable"] = lambda s: s[3][2].broken is None
        found.update(self._on_world(super().invariants()))
        return found

    def recoverables(self) -> dict[str, Callable[[GlobalState], bool]]:
        return self._on_world(super().recoverables())

    def _on_world(self, checks: dict[str, Callable[[World], bool]]
                  ) -> dict[str, Callable[[GlobalState], bool]]:
        """Properties written on a World, as predicates on global states."""
        return {name: lambda s, check=check: check(World(self, s, judging=True))
                for name, check in checks.items()}

    # --- symmetry ---------------------------------------------------------------

    def symmetry_size(self) -> int:
        return len(self.node_names) if self.symmetric else 0

    def symmetry_classes(self) -> tuple[tuple[int, ...], ...]:
        """Nodes are renamed only into nodes of their own role."""
        return self._symmetry.classes if self.symmetric else ()

    def permute(self, s: GlobalState, perm: tuple[int, ...]) -> GlobalState:
        self._links()
        return self._symmetry.permute(s, perm)

    def canonical(self, s: GlobalState) -> tuple[GlobalState, int]:
        self._links()
        return self._symmetry.canonical(s)

    def reduction(self, symmetry: bool
                  ) -> Callable[[GlobalState], tuple[GlobalState, int]] | None:
        """Symmetry's canonical form, after pruning stale messages if on."""
        if not self.pruning:
            return super().reduction(symmetry)
        prune = self.pruner()
        if symmetry:
            canonical = self.canonical
            return lambda s: canonical(prune(s))
        return lambda s: (prune(s), 1)

    def sleep_rules(self, symmetry: bool) -> ActorSleepRules | None:
        """Which steps commute (modelcheck.actors.independence); None for a
        spec that overrides ``successors``: its steps are no longer only
        the actor layer's, so nothing is known of them."""
        if type(self).successors is not Protocol.successors:
            return None
        return ActorSleepRules(self, symmetry)

    def pruner(self) -> Callable[[GlobalState], GlobalState]:
        """Takes a state's stale messages out while pruning is on, else
        leaves it as it is (a new memo of verdicts per call)."""
        return StaleMessages(self).prune if self.pruning else _unchanged

    # --- durability ----------------------------------------------------------

    def lost_write(self, s: GlobalState) -> str | None:
        """Why an acknowledged write is lost in ``s``, or None if none is."""
        nodes, _bag, _isolated, client, _used, _shared = s
        acked = client[1]
        if len(client) > 2 and client[2].missed is not None:
            return client[2].missed
        if not acked or all(c.committed is Node.committed for c in self._classes()):
            return None
        by_position: dict[int, Any] = {}
        for value, position in sorted(acked, key=repr):
            if position is None:
                continue
            if position in by_position and by_position[position] != value:
                return (
                    f"write {show(by_position[position])} and write {show(value)} were both "
                    f"acknowledged at {self.position_name(position)}: one of them is lost"
                )
            by_position[position] = value
        for name, ns in zip(self.node_names, nodes):
            view = self.inspect(name, ns)
            prefix = self._call(view, "committed", ())
            if prefix is None:
                continue
            if not isinstance(prefix, (tuple, list, LogView)):
                raise SpecError(
                    f"{defined_at(type(view).committed)}: {type(view).__name__}.committed() "
                    f"of node {name} returned "
                    f"{type(prefix).__name__} {prefix!r}: return the committed prefix of the "
                    "log as a tuple of values (or None for no durability check)")
            for position, value in sorted(by_position.items()):
                if position <= len(prefix) and prefix[position - 1] != value:
                    return (
                        f"write {show(value)} was acknowledged at {self.position_name(position)}, "
                        f"but node {name} has committed {show(prefix[position - 1])} there: "
                        f"write {show(value)} is lost"
                    )
        return None

    #: While ``fields_behind`` runs: the node fields read so far.
    _reads: set[str] | None = None

    def inspect(self, name: str, ns: NodeState) -> Node:
        """A read-only node for properties: ``committed()`` and invariants."""
        return self.node_class(name)._thaw(name, self, ns, writable=False, reads=self._reads)

    def fields_behind(self, prop: str, s: GlobalState) -> list[str]:
        """The node fields ``prop`` reads in ``s``: found by evaluating it on
        nodes that note each read, so no spec has to declare them."""
        check = {**self.invariants(), **self.recoverables()}.get(prop)
        if check is None:
            return []
        self._reads = reads = set()
        try:
            check(s)
        finally:
            self._reads = None
        names = list(dict.fromkeys(
            f.name for c in self._classes()
            for f in (*c._volatile_fields, *c._ghost_fields, *c._durable_fields)))
        # Durability always compares against the client's acknowledgements.
        client = {"durability": ["acked"], "linearizable": ["reads"]}.get(prop, [])
        if prop == "durability" and self.behaves_as is not None:
            client.append("reads")  # a read that missed a write breaks it too
        return client + [name for name in names if name in reads]

    def label_fields(self) -> dict[str, tuple[str, ...]]:
        return {kind: label for c in self._classes() for kind, label in c._label_fields.items()}

    def explain(self, prop: str, s: GlobalState) -> str:
        if prop == "durability":
            return f"durability broken: {self.lost_write(s)}"
        if prop == "linearizable":
            return f"not linearizable: {s[3][2].broken}"
        return super().explain(prop, s)

    # --- running handlers -----------------------------------------------------

    def _call(self, node: Node, handler: str, args: tuple[Any, ...]) -> Any:
        method = getattr(node, handler, None)
        if method is None:
            raise SpecError(f"node {node.name} has no {handler} method")
        return self._guard(f"handler {handler} of node {node.name}", method, args)

    @staticmethod
    def _guard(what: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Call spec code; its errors become SpecErrors naming ``what`` and where."""
        try:
            return fn(*args)
        except SpecError as exc:
            raise SpecError(f"in {what}: {exc}{_spec_line(exc)}") from exc
        except Exception as exc:
            raise SpecError(
                f"{what} raised {type(exc).__name__}: {exc}{_spec_line(exc)}") from exc

    def _run(
        self, label: Action, s: GlobalState, i: int, handler: str, args: tuple[Any, ...],
        bag: Bag, client: tuple[int, frozenset],
    ) -> tuple[Action, GlobalState] | None:
        """Node ``i`` runs ``handler``, the step ``label``; None if that
        changes nothing at all."""
        nodes, _bag, isolated, _client, used, shared = s
        name = self.node_names[i]
        before = nodes[i]
        node = self.node_classes[i]._thaw(name, self, before, writable=True)
        returns_nothing(self._call(node, handler, args), f"handler {handler} of node {name}",
                        getattr(self.node_classes[i], handler))
        after = node._freeze()
        if after != before:
            self._check_fields(f"handler {handler} of node {name}", node, before, after)
        heard = client
        if name not in isolated:
            heard = client_ops.hear(self, client, node._acks, node._responses, name)
        if after == before and not node._outbox and heard is client and bag is _bag:
            return None
        new_nodes = nodes[:i] + (after,) + nodes[i + 1 :]
        network = self._resolved_links.put(bag, node._outbox)  # resolved by successors
        return label, (new_nodes, network, isolated, heard, used, shared)

    def _requests(self, s: GlobalState, kind: str, number: int, issued: tuple
                  ) -> Iterator[Candidate]:
        """The client's write or read ``number`` sent to each reachable node
        (on the client's side of a partition, not cut off) whose role serves
        the client.  A node that ignores the request (not the leader) takes
        no step: the client tries another node."""
        for i, name in enumerate(self.node_names):
            if name not in s[2] and name not in self.cut_off and self.node_classes[i].serves_client:
                label = Action(kind, name, detail=str(number))
                yield label, partial(self._run, label, s, i, f"on_client_{kind}",
                                     (number,), s[1], issued)

    def _run_step(self, s: GlobalState, method: str, name: str) -> tuple[Action, GlobalState] | None:
        """The atomic step ``method`` about node ``name``; None if it changes nothing."""
        nodes, bag, isolated, client, used, shared = s
        cluster = Cluster(self, nodes, shared)
        what = f"step {method} (about node {name})"
        returns_nothing(self._guard(what, getattr(self, method), (cluster, name)), what,
                        getattr(type(self), method))
        new_nodes = list(nodes)
        changed = False
        outbox: list[Message] = []
        heard = client
        acked_by = None
        for i, node in cluster._thawed.items():
            if stops.is_stopped(nodes[i]):
                continue  # a stopped process keeps nothing a step writes into it
            after = node._freeze()
            if after != nodes[i]:
                self._check_fields(f"step {method} (about node {name}), on node {node.name},",
                                   node, nodes[i], after)
                new_nodes[i] = after
                changed = True
            outbox += node._outbox
            if (node._acks or node._responses) and node.name not in isolated:
                heard = client_ops.hear(self, heard, node._acks, node._responses, node.name)
                acked_by = node.name
        new_shared = cluster.shared
        if new_shared == shared:
            new_shared = shared
        elif (problem := _mutable_part(new_shared, "the shared state")) is not None:
            raise SpecError(f"step {method} (about node {name}) left a mutable shared state "
                            f"({problem}): assign an immutable value (a NamedTuple of "
                            "tuples, frozensets)")
        if not changed and not outbox and heard is client and new_shared is shared:
            return None
        template, fences = self._steps[method]
        label = template.format(name)
        if cluster._notes:
            label += ": " + "; ".join(cluster._notes)
        reaches = frozenset(node.name for node in cluster._thawed.values())
        if fences:
            reaches -= {name}
        return Action("step", name, detail=label, acked_by=acked_by, reaches=reaches), (
            tuple(new_nodes), self._resolved_links.put(bag, outbox), isolated,
            heard, used, new_shared
        )

    def _restart(
        self, label: Action, s: GlobalState, i: int, files: tuple[disk.File, ...],
        used: tuple[int, ...],
    ) -> tuple[Action, GlobalState]:
        """Node ``i`` restarts with ``files`` on its disk, the fault ``label``."""
        nodes, bag, isolated, client, _used, shared = s
        cls = self.node_classes[i]
        fresh_memory = cls._restarted_memory(nodes[i][0])
        node = cls._thaw(self.node_names[i], self, (fresh_memory, files), writable=True)
        self._call(node, "on_start", ())
        if node._outbox:
            raise SpecError(f"node {node.name}: on_start may not send (it also runs before "
                            "the first step): send from on_restart")
        self._call(node, "on_restart", ())
        if node._acks:
            raise SpecError(f"node {node.name}: on_start and on_restart may not acknowledge")
        after = node._freeze()
        self._check_fields(f"on_start and on_restart of node {node.name}", node,
                           (fresh_memory, files), after)
        new_nodes = nodes[:i] + (after,) + nodes[i + 1 :]
        # A restart resets the node's links (on TCP); what on_restart sends then
        # goes into the network like any other message.
        links = self._resolved_links
        network = links.put(links.restart(bag, node.name), node._outbox)
        return label, (new_nodes, network, isolated, client, used, shared)

    def _check_fields(self, what: str, node: Node, before: NodeState | None,
                      after: NodeState, advice: str = _IN_PLACE) -> None:
        """Refuse mutable values in the fields this step changed (all, if no ``before``)."""
        if before is None:
            before = ((None,) * len(after[0]), (None,) * len(after[1]))
        changed = [
            (f.name, new) for f, old, new in zip(
                (*node._volatile_fields, *node._ghost_fields), before[0], after[0])
            if new is not old
        ]
        changed += [
            (f.name, disk.current(new))
            for f, old, new in zip(node._durable_fields, before[1], after[1])
            if new is not old
        ]
        for field, value in changed:
            if (problem := _mutable_part(value, f"field {field}")) is not None:
                raise SpecError(f"{what} left a mutable value ({problem}). {advice}")

    def _describe_loss(self, cls: type[Node], files: tuple[disk.File, ...],
                       kept: tuple[Any, ...]) -> str:
        losses = []
        for field, file, value in zip(cls._durable_fields, files, kept):
            now = disk.current(file)
            if value == now:
                continue
            if isinstance(now, tuple) and now[: len(value)] == value:
                losses.append(f"unsynced {field.name} lost from "
                              f"{self.position_name(len(value) + 1)} on")
            else:
                losses.append(f"{field.name} rolls back from {show(now)} to {show(value)}")
        return "; ".join(losses) or "every write had reached the disk, nothing lost"

    def action_details(self, action: Action) -> dict[str, Any]:
        details: dict[str, Any] = {"kind": action.kind, "fault": action.is_fault}
        if action.node is not None:
            details["node"] = action.node
        if action.message is not None:
            m = action.message
            details["message"] = {"src": m.src, "dst": m.dst, "type": m.kind,
                                  "fields": shown(m.fields())}
        if action.detail:
            details["detail"] = action.detail
        if action.acked_by is not None:
            details["acked_by"] = action.acked_by
        return details

    def step_notes(self, before: GlobalState, after: GlobalState) -> list[str]:
        sent = Counter(after[1]) - Counter(before[1])
        return [f"sends {m!r} to {m.dst}" for m in sorted(sent.elements(), key=lambda m: m.order)]

    def json_facts(self, s: GlobalState) -> dict[str, Any]:
        return {"in_flight": [
            {"src": m.src, "dst": m.dst, "type": m.kind, "fields": shown(m.fields())}
            for m in s[1]
        ]}

    # --- traces -----------------------------------------------------------------

    def describe_state(self, s: GlobalState) -> dict[str, Any]:
        nodes, bag, isolated, client, used, shared = s
        acked = client[1]
        described: dict[str, Any] = {}
        for name, cls, (volatile, files, *_stopped) in zip(self.node_names,
                                                           self.node_classes, nodes):
            shown_memory = (*cls._volatile_fields,
                            *(cls._ghost_fields if self.show_ghosts else ()))
            fields: dict[str, Any] = dict(zip((f.name for f in shown_memory), volatile))
            for f, file in zip(cls._durable_fields, files):
                text = show(disk.current(file))
                if not disk.is_synced(file):
                    older = " or ".join(show(v) for v in file[:-1])
                    text += f" (unsynced; may revert to {older})"
                fields[f.name] = text
            described[name] = fields
        if shared is not None:
            described[self.shared_name] = self.describe_shared(shared)
        acks = sorted(acked, key=lambda a: (a[1], repr(a[0])))
        described["client"] = {"acked": ", ".join(self.show_ack(v, p) for v, p in acks) or "nothing",
                               **client_ops.describe(self, client)}
        return described

    def describe_shared(self, shared: Any) -> dict[str, Any]:
        """The shared state as named fields, for traces."""
        if hasattr(shared, "_asdict"):
            return {k: show(v) for k, v in shared._asdict().items()}
        return {"value": show(shared)}
