"""Pictures of counterexamples: message sequence charts and state graphs.

Both are built from data, not from a live search: a sequence chart from a
JSON trace (what ``check --json`` prints), so saved traces can be drawn
later; a state graph from a model small enough to draw whole.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import graphviz
import networkx as nx

from modelcheck.errors import SpecError
from modelcheck.model import Model
from modelcheck.trace import show

FORMATS = {".svg": "svg", ".png": "png", ".dot": None, ".gv": None}
FAULT_COLOURS = {
    "power_loss": "#f8c4c4", "crash": "#fbd7a8", "partition": "#e3d4f5",
    "heal": "#d9f0d3", "drop": "#eeeeee", "duplicate": "#eeeeee",
}
FONT = "Helvetica"
UNSYNCED = " (unsynced"


class MissingDot(SpecError):
    """Graphviz's ``dot`` is not installed; the DOT file was written instead."""


def check_format(target: Path) -> str | None:
    """The Graphviz output format for ``target`` (None: DOT source)."""
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise SpecError(f"{target}: unknown diagram format (use .svg, .png or .dot)")
    return FORMATS[suffix]


def save(graph: graphviz.Digraph, target: Path) -> Path:
    """Write ``graph`` in the format of ``target``'s extension."""
    fmt = check_format(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if fmt is None:
        target.write_text(graph.source, encoding="utf-8")
        return target
    if shutil.which("dot") is None:
        dot_file = target.with_suffix(".dot")
        dot_file.write_text(graph.source, encoding="utf-8")
        raise MissingDot(
            f"cannot draw {target}: Graphviz's `dot` program is not installed. "
            f"Wrote {dot_file} instead; install Graphviz (Debian/Ubuntu: "
            "`apt-get install graphviz`, macOS: `brew install graphviz`) and run "
            f"`dot -T{fmt} {dot_file} -o {target}`"
        )
    target.write_bytes(graph.pipe(format=fmt))
    return target


# --- message sequence charts -------------------------------------------------


def sequence_chart(report: dict[str, Any]) -> graphviz.Digraph:
    """A message sequence chart of a JSON trace, one lifeline per node."""
    trace = report["trace"]
    if not trace:
        raise SpecError("nothing to draw: the trace is empty (the check found no violation)")
    if "kind" not in trace[-1] and len(trace) > 1:
        return _step_chain(report)
    nodes = [name for name in trace[0]["state"] if name != "client"]
    lanes = ["client", *nodes]
    g = graphviz.Digraph("trace", graph_attr={
        "rankdir": "TB", "splines": "line", "nodesep": "0.5", "ranksep": "0.22",
        "fontname": FONT, "newrank": "true",
        "label": _title(report) + "\n* written but not yet fsynced: a power loss may undo it",
        "labelloc": "t", "fontsize": "14",
    }, node_attr={"fontname": FONT, "fontsize": "10", "shape": "point", "width": "0.01"},
        edge_attr={"fontname": FONT, "fontsize": "9"})

    with g.subgraph() as head:
        head.attr(rank="same")
        head.node("h_step", "step", shape="plaintext")
        for lane in lanes:
            head.node(f"h_{lane}", lane, shape="box", style="filled,bold",
                      fillcolor="#dde8f5" if lane != "client" else "#eeeeee", width="0.9")
    _row_order(g, "h", lanes)

    sends = _sends(trace)
    for step in trace:
        i = step["step"]
        cells = _cells(step, trace[i - 2] if i > 1 else None, nodes)
        has_client_cell = "client" in cells
        with g.subgraph() as row:
            row.attr(rank="same")
            row.node(f"r{i}_step", cells.pop("step"), shape="plaintext")
            for lane in lanes:
                text, colour = cells.get(lane, ("", None))
                if text:
                    row.node(f"r{i}_{lane}", text, shape="box", style="rounded,filled",
                             fillcolor=colour or "white", width="0")
                else:
                    row.node(f"r{i}_{lane}")
        _row_order(g, f"r{i}", lanes)
        acked_by = (step.get("acked_by", step.get("node"))
                    if has_client_cell and step.get("kind") != "write" else None)
        for lane in lanes:
            above = f"h_{lane}" if i == 1 else f"r{i - 1}_{lane}"
            g.edge(above, f"r{i}_{lane}", style="dashed", arrowhead="none", color="#999999",
                   weight="100")
        _arrows(g, step, i, sends, acked_by)

    explanation = report.get("explanation")
    if explanation:
        last = trace[-1]["step"]
        g.node("verdict", _wrap(explanation, 60), shape="box", style="filled,bold",
               fillcolor="#f8c4c4", color="#b00000", fontsize="11")
        g.edge(f"r{last}_{lanes[len(lanes) // 2]}", "verdict", style="invis")
    return g


def _title(report: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in report.get("params", {}).items())
    verdict = f"violation of {report['property']}" if report.get("property") else report["verdict"]
    return f"{report.get('spec', '')}({params}) — {verdict}"


def _row_order(g: graphviz.Digraph, prefix: str, lanes: list[str]) -> None:
    chain = [f"{prefix}_step", *(f"{prefix}_{lane}" for lane in lanes)]
    for left, right in zip(chain, chain[1:]):
        g.edge(left, right, style="invis")


def _cells(step: dict[str, Any], before: dict[str, Any] | None,
           nodes: list[str]) -> dict[str, Any]:
    """Text and colour of each lane's cell in one row, plus the step label."""
    cells: dict[str, Any] = {"step": str(step["step"])}
    kind = step.get("kind")
    node = step.get("node")
    changes = {n: _changed(step["state"].get(n), before["state"].get(n) if before else None)
               for n in nodes}
    if before is None:
        for n in nodes:
            cells[n] = (_fields(changes[n]), "#f4f4f4")
        cells["step"] = "start"
        return cells
    colour = FAULT_COLOURS.get(kind or "")
    if kind == "deliver":
        msg = step["message"]
        head = f"{msg['type']}({_message_fields(msg['fields'])}) from {msg['src']}"
        cells[node] = (_join(head, _fields(changes[node])), "#eef5ff")
    elif kind == "timeout":
        cells[node] = (_join(step["detail"], _fields(changes[node])), "#fff8dc")
    elif kind == "write":
        cells["client"] = (f"write {step['detail']} →", "#eeeeee")
        cells[node] = (_join(f"client write {step['detail']}", _fields(changes[node])), "#fff8dc")
    elif kind == "step":
        cells[node] = (_join(f"⚙ {_wrap(step['detail'], 34)}", _fields(changes[node])), "#f1e8fb")
    elif kind in ("power_loss", "crash"):
        title = "⚡ power loss" if kind == "power_loss" else "💥 crash (kill -9)"
        detail = step.get("detail") or "memory lost, disk kept"
        cells[node] = (_join(f"{title}\n{_wrap(detail, 34)}", _fields(changes[node])), colour)
    elif kind in ("partition", "heal"):
        label = f"✂ {step.get('detail')}" if kind == "partition" else "∞ healed"
        cells["step"] = f"{step['step']}\n{label}"
    elif kind in ("drop", "duplicate"):
        msg = step["message"]
        cells[msg["dst"]] = (f"✉ {msg['type']} from {msg['src']} {kind}ped"
                             if kind == "drop" else f"✉ {msg['type']} duplicated", colour)
    client_now = step["state"].get("client", {})
    client_before = before["state"].get("client", {})
    if client_now != client_before and "acked" in client_now:
        cells["client"] = (f"acked {client_now['acked']}", "#d9f0d3")
    for n in nodes:
        if n not in cells and changes[n]:
            cells[n] = (_fields(changes[n]), "white")
    return cells


def _changed(now: Any, before: Any) -> dict[str, Any]:
    if not isinstance(now, dict):
        return {}
    return {k: v for k, v in now.items() if not isinstance(before, dict) or before.get(k) != v}


def _fields(fields: dict[str, Any]) -> str:
    lines = []
    for name, value in fields.items():
        text = str(value) if isinstance(value, str) else show(_tuple(value))
        if UNSYNCED in text:
            text = text.split(UNSYNCED)[0] + " *"
        lines.append(f"{name}={text}")
    return "\n".join(lines)


def _tuple(value: Any) -> Any:
    """JSON lists back to tuples, so they print as the text trace does."""
    if isinstance(value, list):
        return tuple(_tuple(v) for v in value)
    return value


def _message_fields(fields: dict[str, Any]) -> str:
    return ", ".join(f"{k}={show(_tuple(v))}" for k, v in fields.items())


def _join(head: str, body: str) -> str:
    return f"{head}\n{body}" if body else head


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


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


def _arrows(g: graphviz.Digraph, step: dict[str, Any], i: int, sends: dict[int, int],
            acked_by: str | None) -> None:
    kind = step.get("kind")
    if kind == "deliver" and i in sends:
        msg = step["message"]
        g.edge(f"r{sends[i]}_{msg['src']}", f"r{i}_{msg['dst']}", constraint="false",
               color="#1f5fbf", penwidth="1.3")
    elif kind == "write":
        g.edge(f"r{i}_client", f"r{i}_{step['node']}", constraint="false", color="#555555")
    if acked_by:
        g.edge(f"r{i}_{acked_by}", f"r{i}_client", constraint="false",
               color="#2e7d32", penwidth="1.3")


def _step_chain(report: dict[str, Any]) -> graphviz.Digraph:
    """A Model-level trace (no nodes or messages): one box per step."""
    g = graphviz.Digraph("trace", graph_attr={"label": _title(report), "labelloc": "t",
                                              "fontname": FONT},
                         node_attr={"shape": "box", "style": "rounded", "fontname": FONT,
                                    "fontsize": "10"})
    previous: dict[str, Any] = {}
    for step in report["trace"]:
        changed = {k: v for k, v in step["state"].items() if previous.get(k) != v}
        body = "\n".join(f"{k} = {show(_tuple(v))}" for k, v in changed.items())
        g.node(f"s{step['step']}", f"{step['step']}. {step['action']}\n{body}")
        if step["step"] > 1:
            g.edge(f"s{step['step'] - 1}", f"s{step['step']}")
        previous = step["state"]
    if report.get("explanation"):
        last = report["trace"][-1]["step"]
        g.node("verdict", _wrap(report["explanation"], 60), style="filled", fillcolor="#f8c4c4")
        g.edge(f"s{last}", "verdict", style="invis")
    return g


# --- state graphs --------------------------------------------------------------


def state_graph(model: Model, path: list[Hashable], cap: int = 300) -> graphviz.Digraph:
    """Every reachable state and step, the counterexample path in red."""
    graph = nx.DiGraph()
    frontier = list(dict.fromkeys(model.initial_states()))
    graph.add_nodes_from(frontier, initial=True)
    while frontier:
        nxt = []
        for state in frontier:
            for label, target in model.successors(state):
                if target not in graph:
                    if graph.number_of_nodes() >= cap:
                        raise SpecError(
                            f"--state-graph: more than {cap} reachable states; draw a smaller "
                            "instance (fewer nodes, writes or faults) or raise "
                            "--state-graph-cap"
                        )
                    graph.add_node(target)
                    nxt.append(target)
                graph.add_edge(state, target, label=str(label))
        frontier = nxt
    on_path = set(zip(path, path[1:]))
    ids = {state: f"s{i}" for i, state in enumerate(graph.nodes)}
    g = graphviz.Digraph("states", graph_attr={"rankdir": "TB", "fontname": FONT},
                         node_attr={"shape": "circle", "fontname": FONT, "fontsize": "9",
                                    "width": "0.3"},
                         edge_attr={"fontname": FONT, "fontsize": "7", "color": "#888888"})
    bad = path[-1] if path else None
    for state, name in ids.items():
        described = model.describe_state(state)
        attrs = {"label": name[1:],
                 "tooltip": "\n".join(f"{k} = {show(v)}" for k, v in described.items())}
        if graph.nodes[state].get("initial"):
            attrs.update(shape="doublecircle")
        if state in path:
            attrs.update(color="#b00000", penwidth="2")
        if state == bad:
            attrs.update(style="filled", fillcolor="#f8c4c4")
        g.node(name, **attrs)
    for a, b, data in graph.edges(data=True):
        if (a, b) in on_path:
            g.edge(ids[a], ids[b], label=data["label"], color="#b00000", penwidth="2",
                   fontcolor="#b00000")
        else:
            g.edge(ids[a], ids[b])
    return g
