"""Stepping through a model by hand: the explorer's logic, without HTTP.

A position in the explorer is a model (a spec, its parameters, writes and
fault budget: a ``ModelChoice``) and a path: the index of each step taken
among the steps enabled at that point, in the order ``model.successors``
yields them.  Nothing else is kept between requests: every view replays its
path from the initial state, so a path in a URL gives the same state after a
reload, and a step the model does not offer is refused by the replay itself.

When a model has several initial states, the path's first index picks one.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from modelcheck.actors import Protocol
from modelcheck.actors import client as client_ops
from modelcheck.actors import disk
from modelcheck.actors.stops import is_stopped
from modelcheck.errors import SpecError
from modelcheck.load import load, shipped
from modelcheck.render import sequence_chart
from modelcheck.run import Options, build
from modelcheck.trace import (
    INITIAL,
    ReplayError,
    Step,
    follow_json_trace,
    format_trace,
    show,
    trace_to_json,
)

#: Keys of a JSON trace's ``params`` that are options, not ``-p`` parameters.
OPTION_KEYS = ("writes", "reads", "faults", "unreachable")
#: The longest path the explorer replays (a hand-made URL could ask for more).
MAX_PATH = 500
#: Models kept built at once; the page can name any number of parameter sets.
MAX_SESSIONS = 32


class StepError(SpecError):
    """The page asked for a step the model does not offer there."""


@dataclass(frozen=True)
class ModelChoice:
    """Which model to explore: a spec, ``NAME=VALUE`` parameters, and for
    actor specs the client's writes and reads, and the fault budget."""

    spec: str
    params: tuple[str, ...] = ()
    writes: int | None = None
    faults: str | None = None
    reads: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> ModelChoice:
        """Read a choice sent by the page, refusing anything malformed."""
        if not isinstance(data, dict) or not isinstance(data.get("spec"), str):
            raise SpecError("model: expected an object with a spec name")
        params = data.get("params", [])
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise SpecError("model.params: expected a list of NAME=VALUE strings")
        counts = {key: data.get(key) for key in ("writes", "reads")}
        for key, count in counts.items():
            if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                                      or count < 0):
                raise SpecError(f"model.{key}: expected a non-negative integer")
        faults = data.get("faults")
        if faults is not None and not isinstance(faults, str):
            raise SpecError("model.faults: expected a fault budget such as power_loss=1")
        return cls(data["spec"], tuple(params), counts["writes"], faults, counts["reads"])

    @classmethod
    def of_trace(cls, report: Any) -> ModelChoice:
        """The model a JSON trace (``check --json`` output) was found on."""
        if not isinstance(report, dict) or not isinstance(report.get("trace"), list):
            raise SpecError("not a JSON trace: expected `modelcheck check --json` output, "
                            "an object with a \"trace\" list")
        if not report["trace"]:
            raise SpecError("the trace is empty: its check found no violation")
        spec, params = report.get("spec"), report.get("params", {})
        if not isinstance(spec, str) or not isinstance(params, dict):
            raise SpecError("the trace does not say its spec and parameters")
        writes, reads = params.get("writes"), params.get("reads")
        faults = params.get("faults")
        assignments = tuple(f"{k}={_param_text(v)}" for k, v in params.items()
                            if k not in OPTION_KEYS)
        return cls(spec, assignments, writes if isinstance(writes, int) else None,
                   faults if isinstance(faults, str) else None,
                   reads if isinstance(reads, int) else None)

    def to_json(self) -> dict[str, Any]:
        return {"spec": self.spec, "params": list(self.params), "writes": self.writes,
                "faults": self.faults, "reads": self.reads}


def _param_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class Library:
    """The specs the explorer may load: the one it was started on, and the
    shipped ones (gallery traces name them).  Models are built once per
    choice; the page names specs, never files."""

    def __init__(self, spec: str) -> None:
        self.home = load(spec)
        self._sources = {name: name for name in shipped()}
        self._sources[self.home.name] = spec
        self._sessions: dict[ModelChoice, Session] = {}

    def source(self, name: str) -> str:
        """What ``load`` takes for the spec called ``name``."""
        if name not in self._sources:
            raise SpecError(f"this explorer cannot load spec {name!r}: it knows "
                            f"{', '.join(sorted(self._sources))} (start `modelcheck explore` "
                            "on a spec file to explore it)")
        return self._sources[name]

    def session(self, choice: ModelChoice) -> Session:
        session = self._sessions.pop(choice, None)
        if session is None:
            session = Session(choice, self.source(choice.spec))
            if len(self._sessions) >= MAX_SESSIONS:  # forget the least recently used
                del self._sessions[next(iter(self._sessions))]
        self._sessions[choice] = session
        return session


