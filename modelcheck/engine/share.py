"""One worker's share of a partitioned breadth-first search.

The states are split between workers by a hash all of them agree on
(``owner``, ``forked_owner``): a worker owns the states whose hash falls in
its share, keeps them in its visited set, and expands them when their level
comes.  Successors it finds are sent to their owners in one pickled batch
per owner and level; those it owns itself it stores at once.  Forked
workers keeping states may also expand the tail of another worker's part
of a level, when they run out of their own (``stealing``).

Everything a worker reports is keyed so that the coordinator can reproduce
the one-process search exactly.  States get ids in the order the
one-process search would store them; a candidate successor carries the key
``(parent id, action index)``, and the one-process search first meets a
state through its least such key.  So a state's parent is the one of its
least key, a level's states are ordered by that key, and every event of a
level (a broken invariant, a state past a limit, a deadlock, a spec error)
happens at a key: the least one is the one the one-process search meets
first.  None of this depends on how many workers there are, nor on who
expanded a state.

A worker stores a state as soon as it knows it new, found there or
received, under a ticket: the number of states it stored before.  A ticket
of the level being built is the state's place in it, where a smaller key
found later (received, or found in a stolen chunk) replaces the one it
has.  So a successor costs one lookup in the visited set wherever it comes
from, and the level is ranked by key once it is complete.

Keeping fingerprints (``--store fingerprint``, which the pool allows
without ``@recoverable`` properties only), a worker keeps no state as a
Python object beyond a chunk: successors are remembered by fingerprint,
pickled a chunk at a time into their owner's batch with their fingerprint
(so the owner need not compute it again), and merged by key straight into
the next level, a ``Frontier`` spilled to disk.  This works because a batch is in key order
(its sender expands in id order, each state's actions in order, and keeps
only a successor's first key), so the owner's merge of its batches meets
every state first at its least key.
"""

from __future__ import annotations

import heapq
import io
import pickle
import shutil
import tempfile
import time
import weakref
from array import array
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from modelcheck import interrupt
from modelcheck.errors import SpecError
from modelcheck.engine import stealing
from modelcheck.engine.bfs import _selected
from modelcheck.engine.fingerprint import fingerprint
from modelcheck.engine.frontier import CHUNK, Frontier
from modelcheck.engine.memory import rss
from modelcheck.engine.store import FingerprintSet
from modelcheck.model import Model
from modelcheck.symmetry import SPOT_CHECKS_PER_LEVEL, spot_check
from modelcheck.validate import find_mutable

#: Bits of a key that hold the action index; the parent id is above them.
ACTION_BITS = 24
_ACTION_MASK = (1 << ACTION_BITS) - 1
#: States of a level (per worker) checked for mutability and symmetry.
_SAMPLE = 256


def key_of(parent: int, action: int) -> int:
    return parent << ACTION_BITS | action


def split_key(key: int) -> tuple[int, int]:
    return key >> ACTION_BITS, key & _ACTION_MASK


#: A batch of successors for one owner: the states, and per state its entry
#: (key, orbit size), [key, orbit size, parent ids] with @recoverable properties,
#: or (key, orbit size, fingerprint) keeping fingerprints.
Batch = tuple[list[Hashable], list[Any]]


@dataclass
class Event:
    """Something that ends the search, at the key where it happens.

    ``kind`` is ``violation`` (``detail`` names the property), ``error``
    (a spec raised while expanding or judging: the coordinator repeats it to
    explain it), ``deadlock``, ``mutable`` or ``asymmetric`` (a sampled
    state failed a check the coordinator repeats on it).
    """

    key: int
    kind: str
    detail: str = ""


@dataclass
class Expanded:
    """What expanding a worker's part of a level produced."""

    batches: list[bytes]
    events: list[Event]
    #: Which limit (time-limit, memory) cut the expansion short, if one did.
    stopped: str | None
    transitions: int
    #: The worker's resident set size in bytes when it finished.
    memory: int


@dataclass
class Received:
    """A worker's new states of a level, as sorted keys, and their events."""

    keys: np.ndarray
    represented: int
    events: list[Event]


