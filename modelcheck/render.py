"""Pictures of counterexamples: message sequence charts and state graphs.

Both are built from data, not from a live search: a sequence chart from a
JSON trace (what ``check --json`` prints), so saved traces can be drawn
later (drawn by ``modelcheck.sequence``; ``sequence_chart`` is re-exported
here, the one entry point for pictures); a state graph from a model small
enough to draw whole.
"""

from __future__ import annotations

import shutil
from collections.abc import Hashable, Sequence
from pathlib import Path

import graphviz
import networkx as nx

from modelcheck.errors import SpecError
from modelcheck.model import Model
from modelcheck.actors.protocol import Protocol
from modelcheck.sequence import FONT, check_fields, sequence_chart
from modelcheck.trace import show, shown

__all__ = ["MissingDot", "check_format", "check_model_fields", "save", "sequence_chart",
           "state_graph"]

FORMATS = {".svg": "svg", ".png": "png", ".dot": None, ".gv": None}


class MissingDot(SpecError):
    """Graphviz's ``dot`` is not installed; the DOT file was written instead."""


def check_format(target: Path) -> str | None:
    """The Graphviz output format for ``target`` (None: DOT source)."""
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise SpecError(f"{target}: unknown diagram format (use .svg, .png or .dot)")
    return FORMATS[suffix]


def check_model_fields(model: Model, fields: Sequence[str]) -> None:
    """Refuse ``--fields`` names the model's states lack, before any search."""
    state = shown(model.describe_state(next(iter(model.initial_states()))))
    check_fields(fields, state, flat=not isinstance(model, Protocol))


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