@dataclass(frozen=True)
class Point:
    """One state on a path: how it was reached, and the steps enabled in it."""

    action: Any
    #: None at the point that chooses among several initial states.
    state: Hashable | None
    enabled: list[tuple[Any, Hashable]]


class Session:
    """One model, stepped through by paths of action indices."""

    def __init__(self, choice: ModelChoice, source: str) -> None:
        self.choice = choice
        options = Options(writes=choice.writes, faults=choice.faults, reads=choice.reads)
        self.name, self.model, self.values = build(source, list(choice.params), options)
        self.initials = list(dict.fromkeys(self.model.initial_states()))
        self.is_actor = isinstance(self.model, Protocol)

    # --- replay ---------------------------------------------------------------

    def replay(self, path: Sequence[int]) -> list[Point]:
        """The points a path leads through.  The first is the initial state,
        or, when the model has several, a point with no state whose enabled
        steps are the initial states.  Raises StepError naming the first
        index that is not an enabled step, numbered as a trace numbers it."""
        if len(path) > MAX_PATH:
            raise StepError(f"path: {len(path)} steps; the explorer replays at most {MAX_PATH}")
        if len(self.initials) == 1:
            start = self.initials[0]
            points = [Point(INITIAL, start, list(self.model.successors(start)))]
        else:
            choices = [(f"{INITIAL} {i}", s) for i, s in enumerate(self.initials, start=1)]
            points = [Point(None, None, choices)]
        first = 2 if points[0].state is not None else 1
        for number, index in enumerate(path, start=first):
            action, state = self._pick(points[-1].enabled, index, number)
            points.append(Point(action, state, list(self.model.successors(state))))
        return points

    @staticmethod
    def _pick(options: list[Any], index: Any, number: int) -> Any:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(options):
            what = "initial state" if number == 1 else "enabled step"
            raise StepError(f"step {number} of the path: {index!r} is not an {what} "
                            f"(there are {len(options)}, numbered from 0)")
        return options[index]

    def path_of_trace(self, trace: list[Any]) -> list[int]:
        """The path of a JSON trace's steps on this model (see
        ``follow_json_trace``).  Raises SpecError where it does not replay."""
        try:
            start, choices, _states = follow_json_trace(
                self.model, trace, self.initials, f"{self.name} with these parameters")
        except ReplayError as exc:
            raise SpecError(str(exc)) from None
        return ([start] if len(self.initials) > 1 else []) + choices

    # --- views ------------------------------------------------------------------

    def view(self, path: Sequence[int]) -> dict[str, Any]:
        """Everything the page shows at the end of ``path``."""
        points = self.replay(path)
        here = points[-1]
        before = points[-2].state if len(points) > 1 else None
        properties = self.properties(here.state) if here.state is not None else []
        already = {p["name"] for p in properties if not p["holds"]}
        return {
            "model": self.choice.to_json(),
            "title": f"{self.name}({', '.join(f'{k}={v}' for k, v in self.values.items())})",
            "path": list(path),
            "labels": [str(p.action) for p in points[1:]],
            "state": ({"kind": "choose"} if here.state is None
                      else self.describe(here.state, before)),
            "enabled": [self._enabled(i, action, state, already)
                        for i, (action, state) in enumerate(here.enabled)],
            "properties": properties,
            "recoverables": list(self.model.recoverables()),
            "trace_text": format_trace(self.model, self.steps(points)),
        }

    @staticmethod
    def steps(points: list[Point]) -> list[Step]:
        """The path as a trace's steps (the point choosing an initial state left out)."""
        states = [p for p in points if p.state is not None]
        return [Step(n, INITIAL if n == 1 else p.action, p.state)
                for n, p in enumerate(states, start=1)]

    def properties(self, state: Hashable) -> list[dict[str, Any]]:
        """Each invariant at ``state``; a broken one with the model's reason."""
        found = []
        for name, holds in self.model.invariants().items():
            ok = bool(holds(state))
            found.append({"name": name, "holds": ok,
                          "explanation": None if ok else self.model.explain(name, state)})
        return found

    def broken(self, state: Hashable) -> list[str]:
        return [name for name, holds in self.model.invariants().items() if not holds(state)]

    def _enabled(self, index: int, action: Any, state: Hashable,
                 already: set[str]) -> dict[str, Any]:
        """An enabled step, with the properties it would newly break."""
        details = self.model.action_details(action)
        return {"index": index, "label": str(action), "kind": details.get("kind"),
                "fault": bool(details.get("fault")), "node": details.get("node"),
                "breaks": [name for name in self.broken(state) if name not in already]}

    def describe(self, state: Hashable, before: Hashable | None) -> dict[str, Any]:
        """The state as the page draws it, with what the last step changed."""
        if self.is_actor:
            return _actor_view(self.model, state, before)  # type: ignore[arg-type]
        now = {k: show(v) for k, v in self.model.describe_state(state).items()}
        was = ({k: show(v) for k, v in self.model.describe_state(before).items()}
               if before is not None else now)
        return {"kind": "model", "fields": [
            {"name": k, "value": v, "changed": was.get(k) != v} for k, v in now.items()]}

    def report(self, path: Sequence[int]) -> dict[str, Any]:
        """The path as a JSON trace, shaped like ``check --json`` output."""
        points = self.replay(path)
        if points[-1].state is None:
            raise StepError(f"{self.name} has several initial states: choose one first")
        broken = self.broken(points[-1].state)
        return {
            "spec": self.name, "params": self.values,
            "verdict": "violation" if broken else f"explored, {len(path)} steps",
            "property": broken[0] if broken else None,
            "explanation": self.model.explain(broken[0], points[-1].state) if broken else None,
            "trace": trace_to_json(self.model, self.steps(points)),
        }

    def chart_svg(self, path: Sequence[int]) -> str:
        """The path as a message sequence chart (render.sequence_chart), in SVG."""
        if not self.is_actor and len(self.steps(self.replay(path))) < 2:
            # A Model-level chart is a chain of steps: nothing to chain yet.
            raise StepError("the chart starts with the first step")
        if shutil.which("dot") is None:
            raise SpecError("the sequence chart needs Graphviz's `dot` "
                            "(Debian/Ubuntu: apt-get install graphviz)")
        return sequence_chart(self.report(path)).pipe(format="svg").decode("utf-8")


