"""Message sequence charts of JSON traces, laid out to be taken in at a glance.

One lane per node (and the client, and the protocol's shared state), one row
per step.  What a reader must see at once, and how the layout provides it:

* **boxes that stay in their lane**: every box is one lane wide; its text is
  wrapped or abbreviated to fit (``labels.wrap``) and the full text is on
  hover (an SVG tooltip);
* **arrows that cross no box**: a message leaves its sender's box sideways
  into the corridor beside the sender's lane, on the receiver's side, runs
  down the corridor (no box is ever there) to the row of the step that
  delivers it, and crosses to the receiver in that row (a delivery changes
  no other node, so nothing else is drawn there).  Messages in flight at the
  same time in one corridor each get a track of their own;
* **short labels**: an arrow shows the message kind and the one or two fields
  that matter (``labels.arrow_fields``); the legend below the chart, and the
  arrow's tooltip, have the whole message;
* **only the fields that matter**: by default the fields whose value changes
  somewhere in the trace (``--fields`` picks others); the fields the broken
  property reads are highlighted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import escape
from typing import Any

import graphviz

from modelcheck import glyphs
from modelcheck.errors import SpecError
from modelcheck.labels import arrow_fields, arrow_label, full_message, text, wrap

FONT = "DejaVu Sans"
#: Characters a line of a box holds, and the lane width that holds them.
LANE_CHARS = 24
LANE_INCHES = 2.0
LEGEND_CHARS = 110
CLIENT = "client"
UNSYNCED = " (unsynced"
MESSAGE_COLOUR = "#1f5fbf"
HIGHLIGHT_COLOUR = "#b00000"
FILL = {
    "start": "#f4f4f4", "deliver": "#eef5ff", "timeout": "#fff8dc", "write": "#fff8dc",
    "step": "#f1e8fb", "power_loss": "#f8c4c4", "crash": "#fbd7a8", "stop": "#d0d0d0",
    "drop": "#eeeeee", "duplicate": "#eeeeee", "ack": "#d9f0d3", "changed": "white",
}


def is_step_chain(trace: list[dict[str, Any]]) -> bool:
    """Whether a trace is a Model-level one: no nodes, no messages."""
    return "kind" not in trace[-1] and len(trace) > 1


def field_names(state: dict[str, Any], flat: bool) -> list[str]:
    """The fields ``--fields`` may name in a described state: those of every
    node (and shared) record, or, ``flat``, a Model-level state's own keys."""
    if flat:
        return list(state)
    records = [v for k, v in state.items() if k != CLIENT and isinstance(v, dict)]
    return list(dict.fromkeys(name for record in records for name in record))


def check_fields(fields: Sequence[str], state: dict[str, Any], flat: bool) -> None:
    """Refuse a ``--fields`` name that the described ``state`` lacks."""
    valid = field_names(state, flat)
    unknown = [f for f in fields if f not in valid]
    if unknown:
        raise SpecError(
            f"--fields: unknown field{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; "
            f"the fields are: {', '.join(valid)}"
        )


def changing_fields(trace: list[dict[str, Any]]) -> list[str]:
    """The fields whose value differs between two steps somewhere in the trace."""
    flat = is_step_chain(trace)
    names = field_names(trace[0]["state"], flat)
    found: set[str] = set()
    for before, after in zip(trace, trace[1:]):
        for lane, now in after["state"].items():
            was = before["state"].get(lane)
            if flat:
                if now != was:
                    found.add(lane)
            elif isinstance(now, dict):
                found.update(k for k, v in now.items()
                             if not isinstance(was, dict) or was.get(k) != v)
    return [name for name in names if name in found]


def sequence_chart(report: dict[str, Any],
                   fields: Sequence[str] | None = None) -> graphviz.Digraph:
    """A message sequence chart of a JSON trace (``check --json``).

    ``fields``: the node fields to show; default, those that change in the
    trace.  Raises SpecError for an empty trace or an unknown field.
    """
    trace = report["trace"]
    if not trace:
        raise SpecError("nothing to draw: the trace is empty (the check found no violation)")
    if fields:
        check_fields(fields, trace[0]["state"], is_step_chain(trace))
    shown = list(fields) if fields else changing_fields(trace)
    if is_step_chain(trace):
        return _step_chain(report, shown)
    return _Chart(report, shown).graph


def title(report: dict[str, Any]) -> str:
    """The spec and verdict, then its parameters wrapped below."""
    params = ", ".join(f"{k}={v}" for k, v in report.get("params", {}).items())
    verdict = f"violation of {report['property']}" if report.get("property") else report["verdict"]
    return "\n".join([f"{report.get('spec', '')}: {verdict}",
                      *wrap(params, 90, indent="")])


