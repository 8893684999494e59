"""Nodes as protocol authors write them.

A node class declares its fields and its handlers::

    class Replica(Node):
        role = Volatile("backup")        # lost on any crash
        log = DurableLog()               # a file on disk
        term = Durable(0)                # a one-value file on disk

        @on("Append")
        def on_append(self, msg): ...

        @timeout
        def become_primary(self): ...

        def on_client_write(self, value): ...

Handlers read and assign fields as ordinary attributes, ``send`` messages,
``fsync`` files and ``ack`` client writes.  The framework runs each handler
on a working copy built from the immutable state and freezes the result; an
author never sees the global state, the network or the faults.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from modelcheck.actors import disk
from modelcheck.actors.authoring import check_parameters, decorator_argument, defined_at
from modelcheck.actors.network import Message
from modelcheck.errors import SpecError
from modelcheck.validate import find_mutable

if TYPE_CHECKING:
    from modelcheck.actors.protocol import Protocol

#: A node's immutable state: (memory: volatile values then ghost values, disk files).
NodeState = tuple[tuple[Any, ...], tuple[disk.File, ...]]


class Field:
    """A declared node field; ``index`` is its slot in the node state."""

    index = -1

    def __init__(self, default: Any = None) -> None:
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name


class _InMemory(Field):
    """A field held in the node's memory tuple: volatile values, then ghosts."""

    def __get__(self, node: Node | None, owner: type) -> Any:
        if node is None:
            return self
        return node._volatile[self.index]

    def __set__(self, node: Node, value: Any) -> None:
        node._check_writable()
        node._volatile[self.index] = value


class Volatile(_InMemory):
    """A field kept in memory: back to its default after any crash."""


class Ghost(_InMemory):
    """Bookkeeping for properties, outside the modelled system.

    A ghost field survives every fault (crash, power loss, stop) and is
    never written to disk, so it costs no fsync and no power-loss branch.
    It is part of the state (properties and ``committed()`` read it, and
    two states that differ only in a ghost are two states), but traces,
    JSON and charts leave it out unless asked (``--ghosts``): it is the
    observer's memory, not the node's.  Handlers may write it.
    """


class Durable(Field):
    """A one-value file on disk.  Assignment writes it; ``fsync`` makes it stick."""

    def __get__(self, node: Node | None, owner: type) -> Any:
        if node is None:
            return self
        return disk.current(node._files[self.index])

    def __set__(self, node: Node, value: Any) -> None:
        node._check_writable()
        node._files[self.index] = disk.write(node._files[self.index], value)


class DurableLog(Durable):
    """An append-only file of entries (with truncation), read as a sequence."""

    def __init__(self) -> None:
        super().__init__(())

    def __get__(self, node: Node | None, owner: type) -> Any:
        if node is None:
            return self
        return LogView(node, self)

    def __set__(self, node: Node, value: Any) -> None:
        raise AttributeError(
            f"{self.name} is a log: use {self.name}.append, .extend or .truncate"
        )


class LogView:
    """What ``node.log`` returns: a read-only sequence that writes through."""

    __slots__ = ("_node", "_field")

    def __init__(self, node: Node, field: DurableLog) -> None:
        self._node = node
        self._field = field

    @property
    def entries(self) -> tuple[Any, ...]:
        return disk.current(self._node._files[self._field.index])

    def _write(self, entries: tuple[Any, ...]) -> None:
        node, i = self._node, self._field.index
        node._check_writable()
        node._files[i] = disk.write(node._files[i], entries)

    def append(self, entry: Any) -> None:
        self._write(self.entries + (entry,))

    def extend(self, entries: Any) -> None:
        for entry in entries:
            self.append(entry)

    def truncate(self, length: int) -> None:
        """Keep the first ``length`` entries."""
        if length < len(self.entries):
            self._write(self.entries[:length])

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: Any) -> Any:
        return self.entries[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.entries)

    def __eq__(self, other: object) -> bool:
        return self.entries == (other.entries if isinstance(other, LogView) else other)

    def __add__(self, other: Any) -> tuple[Any, ...]:
        return self.entries + tuple(other)

    def __repr__(self) -> str:
        return repr(list(self.entries))