def _actor_view(model: Protocol, state: Any, before: Any | None) -> dict[str, Any]:
    nodes, bag, isolated, client, used, shared = state
    next_write, acked = client[0], client[1]
    old = before if before is not None else state
    shown_nodes = []
    for i, name in enumerate(model.node_names):
        # Field declarations are the node's class's (as Protocol.describe_state reads them).
        cls = model.node_classes[i]
        volatile = [f.name for f in cls._volatile_fields]
        durable = [f.name for f in cls._durable_fields]
        (memory, files), (old_memory, old_files) = nodes[i][:2], old[0][i][:2]
        fields = [{"name": f, "value": show(v), "durable": False, "unsynced": False,
                   "may_revert_to": [], "changed": v != old_v}
                  for f, v, old_v in zip(volatile, memory, old_memory)]
        fields += [{"name": f, "value": show(disk.current(file)), "durable": True,
                    "unsynced": not disk.is_synced(file),
                    "may_revert_to": [show(v) for v in file[:-1]],
                    "changed": file != old_file}
                   for f, file, old_file in zip(durable, files, old_files)]
        ghosts = [f.name for f in cls._ghost_fields]
        fields += [{"name": f, "value": show(v), "durable": False, "unsynced": False,
                    "may_revert_to": [], "changed": v != old_v, "ghost": True}
                   for f, v, old_v in zip(ghosts, memory[len(volatile):],
                                          old_memory[len(volatile):])]
        shown_nodes.append({"name": name, "isolated": name in isolated, "fields": fields,
                            "stopped": is_stopped(nodes[i])})
    new_messages = Counter(bag) - Counter(old[1])
    messages = []
    for m in bag:
        fresh = new_messages[m] > 0
        new_messages[m] -= 1
        messages.append({"src": m.src, "dst": m.dst, "type": m.kind, "text": repr(m),
                         "new": fresh})
    old_acks = old[3][1]
    acks = [{"text": model.show_ack(v, p), "new": (v, p) not in old_acks}
            for v, p in sorted(acked, key=lambda a: (a[1], repr(a[0])))]
    limits = model.faults.limits()
    faults = [{"kind": kind, "used": u, "limit": limit, "left": limit - u,
               "changed": u != old_u}
              for kind, u, old_u, limit in zip(model.faults.kinds(), used, old[4], limits)
              if limit]
    view: dict[str, Any] = {
        "kind": "actors", "nodes": shown_nodes, "messages": messages,
        "client": {"next_write": next_write, "writes": model.writes, "acked": acks,
                   **client_ops.describe(model, client)},
        "faults": faults, "isolated": sorted(isolated),
    }
    if shared is not None:
        view["shared"] = {model.shared_name: {
            k: show(v) for k, v in model.describe_shared(shared).items()}}
    return view