class _Chart:
    """Builds the Graphviz graph of one trace (see the module docstring)."""

    def __init__(self, report: dict[str, Any], fields: list[str]) -> None:
        self.report = report
        self.trace = trace = report["trace"]
        self.fields = fields
        self.highlight = set(report.get("property_fields") or ())
        self.columns = [CLIENT, *(name for name in trace[0]["state"] if name != CLIENT)]
        self.sends = _sends(trace)
        messages = [m for step in trace for m in step.get("in_flight", [])]
        messages += [s["message"] for s in trace if "message" in s]
        self.label_fields = arrow_fields(messages, report.get("label_fields"))
        self.tracks = self._allocate_tracks()
        self.legend: list[tuple[str, str, str]] = []
        #: Whether a box shows a field with unsynced writes (marked ``*``).
        self.marks_unsynced = False
        self.graph = graphviz.Digraph("trace", graph_attr={
            "rankdir": "TB", "splines": "line", "nodesep": "0.12", "ranksep": "0.3",
            "fontname": FONT, "newrank": "true", "label": title(report), "labelloc": "t",
            "fontsize": "14", "forcelabels": "true",
        }, node_attr={"fontname": FONT, "fontsize": "9", "shape": "point", "width": "0.01",
                      "height": "0.01"},
            edge_attr={"fontname": FONT, "fontsize": "9"})
        self._header()
        for step in trace:
            self._row(step)
        self._footer()

    # --- columns and tracks ------------------------------------------------

    def _corridor(self, src: str, dst: str) -> tuple[int, str]:
        """The corridor a message runs down: in the gap beside the sender's
        lane on the receiver's side (gap k lies between columns k and k + 1),
        on the sender's side of that gap's label column."""
        a, b = self.columns.index(src), self.columns.index(dst)
        return (a, "L") if b > a else (a - 1, "R")

    def _label_gap(self, src: str, dst: str) -> int:
        """The gap whose label column names an arrow: beside the receiver."""
        a, b = self.columns.index(src), self.columns.index(dst)
        return b - 1 if b > a else b

    def _allocate_tracks(self) -> dict[int, str]:
        """For each delivering step, the track its message runs down: messages
        whose rows overlap in one corridor get different tracks."""
        taken: dict[str, list[tuple[int, int]]] = {}
        self.track_count: Counter[tuple[int, str]] = Counter()
        tracks = {}
        for delivered, sent in sorted(self.sends.items(), key=lambda item: item[1]):
            msg = self.trace[delivered - 1]["message"]
            gap, side = self._corridor(msg["src"], msg["dst"])
            track = 0
            while any(sent <= end and start <= delivered
                      for start, end in taken.get(f"t{gap}{side}{track}", [])):
                track += 1
            taken.setdefault(f"t{gap}{side}{track}", []).append((sent, delivered))
            tracks[delivered] = f"t{gap}{side}{track}"
            self.track_count[gap, side] = max(self.track_count[gap, side], track + 1)
        return tracks

    def _row_nodes(self, prefix: str) -> list[str]:
        """A row's node names, left to right: the step, then each lane with,
        in the gap after it, its tracks, the label column, the next lane's
        tracks."""
        names = [f"{prefix}_step"]
        for k in range(len(self.columns)):
            names.append(f"{prefix}_c{k}")
            if k < len(self.columns) - 1:
                names += [f"{prefix}_t{k}L{t}" for t in range(self.track_count[k, "L"])]
                names.append(f"{prefix}_l{k}")
                names += [f"{prefix}_t{k}R{t}" for t in range(self.track_count[k, "R"])]
        return names

    def _chain(self, prefix: str, above: str | None) -> None:
        """Keep a row's nodes in order, and each under the same node above."""
        names = self._row_nodes(prefix)
        for left, right in zip(names, names[1:]):
            self.graph.edge(left, right, style="invis")
        if above is None:
            return
        for name, over in zip(names[1:], self._row_nodes(above)[1:]):
            is_lane = "_c" in name
            self.graph.edge(over, name, weight="100", arrowhead="none",
                            **({"style": "dashed", "color": "#999999"} if is_lane
                               else {"style": "invis"}))

    def _gap_nodes(self, row: graphviz.Digraph, prefix: str,
                   labels: dict[int, tuple[str, str]]) -> None:
        """A row's track points, and its arrow labels in the label columns."""
        for name in self._row_nodes(prefix):
            if "_t" in name:
                row.node(name, style="invis", width="0", height="0")
            elif "_l" in name:
                gap = int(name.rsplit("_l", 1)[1])
                if gap in labels:
                    label, tooltip = labels[gap]
                    row.node(name, label, shape="plaintext", fontcolor=MESSAGE_COLOUR,
                             fontsize="8", margin="0.02,0", tooltip=tooltip)
                else:
                    row.node(name, style="invis", width="0", height="0")

    # --- rows ----------------------------------------------------------------

    def _header(self) -> None:
        with self.graph.subgraph() as row:
            row.attr(rank="same")
            row.node("h_step", "step", shape="plaintext")
            for k, lane in enumerate(self.columns):
                row.node(f"h_c{k}", lane, shape="box", style="filled,bold",
                         fillcolor="#eeeeee" if lane == CLIENT else "#dde8f5",
                         width=str(LANE_INCHES), fontsize="11")
            self._gap_nodes(row, "h", {})
        self._chain("h", None)

    def _row(self, step: dict[str, Any]) -> None:
        i = step["step"]
        cells = self._cells(step)
        with self.graph.subgraph() as row:
            row.attr(rank="same")
            row.node(f"r{i}_step", escape(cells.pop(None, str(i))), shape="plaintext")
            for k, lane in enumerate(self.columns):
                if lane in cells:
                    label, fill, tooltip = cells[lane]
                    row.node(f"r{i}_c{k}", f"<{label}>", shape="box", style="rounded,filled",
                             fillcolor=fill, width=str(LANE_INCHES), margin="0.06,0.04",
                             tooltip=tooltip)
                else:
                    row.node(f"r{i}_c{k}")
            self._gap_nodes(row, f"r{i}", self._labels(step))
        self._chain(f"r{i}", "h" if i == 1 else f"r{i - 1}")
        self._arrows(step)

    def _cells(self, step: dict[str, Any]) -> dict[str | None, Any]:
        """Each lane's box in this step's row (label, fill, tooltip), and the
        step column's text under the key None."""
        i = step["step"]
        before = self.trace[i - 2]["state"] if i > 1 else None
        state = step["state"]
        cells: dict[str | None, Any] = {}
        kind = step.get("kind")
        if before is None:
            cells[None] = "start"
            for lane in self.columns[1:]:
                if self._shows(state[lane], None):
                    cells[lane] = self._box([], state[lane], None, FILL["start"],
                                            f"{lane} at the start")
            return cells
        actor = step.get("node")
        head = _head(step)
        for lane in self.columns[1:]:
            if lane == actor or self._shows(state[lane], before.get(lane)):
                fill = FILL.get(kind or "", FILL["changed"]) if lane == actor else FILL["changed"]
                cells[lane] = self._box(head if lane == actor else [], state[lane],
                                        before.get(lane), fill,
                                        f"{lane} after step {i}: {step['action']}")
        if kind in ("partition", "heal"):
            marker = (f"{glyphs.PARTITION} {step.get('detail')}" if kind == "partition"
                      else f"{glyphs.HEAL} healed")
            cells[None] = f"{i}\n{marker}"
        client_now, client_before = state.get(CLIENT, {}), before.get(CLIENT, {})
        if client_now != client_before and "acked" in client_now:
            line = f"acked {client_now['acked']}"
            if "reads" in client_now:
                line += f"; reads {client_now['reads']}"
            style = "highlight" if "acked" in self.highlight else None
            label = "".join(_line(part, style) for part in wrap(line, LANE_CHARS))
            cells[CLIENT] = (label, FILL["ack"], f"client after step {i}: {line}")
        return cells

    def _shows(self, now: Any, before: Any) -> bool:
        """Whether a lane changed in a field the chart shows."""
        return any(name in self.fields for name in _changed(now, before))

    def _box(self, head: list[str], now: Any, before: Any, fill: str,
             about: str) -> tuple[str, str, str]:
        """A box: the head lines in bold, then each selected field that
        changed (all of them at the start), wrapped to the lane."""
        changed = _changed(now, before)
        lines = [_line(part, "bold") for h in head for part in wrap(h, LANE_CHARS)]
        full = [about, *head]
        for name, value in changed.items():
            full.append(f"{name}={text(value)}")
            if name not in self.fields:
                continue
            value = text(value)
            if UNSYNCED in value:
                value = value.split(UNSYNCED)[0] + " *"
                self.marks_unsynced = True
            style = "highlight" if name in self.highlight else None
            lines += [_line(part, style) for part in wrap(f"{name}={value}", LANE_CHARS)]
        if not lines:
            hidden = ", ".join(name for name in changed if name not in self.fields)
            lines = [_line(part, "quiet") for part in
                     wrap(f"changed: {hidden}" if hidden else "no change", LANE_CHARS)]
        return "".join(lines), fill, "\n".join(full)

    # --- arrows ----------------------------------------------------------------

    def _labels(self, step: dict[str, Any]) -> dict[int, tuple[str, str]]:
        """The arrow labels of this step's row, by gap: (text, tooltip)."""
        i, kind = step["step"], step.get("kind")
        if kind == "deliver" and i in self.sends:
            msg = step["message"]
            fields = self.label_fields.get(msg["type"], [])
            # the kind above its fields: a narrower label, a narrower gap
            label = arrow_label(msg, fields).replace(" ", "\n", 1)
            return {self._label_gap(msg["src"], msg["dst"]): (label, _full(msg))}
        if kind in ("write", "read"):
            return {self.columns.index(step["node"]) - 1: (f"{kind} {step['detail']}",
                                                          step["action"])}
        return {}

    def _arrows(self, step: dict[str, Any]) -> None:
        i, kind = step["step"], step.get("kind")
        g = self.graph
        if kind == "deliver" and i in self.sends:
            msg, sent = step["message"], self.sends[i]
            track = self.tracks[i]
            src = f"c{self.columns.index(msg['src'])}"
            dst = f"c{self.columns.index(msg['dst'])}"
            label = f"l{self._label_gap(msg['src'], msg['dst'])}"
            self.legend.append((str(i), f"sent at {sent}", _full(msg)))
            line = {"color": MESSAGE_COLOUR, "penwidth": "1.3", "constraint": "false",
                    "tooltip": _full(msg)}
            g.edge(f"r{sent}_{src}", f"r{sent}_{track}", arrowhead="none", **line)
            g.edge(f"r{sent}_{track}", f"r{i}_{track}", arrowhead="none", **line)
            g.edge(f"r{i}_{track}", f"r{i}_{label}", arrowhead="none", **line)
            g.edge(f"r{i}_{label}", f"r{i}_{dst}", **line)
        elif kind in ("write", "read"):
            b = self.columns.index(step["node"])
            line = {"color": "#555555", "constraint": "false", "tooltip": step["action"]}
            g.edge(f"r{i}_c0", f"r{i}_l{b - 1}", arrowhead="none", **line)
            g.edge(f"r{i}_l{b - 1}", f"r{i}_c{b}", **line)
        acked_by = step.get("acked_by", step.get("node"))
        client_now = step["state"].get(CLIENT, {})
        client_before = self.trace[i - 2]["state"].get(CLIENT, {}) if i > 1 else client_now
        if acked_by in self.columns and _answered(client_now, client_before):
            g.edge(f"r{i}_c{self.columns.index(acked_by)}", f"r{i}_c0", constraint="false",
                   color="#2e7d32", penwidth="1.3", tooltip=f"{acked_by} acknowledges")

    # --- below the chart ---------------------------------------------------------

    def _footer(self) -> None:
        last = f"r{self.trace[-1]['step']}_c{len(self.columns) // 2}"
        explanation = self.report.get("explanation")
        notes = []
        if self.marks_unsynced:
            notes.append("* written but not yet fsynced: a power loss may undo it")
        if self.highlight:
            notes.append(f"highlighted: what {self.report.get('property')} reads "
                         f"({', '.join(sorted(self.highlight))})")
        if explanation:
            self.graph.node("verdict", "\n".join(wrap(explanation, 70, indent="")),
                            shape="box", style="filled,bold", fillcolor="#f8c4c4",
                            color=HIGHLIGHT_COLOUR, fontsize="11")
            self.graph.edge(last, "verdict", style="invis")
            last = "verdict"
        if self.legend or notes:
            self.graph.node("legend", f"<{self._legend_table(notes)}>", shape="plaintext")
            self.graph.edge(last, "legend", style="invis")

    def _legend_table(self, notes: list[str]) -> str:
        rows = []
        if self.legend:
            rows.append('<TR><TD ALIGN="LEFT" COLSPAN="2"><B>messages, in full</B></TD></TR>')
        for step, sent, full in self.legend:
            body = "<BR ALIGN=\"LEFT\"/>".join(
                escape(part) for part in wrap(full, LEGEND_CHARS, indent="    "))
            rows.append(f'<TR><TD ALIGN="RIGHT" VALIGN="TOP">{step} ({sent})</TD>'
                        f'<TD ALIGN="LEFT">{body}<BR ALIGN="LEFT"/></TD></TR>')
        rows += [f'<TR><TD ALIGN="LEFT" COLSPAN="2">{escape(n)}</TD></TR>' for n in notes]
        return f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="2">{"".join(rows)}</TABLE>'