def on(kind: str, label: tuple[str, ...] | None = None
       ) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a method ``(self, msg)`` as the handler of messages of ``kind``.

    ``label`` names the message fields a chart's arrow shows, where the
    rule of ``modelcheck.labels`` picks the wrong ones for this kind.
    """
    decorator_argument(kind, "on", '"Kind"')
    if label is not None and (isinstance(label, str)
                              or not all(isinstance(f, str) for f in label)):
        raise SpecError(f"@on({kind!r}, label=...): give a tuple of field names, "
                        f"not {label!r}")

    def mark(fn: Callable[..., None]) -> Callable[..., None]:
        fn.__modelcheck_receives__ = kind  # type: ignore[attr-defined]
        if label is not None:
            fn.__modelcheck_label__ = tuple(label)  # type: ignore[attr-defined]
        return fn

    return mark


def timeout(fn: Callable[..., None] | None = None) -> Callable[..., None]:
    """Mark a method ``(self)`` as a local event that may fire at any moment.

    A timeout that changes nothing and sends nothing is not a step.
    """
    if fn is None:
        raise SpecError("@timeout() takes no argument: write @timeout, without parentheses")
    fn.__modelcheck_timeout__ = True  # type: ignore[attr-defined]
    return fn


#: Methods the framework calls by name: what each is, and its arguments.
_HOOKS = {
    "on_client_write": ("the handler of client writes", ("value",)),
    "on_client_read": ("the handler of client reads", ("op",)),
    "on_start": ("the start hook", ()),
    "on_restart": ("the restart hook", ()),
    "committed": ("the committed prefix for durability", ()),
    "ignores": ("the rule for stale messages", ("msg",)),
}


class Node:
    """Base class of a protocol's nodes.  See the module docstring."""

    # Filled in per subclass by __init_subclass__.
    _volatile_fields: tuple[Volatile, ...] = ()
    _ghost_fields: tuple[Ghost, ...] = ()
    _durable_fields: tuple[Durable, ...] = ()
    _receivers: dict[str, str] = {}
    _label_fields: dict[str, tuple[str, ...]] = {}
    _timeouts: tuple[str, ...] = ()

    # What a role's class may say (see modelcheck.actors.roles).
    #: The names of this role's nodes; none: the next free letters.
    names: tuple[str, ...] = ()
    #: The node faults that strike nodes of this class (None: every kind).
    faults: tuple[str, ...] | None = None
    #: Whether the client writes to nodes of this class.
    serves_client = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        volatile: dict[str, Volatile] = {}
        ghosts: dict[str, Ghost] = {}
        durable: dict[str, Durable] = {}
        receivers: dict[str, str] = {}
        label_fields: dict[str, tuple[str, ...]] = {}
        timeouts: dict[str, None] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Durable):
                    durable[name] = value
                elif isinstance(value, Ghost):
                    ghosts[name] = value
                elif isinstance(value, Volatile):
                    volatile[name] = value
                elif (kind := getattr(value, "__modelcheck_receives__", None)) is not None:
                    other = receivers.get(kind)
                    if other is not None and other != name and other in vars(klass):
                        raise SpecError(
                            f"{defined_at(value)}: {klass.__name__}.{other} and .{name} both "
                            f"handle {kind} messages: keep one @on({kind!r})")
                    receivers[kind] = name
                    check_parameters(klass, name, value, f"the @on({kind!r}) handler", ("msg",))
                    if (label := getattr(value, "__modelcheck_label__", None)) is not None:
                        label_fields[kind] = label
                elif getattr(value, "__modelcheck_timeout__", False):
                    timeouts[name] = None
                    check_parameters(klass, name, value, "a @timeout", ())
                elif name in _HOOKS and callable(value):
                    check_parameters(klass, name, value, _HOOKS[name][0], _HOOKS[name][1])
        # Ghosts follow the volatile values in the memory tuple, so code that
        # zips the volatile fields with it never meets them.
        for i, field in enumerate((*volatile.values(), *ghosts.values())):
            field.index = i
        for i, field in enumerate(durable.values()):
            field.index = i
        cls._volatile_fields = tuple(volatile.values())
        cls._ghost_fields = tuple(ghosts.values())
        cls._durable_fields = tuple(durable.values())
        cls._receivers = receivers
        cls._label_fields = label_fields
        cls._timeouts = tuple(timeouts)

    # --- what handlers use -------------------------------------------------

    name: str
    protocol: Protocol

    @property
    def peers(self) -> list[str]:
        """Every other node's name (not this node's); with roles, every other
        node of this node's role."""
        return [n for n in self.protocol.kin(self.name) if n != self.name]

    @property
    def majority(self) -> int:
        """How many nodes, this one included, make a majority of all nodes
        (with roles: of this node's role)."""
        return len(self.protocol.kin(self.name)) // 2 + 1

    def send(self, to: str, kind: str, **body: Any) -> None:
        self._check_writable()
        if to not in self.protocol.node_names:
            raise SpecError(
                f"node {self.name} sent {kind} to unknown node {to!r} "
                f"(nodes: {', '.join(self.protocol.node_names)})"
            )
        receivers = self.protocol.node_class(to)._receivers
        if kind not in receivers:
            close = difflib.get_close_matches(kind, receivers, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            nobody = ("no node handles" if receivers is self._receivers
                      else f"{to} ({self.protocol.node_class(to).__name__}) handles no")
            raise SpecError(
                f"node {self.name} sent {kind} to {to}, but {nobody} {kind} "
                f"messages (no @on({kind!r})){hint}"
            )
        for field, value in body.items():
            if (problem := find_mutable(value, f"field {field}")) is not None:
                raise SpecError(f"node {self.name} sent {kind} whose {problem}: use a tuple")
        self._outbox.append(Message(self.name, to, kind, tuple(sorted(body.items()))))

    def broadcast(self, kind: str, **body: Any) -> None:
        """Send to every peer."""
        for peer in self.peers:
            self.send(peer, kind, **body)

    def fsync(self, *fields: str) -> None:
        """Make the named durable fields (all, if none named) survive power loss."""
        self._check_writable()
        by_name = {f.name: f for f in self._durable_fields}
        for name in fields or by_name:
            if name not in by_name:
                raise SpecError(f"node {self.name}: fsync of {name!r}, which is not a durable field")
            i = by_name[name].index
            self._files[i] = disk.fsync(self._files[i])

    def ack(self, value: Any, position: int | None = None) -> None:
        """Tell the client its write ``value`` is durable at ``position``
        (1-based; none for an object without positions, such as a register)."""
        self._check_writable()
        self._acks.append((value, position))

    def survivors(self, field: str) -> tuple[Any, ...]:
        """Every value of the durable ``field`` that a power loss now could
        leave on disk, oldest first; the last is the current value.  A value
        written since the last fsync may be lost, so ``min`` of a field that
        only grows is the least it can ever be again."""
        by_name = {f.name: f for f in self._durable_fields}
        if field not in by_name:
            raise SpecError(f"node {self.name}: survivors of {field!r}, which is not a "
                            "durable field")
        return disk.survivors(self._files[by_name[field].index])

    def respond(self, op: int, value: Any) -> None:
        """Answer the client's read ``op`` (the number ``on_client_read``
        got) with ``value``: the register's value, or the log's entries."""
        self._check_writable()
        self._responses.append((op, value))

    # --- hooks a node class may define ------------------------------------

    def on_start(self) -> None:
        """Runs when the process starts: at the beginning and after each restart."""

    def on_restart(self) -> None:
        """Runs after ``on_start`` when the process restarts after a crash or power loss."""

    def committed(self) -> tuple[Any, ...] | None:
        """The prefix this node considers committed (for the durability check).

        None: the node exposes no committed prefix.
        """
        return None

    def ignores(self, msg: Message) -> bool:
        """Whether this node ignores ``msg`` now and after anything that can
        still happen to it: its handler would change nothing and send
        nothing, whatever steps and faults come first.

        A class that defines it lets the search remove such messages from
        the network (``check --prune``, modelcheck.actors.stale): a stale
        message in flight only multiplies the states.  The search confirms
        each message it removes is ignored at that moment; ``check
        --verify-pruning`` also confirms, over a whole small state space,
        that it stays ignored.
        """
        return False

    # --- working copies (framework side) ----------------------------------

    _volatile: list[Any]
    _files: list[disk.File]
    _outbox: list[Message]
    _acks: list[tuple[Any, int | None]]
    _responses: list[tuple[int, Any]]
    _writable: bool

    @classmethod
    def _thaw(cls, name: str, protocol: Protocol, state: NodeState, writable: bool,
              reads: set[str] | None = None) -> Node:
        """A working copy of ``state``; with ``reads``, one that adds to it the
        name of every field read (to find the fields a property looks at)."""
        node = cls.__new__(cls)
        node.name = name
        node.protocol = protocol
        if reads is None:
            node._volatile = list(state[0])
            node._files = list(state[1])
        else:
            node._volatile = _ReadNoting(state[0], cls._volatile_fields + cls._ghost_fields,
                                         reads)
            node._files = _ReadNoting(state[1], cls._durable_fields, reads)
        node._outbox = []
        node._acks = []
        node._responses = []
        node._writable = writable
        return node

    def _freeze(self) -> NodeState:
        return tuple(self._volatile), tuple(self._files)

    def _check_writable(self) -> None:
        if not self._writable:
            raise SpecError(
                f"node {self.name} was changed while being inspected "
                "(committed() and invariants must only read)"
            )

    @classmethod
    def _initial(cls) -> NodeState:
        return (
            tuple(f.default for f in (*cls._volatile_fields, *cls._ghost_fields)),
            tuple(disk.fresh(f.default) for f in cls._durable_fields),
        )

    @classmethod
    def _restarted_memory(cls, memory: tuple[Any, ...]) -> tuple[Any, ...]:
        """The memory tuple after a restart: volatile fields back to their
        defaults, ghosts as they were."""
        kept = len(cls._volatile_fields)
        return tuple(f.default for f in cls._volatile_fields) + memory[kept:]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class _ReadNoting(list):
    """A node's field values that note the name of each field read."""

    def __init__(self, values: tuple[Any, ...], fields: tuple[Field, ...],
                 reads: set[str]) -> None:
        super().__init__(values)
        self._names = [f.name for f in fields]
        self._reads = reads

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int):
            self._reads.add(self._names[index])
        return super().__getitem__(index)