Owner = Callable[[Hashable, int], int]


def owner(state: Hashable, workers: int) -> int:
    """Which of ``workers`` owns ``state``: the same answer in every process
    and on every machine (Ray's workers start apart, with salts of their own)."""
    return fingerprint(state) % workers


def forked_owner(state: Hashable, workers: int) -> int:
    """``owner`` for workers forked from one process: by Python's ``hash``, a
    fifth of the cost of a fingerprint.  Forked processes share its salt,
    and states hash by content (so do messages, see ``actors.network``)."""
    return hash(state) % workers


class Share:
    """The states one worker owns, and its part of each BFS level."""

    def __init__(self, model: Model, index: int, workers: int, symmetry: bool,
                 only: Sequence[str], deadlock: bool, store: str = "exact",
                 owner: Owner = owner, board: stealing.Board | None = None) -> None:
        self.model = model
        self.owner = owner
        self.index = index
        self.workers = workers
        self.symmetry = symmetry
        self.canonical = model.reduction(symmetry)
        self.invariants, self.recoverables = _selected(model, only)
        self.deadlock = deadlock
        #: Every state this worker owns -> its ticket: the number of states
        #: stored here before it, so that a ticket at or past ``level_base``
        #: is a place in the level being built (``new_entries``).  With
        #: ``store`` fingerprint, only their fingerprints (``seen``).
        self.visited: dict[Hashable, int] = {}
        self.seen = FingerprintSet() if store == "fingerprint" else None
        self.level_base = 0
        #: A stored state's id, by its ticket.
        self.ids_by_ticket = array("q")
        #: For trace rebuilding: ids of owned states (ascending), their parent ids and actions.
        self.ids = array("q")
        self.parent_ids = array("q")
        self.actions = array("q")
        #: Whether the levels stream through pickled chunks (see the module's doc).
        self.streaming = store == "fingerprint"
        assert not (self.streaming and self.recoverables), "refused by the pool"
        self._dir: Path | None = None
        if self.streaming:
            self._dir = Path(tempfile.mkdtemp(prefix="modelcheck-worker-"))
            weakref.finalize(self, shutil.rmtree, self._dir, True)
        #: This worker's part of the current level, in id order.
        self.frontier: list[Hashable] | Frontier = self._level("level")
        self.frontier_ids: list[int] = []
        #: Where the other workers read chunks of the frontier to steal, if
        #: they may (not while streaming: batches must stay in key order);
        #: the frontier's first ``head`` states are not dealt out.
        self.board = None if self.streaming else board
        self.head = 0
        #: The states this worker expanded in the level (stolen ones too) and
        #: the successors each had (for transition counts).
        self.expanded_ids: list[int] = []
        self.fanout: list[int] = []
        #: New states of the level being built as they were found, and their
        #: entries (least key first); once received, in key order with their
        #: keys and orbit sizes, and the places they were found at.
        self.new_states: list[Hashable] = []
        self.new_entries: list[Any] = []
        self.ordered_new: list[Hashable] | Frontier = self._level("next")
        self.found_at = np.zeros(0, dtype=np.int64)
        #: Streaming, their fingerprints.
        self._new_fingerprints = array("Q")
        self.new_keys = np.zeros(0, dtype=np.int64)
        self.new_sizes = np.zeros(0, dtype=np.int64)
        #: With @recoverable properties: the ids of the states stepping into each state.
        self.into: dict[Hashable, list[int]] | None = {} if self.recoverables else None
        #: This worker's own part of what it found in the level, to merge
        #: with the others': (states, entries) with @recoverable properties,
        #: or streaming, its pickled chunks.  Otherwise it is merged as it is
        #: found, into ``new_states``.
        self.own_batch: Batch | bytes = ([], [])
        #: What the last level found (here or sent to other owners): stored by
        #: now.  States, or their fingerprints with ``store`` fingerprint.
        self.sent: dict[Hashable, Any] | FingerprintSet = {}
        self.good: set[int] = set()
        self._by_id: dict[int, Hashable] = {}

    def _level(self, name: str) -> list[Hashable] | Frontier:
        return Frontier(self._dir, name) if self._dir is not None else []

    # --- building levels ----------------------------------------------------

    def seed(self, states: list[tuple[int, Hashable, int]]) -> None:
        """Take the initial states this worker owns: (id, state, orbit size)."""
        for ident, state, _size in states:
            if self.seen is not None:
                self.seen.add(fingerprint(state))
            else:
                self.visited[state] = len(self.ids_by_ticket)
                self.ids_by_ticket.append(ident)
            self._record(ident, -1, 0)
            self.frontier.append(state)
            self.frontier_ids.append(ident)
        # Initial states are not dealt out: each worker expands its own.
        self.head = len(self.frontier_ids)

    def expand(self, deadline: float | None, memory: float) -> Expanded:
        """Expand this worker's part of the level, and chunks of others' parts
        if it runs out (``stealing``); batch successors per owner.

        A spec error ends the expansion: the states after it cannot come
        before it, so nothing they would find could matter (the worker's
        unclaimed chunks come after it too; other workers may still take
        them).  So do the
        ``deadline`` (a ``time.time()``) and ``memory`` (bytes this worker
        may use).
        """
        # Successor -> (key, orbit size), or [key, orbit size, parent ids]
        # with @recoverable properties, so that its repeats cost one lookup.
        # The first key found is the least: this worker's part of the frontier
        # is expanded in id order, each state's actions in order (a chunk
        # stolen from another worker has a dictionary of its own).
        own_found: dict[Hashable, Any] = {}
        # Keeping fingerprints, the level's successors are remembered by
        # fingerprint alone: the first one met carries the least key.
        level = FingerprintSet() if self.streaming else None
        # Per owner: the successors sent to it, and their entries (streaming,
        # pickled a chunk at a time).
        groups: list[tuple[list[Hashable], list[Any]]] = [([], []) for _ in range(self.workers)]
        outboxes = [_Outbox(self.model) for _ in range(self.workers)] if self.streaming else []
        edges = self.into is not None
        # States new here take the next tickets, in the order they are found.
        self.level_base = first_ticket = ticket = len(self.visited)
        self.new_states, self.new_entries = [], []
        places = self.new_entries
        if not edges:  # merged already: see ``receive``
            groups[self.index] = (self.new_states, self.new_entries)
        events: list[Event] = []
        self.expanded_ids, self.fanout = [], []
        transitions = 0
        stopped = None
        successors = self.model.successors
        canonical = self.canonical
        workers, index = self.workers, self.index
        # One worker owns everything: no hash needed, unless the visited set
        # keeps fingerprints.
        shared = workers > 1
        visited, sent, seen = self.visited, self.sent, self.seen
        owner_of = self.owner
        for position, (state, ident, found) in enumerate(self._work(own_found)):
            if not position % 256:
                if deadline is not None and time.time() >= deadline:
                    stopped = "time-limit"
                    break
                if rss() > memory:
                    stopped = "memory"
                    break
                if interrupt.requested():
                    stopped = interrupt.LIMIT
                    break
            base = ident << ACTION_BITS
            action = -1
            try:
                for action, (_label, nxt) in enumerate(successors(state)):
                    if nxt is state:
                        continue
                    size = 1
                    if canonical is not None:
                        nxt, size = canonical(nxt)
                    if edges:  # every edge must reach the owner of its target
                        entry = found.get(nxt)
                        if entry is not None:
                            entry[2].append(ident)
                            continue
                        entry = found[nxt] = [base | action, size, [ident]]
                    elif level is not None:  # one fingerprint: stored? sent? owned where?
                        fp = fingerprint(nxt)
                        if fp in seen or fp in sent or not level.add(fp):
                            continue
                        outboxes[fp % workers].add(nxt, (base | action, size, fp))
                        continue
                    else:
                        entry = (base | action, size)
                        if found.setdefault(nxt, entry) is not entry:
                            continue
                    target = owner_of(nxt, workers) if shared else 0
                    if not edges:
                        if target != index:
                            if nxt in sent:  # stored by its owner last level
                                continue
                        else:
                            known = visited.setdefault(nxt, ticket)
                            if known != ticket:  # stored before, or found before in this level
                                place = known - first_ticket
                                if place >= 0 and entry[0] < places[place][0]:
                                    places[place] = entry
                                continue
                            ticket += 1
                    group = groups[target]
                    group[0].append(nxt)
                    group[1].append(entry)
            except Exception:  # noqa: BLE001 - the coordinator repeats it to explain it
                events.append(Event(key_of(ident, action + 1), "error"))
                break
            count = action + 1
            if count > _ACTION_MASK:
                raise SpecError(f"a state has more than {_ACTION_MASK:,} successors")
            self.expanded_ids.append(ident)
            self.fanout.append(count)
            transitions += count
            if count == 0 and self.deadlock:
                events.append(Event(key_of(ident, 0), "deadlock"))
                break
        self.sent = level if level is not None else own_found if not edges else {}
        if self.streaming:
            batches = [outbox.batch() for outbox in outboxes]
            self.own_batch, batches[self.index] = batches[self.index], b""
            return Expanded(batches, events, stopped, transitions, rss())
        batches = []
        for target, batch in enumerate(groups):
            if target == self.index:  # kept here, never pickled
                self.own_batch = batch if edges else ([], [])
                batches.append(b"")
                continue
            batches.append(_pickled(self.model, batch))
        return Expanded(batches, events, stopped, transitions, rss())

    def _work(self, found: dict[Hashable, Any]) -> Iterator[tuple[Hashable, int, dict]]:
        """(state, id, the dictionary its successors are told apart in), in the
        order to expand them: this worker's head and own chunks, in id order,
        then chunks stolen from other workers (see ``stealing``), whose ids
        may come before this worker's."""
        frontier, ids, board = self.frontier, self.frontier_ids, self.board
        if board is None:
            yield from zip(frontier, ids, repeat(found))
            return
        assert isinstance(frontier, list)
        head, size = self.head, stealing.CHUNK
        yield from zip(islice(frontier, head), ids, repeat(found))
        while (chunk := board.claim_own(self.index)) is not None:
            start = head + chunk * size
            yield from zip(frontier[start:start + size], ids[start:start + size], repeat(found))
        while (stolen := board.steal()) is not None:
            states, chunk_ids = board.chunk(*stolen)
            yield from zip(states, chunk_ids, repeat({}))

    def receive(self, batches: Sequence[bytes]) -> Received:
        """Merge the level's batches addressed to this worker (its own one is
        taken from ``expand``, whatever stands at its index); judge the new states."""
        if self.streaming:
            return self._receive_streaming(batches)
        if self.into is not None:  # with edges, the own batch is merged like the others
            self._merge(*self.own_batch)  # type: ignore[misc]
            self.own_batch = ([], [])
        for source, batch in enumerate(batches):
            if source != self.index:
                self._merge(*pickle.loads(batch))
        states, entries = self.new_states, self.new_entries
        self.new_states, self.new_entries = [], []
        count = len(entries)
        keys = np.fromiter((entry[0] for entry in entries), dtype=np.int64, count=count)
        sizes = np.fromiter((entry[1] for entry in entries), dtype=np.int64, count=count)
        # Keys are distinct (one per parent and action): any sort is the order.
        self.found_at = np.argsort(keys)
        ordered = [states[place] for place in self.found_at.tolist()]
        self.ordered_new = ordered
        self.new_keys, self.new_sizes = keys[self.found_at], sizes[self.found_at]
        return Received(self.new_keys, int(self.new_sizes.sum()), self._judge(ordered))

    def _receive_streaming(self, batches: Sequence[bytes]) -> Received:
        """``receive`` keeping fingerprints: the batches, each in key order, are
        merged by key into the next level, so a state is met first at its
        least key and its repeats are known by fingerprint."""
        own, self.own_batch = self.own_batch, ([], [])
        sources = [own if source == self.index else batch
                   for source, batch in enumerate(batches)]
        seen, level = self.seen, FingerprintSet()
        assert seen is not None and isinstance(self.ordered_new, Frontier)
        keys, sizes, fingerprints = array("q"), array("q"), array("Q")
        merged = heapq.merge(*map(_unpacked, sources), key=itemgetter(0))
        for key, size, fp, state in merged:
            if fp in seen or not level.add(fp):
                continue
            self.ordered_new.append(state)
            keys.append(key)
            sizes.append(size)
            fingerprints.append(fp)
        self.new_keys = np.frombuffer(keys, dtype=np.int64) if keys else np.zeros(0, np.int64)
        self.new_sizes = np.frombuffer(sizes, dtype=np.int64) if sizes else np.zeros(0, np.int64)
        self._new_fingerprints = fingerprints
        return Received(self.new_keys, int(self.new_sizes.sum()), self._judge(self.ordered_new))

    def _merge(self, states: list[Hashable], entries: list[Any]) -> None:
        """Add the states of one batch that are not stored here to the level,
        each with its least key."""
        visited, into, base = self.visited, self.into, self.level_base
        found, places = self.new_states, self.new_entries
        ticket = base + len(places)
        for state, entry in zip(states, entries):
            if into is not None:
                into.setdefault(state, []).extend(entry[2])
            known = visited.setdefault(state, ticket)  # one hashing, whatever it finds
            if known == ticket:
                found.append(state)
                places.append(entry)
                ticket += 1
            elif known >= base and entry[0] < places[known - base][0]:
                places[known - base] = entry

    def _judge(self, ordered: Iterable[Hashable]) -> list[Event]:
        """The first new state (in key order) that breaks or raises in an invariant,
        and the first sampled one that fails a state check."""
        events = []
        keys = self.new_keys
        for position, state in enumerate(ordered):
            try:
                broken = next((name for name, holds in self.invariants if not holds(state)), None)
            except Exception:  # noqa: BLE001 - repeated by the coordinator
                events.append(Event(int(keys[position]), "error"))
                break
            if broken is not None:
                events.append(Event(int(keys[position]), "violation", broken))
                break
        # The one-process search samples each level once; here the workers
        # share that sample, so more workers check no more states.
        for position, state in enumerate(islice(ordered, -(-_SAMPLE // self.workers))):
            if find_mutable(state) is not None:
                events.append(Event(int(keys[position]), "mutable"))
                break
        if self.symmetry:
            judged = self.invariants + self.recoverables
            for position, state in enumerate(
                    islice(ordered, -(-SPOT_CHECKS_PER_LEVEL // self.workers))):
                try:
                    spot_check(self.model, [state], judged, lambda s: "")
                except SpecError:
                    events.append(Event(int(keys[position]), "asymmetric"))
                    break
        return events

    def below(self, key: int) -> tuple[int, int, int]:
        """Of the level, before ``key``: new states, their orbit sizes, and transitions
        of the frontier states this worker expanded."""
        count = int(np.searchsorted(self.new_keys, key))
        represented = int(self.new_sizes[:count].sum())
        parent = split_key(key)[0]
        fanouts = zip(self.expanded_ids, self.fanout)
        return count, represented, sum(fanout for ident, fanout in fanouts if ident < parent)

    def assign(self, first_id: int, ranks: np.ndarray) -> None:
        """Give the level's new states their ids; they become the next frontier."""
        ids = (ranks + first_id).astype(np.int64)
        keys = self.new_keys
        self.frontier_ids = ids.tolist()
        if self.streaming:
            assert self.seen is not None and isinstance(self.frontier, Frontier)
            for fp in self._new_fingerprints:
                self.seen.add(fp)
            self._new_fingerprints = array("Q")
            self.frontier.discard()
        else:  # stored since they were found: their tickets are their places
            by_place = np.empty_like(ids)
            by_place[self.found_at] = ids
            self.ids_by_ticket.frombytes(by_place.tobytes())
        self.ids.frombytes(ids.tobytes())
        self.parent_ids.frombytes((keys >> ACTION_BITS).tobytes())
        self.actions.frombytes((keys & _ACTION_MASK).tobytes())
        self.frontier, self.ordered_new = self.ordered_new, self.frontier
        self.new_keys = self.new_sizes = np.zeros(0, dtype=np.int64)
        self._deal()

    def _deal(self) -> None:
        """Keep the head of the new frontier; deal out the tail, whole chunks
        of it, for any worker to expand."""
        count = len(self.frontier_ids)
        if self.board is None:
            self.head = count
            return
        size = stealing.CHUNK
        head = count - int(count * stealing.TAIL) // size * size
        frontier, ids = self.frontier, self.frontier_ids
        dealt = self.board.deal(self.index, [
            _pickled(self.model, (frontier[start:start + size], ids[start:start + size]))
            for start in range(head, count, size)])
        self.head = head if dealt else count

    def _record(self, ident: int, parent: int, action: int) -> None:
        self.ids.append(ident)
        self.parent_ids.append(parent)
        self.actions.append(action)

    # --- traces ---------------------------------------------------------------

    def step_into(self, ident: int) -> tuple[int, int] | None:
        """(parent id, action index) of an owned state, None if not owned."""
        at = bisect_left(self.ids, ident)
        if at < len(self.ids) and self.ids[at] == ident:
            return self.parent_ids[at], self.actions[at]
        return None

    # --- recoverability -------------------------------------------------------

    def start_recovery(self, prop: str) -> list[int]:
        """Mark owned states where ``prop`` holds; their predecessors' ids."""
        holds = dict(self.recoverables)[prop]
        self.good = set()
        fresh = []
        for state, ticket in self.visited.items():
            ident = self.ids_by_ticket[ticket]
            try:
                ok = holds(state)
            except Exception as exc:
                raise SpecError(
                    f"recoverable property {prop} raised {type(exc).__name__}: {exc}") from exc
            if ok:
                self.good.add(ident)
                fresh.append(state)
        self._by_id = {self.ids_by_ticket[ticket]: state
                       for state, ticket in self.visited.items()}
        return self._predecessors(fresh)

    def spread_recovery(self, ids: list[int]) -> list[int]:
        """Mark the owned states among ``ids`` good; their predecessors' ids."""
        fresh = []
        for ident in ids:
            state = self._by_id.get(ident)
            if state is not None and ident not in self.good:
                self.good.add(ident)
                fresh.append(state)
        return self._predecessors(fresh)

    def _predecessors(self, states: list[Hashable]) -> list[int]:
        assert self.into is not None
        found = set()
        for state in states:
            found.update(self.into.get(state, ()))
        return list(found)

    def first_stuck(self) -> int | None:
        """The least id of an owned state that is not good."""
        stuck = [ident for ident in self._by_id if ident not in self.good]
        return min(stuck) if stuck else None


class _Outbox:
    """The successors found for one owner, pickled a chunk at a time; the
    batch is the chunks' pickles one after another."""

    def __init__(self, model: Model) -> None:
        self._model = model
        self._batch: Batch = ([], [])
        self._parts: list[bytes] = []

    def add(self, state: Hashable, entry: Any) -> None:
        states, entries = self._batch
        states.append(state)
        entries.append(entry)
        if len(states) >= CHUNK:
            self._seal()

    def _seal(self) -> None:
        if self._batch[0]:
            self._parts.append(_pickled(self._model, self._batch))
            self._batch = ([], [])

    def batch(self) -> bytes:
        self._seal()
        return b"".join(self._parts)


def _unpacked(batch: bytes) -> Iterator[tuple[int, int, int, Hashable]]:
    """(key, orbit size, fingerprint, state) of an outbox's batch, in its order."""
    stream = io.BytesIO(batch)
    while stream.tell() < len(batch):
        states, entries = pickle.load(stream)
        for state, (key, size, fp) in zip(states, entries):
            yield key, size, fp, state


def _pickled(model: Model, batch: Batch) -> bytes:
    try:
        return pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - any pickling failure is the spec's
        raise SpecError(
            f"--workers sends states between processes, and a state of "
            f"{type(model).__name__} cannot be pickled: {exc}"
        ) from exc