def _full(msg: dict[str, Any]) -> str:
    return f"{msg['src']} → {msg['dst']}  {full_message(msg)}"


def _head(step: dict[str, Any]) -> list[str]:
    """The bold first lines of the acting node's box: what happened to it."""
    kind = step.get("kind")
    if kind == "timeout":
        return [step["detail"]]
    if kind == "step":
        return [f"{glyphs.STEP} {step['detail']}"]
    if kind == "power_loss":
        return [f"{glyphs.POWER_LOSS} power loss", step.get("detail") or ""]
    if kind == "crash":
        return [f"{glyphs.CRASH} crash (kill -9)", "memory lost, disk kept"]
    if kind == "stop":
        return [f"{glyphs.STOP} stops for good"]
    if kind in ("drop", "duplicate"):
        msg = step["message"]
        verb = "lost" if kind == "drop" else "duplicated"
        return [f"{glyphs.NETWORK} {msg['type']} from {msg['src']} {verb}"]
    return []


def _line(part: str, style: str | None) -> str:
    body = escape(part)
    if style == "bold":
        body = f"<B>{body}</B>"
    elif style == "highlight":
        body = f'<B><FONT COLOR="{HIGHLIGHT_COLOUR}">{body}</FONT></B>'
    elif style == "quiet":
        body = f'<FONT COLOR="#777777">{body}</FONT>'
    return f'{body}<BR ALIGN="LEFT"/>'


def _changed(now: Any, before: Any) -> dict[str, Any]:
    if not isinstance(now, dict):
        return {} if now == before else {"value": now}
    return {k: v for k, v in now.items() if not isinstance(before, dict) or before.get(k) != v}


def _message_key(msg: dict[str, Any]) -> str:
    return repr((msg["src"], msg["dst"], msg["type"], sorted(msg["fields"].items())))


def _sends(trace: list[dict[str, Any]]) -> dict[int, int]:
    """For each delivering step, the step that sent its message."""
    in_flight: Counter[str] = Counter()
    pending: dict[str, list[int]] = {}
    found: dict[int, int] = {}
    for step in trace:
        now = Counter(_message_key(m) for m in step.get("in_flight", []))
        if step.get("kind") in ("deliver", "drop"):
            key = _message_key(step["message"])
            if pending.get(key):
                sent = pending[key].pop(0)
                if step["kind"] == "deliver":
                    found[step["step"]] = sent
            in_flight[key] -= 1
        for key, count in (now - in_flight).items():
            pending.setdefault(key, []).extend([step["step"]] * count)
        in_flight = now
    return found


def _step_chain(report: dict[str, Any], fields: list[str]) -> graphviz.Digraph:
    """A Model-level trace (no nodes or messages): one box per step."""
    g = graphviz.Digraph("trace", graph_attr={"label": title(report), "labelloc": "t",
                                              "fontname": FONT},
                         node_attr={"shape": "box", "style": "rounded", "fontname": FONT,
                                    "fontsize": "10"})
    previous: dict[str, Any] = {}
    for step in report["trace"]:
        changed = {k: v for k, v in step["state"].items()
                   if previous.get(k) != v and k in fields}
        body = "\n".join(f"{k} = {text(v)}" for k, v in changed.items())
        g.node(f"s{step['step']}", f"{step['step']}. {step['action']}\n{body}")
        if step["step"] > 1:
            g.edge(f"s{step['step'] - 1}", f"s{step['step']}")
        previous = step["state"]
    if report.get("explanation"):
        last = report["trace"][-1]["step"]
        g.node("verdict", "\n".join(wrap(report["explanation"], 60, indent="")),
               style="filled", fillcolor="#f8c4c4")
        g.edge(f"s{last}", "verdict", style="invis")
    return g


def _answered(client_now: dict[str, Any], client_before: dict[str, Any]) -> bool:
    """Whether a node's answer reached the client: a new acknowledgement or
    read result (a read merely issued changes the client too)."""
    return (client_now.get("acked") != client_before.get("acked")
            or client_now.get("reads", "").count("→") != client_before.get("reads", "").count("→"))
