"""Diagrams: parse the SVG and find what a reader must see."""

import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from modelcheck.cli import main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(path):
    root = ET.parse(path).getroot()
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def run(*args):
    return CliRunner().invoke(main, list(args))


@needs_dot
def test_sequence_chart_has_lifelines_faults_and_violation(tmp_path):
    out = tmp_path / "chart.svg"
    result = run("check", "primary_backup", "--json", "--diagram", str(out))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    texts = svg_texts(out)
    joined = "\n".join(texts)
    for lane in ["client", "A", "B"]:
        assert lane in texts  # one lifeline header per node, plus the client
    faults = [s for s in report["trace"] if s.get("fault")]
    assert faults and all(s["node"] in joined for s in faults)
    assert "⚡ power loss" in joined
    assert "unsynced log lost from position 1 on" in " ".join(joined.split())  # wrapped
    assert "durability broken" in " ".join(joined.split()) and "one of them is lost" in joined
    # every delivered message has an arrow labelled with its kind
    for step in report["trace"]:
        if step.get("kind") == "deliver":
            assert step["message"]["type"] in texts


@needs_dot
def test_render_saved_trace_png_and_dot(tmp_path):
    trace = tmp_path / "t.json"
    trace.write_text(run("check", "primary_backup", "--json").output)
    for name in ["c.png", "c.dot"]:
        result = run("render", str(trace), "-o", str(tmp_path / name))
        assert result.exit_code == 0, result.output
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "c.dot").read_text().startswith("digraph")


@needs_dot
def test_state_graph_highlights_the_path(tmp_path):
    out = tmp_path / "g.svg"
    result = run("check", "two_phase", "-p", "n=2", "-p", "bug=commit_early", "--json",
                 "--state-graph", str(out))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    root = ET.parse(out).getroot()
    nodes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    red_edges = [g for g in root.iter(f"{SVG}g") if g.get("class") == "edge"
                 and any(p.get("stroke") == "#b00000" for p in g.iter(f"{SVG}path"))]
    assert len(red_edges) == len(report["trace"]) - 1
    red_labels = {t.text for g in red_edges for t in g.iter(f"{SVG}text")}
    assert red_labels == {step["action"] for step in report["trace"][1:]}
    # n=2 two-phase with the bug: every state reachable, far more than the path
    assert len(nodes) > len(report["trace"])


def test_state_graph_refuses_big_models(tmp_path):
    result = run("check", "two_phase", "-p", "n=4", "--state-graph", str(tmp_path / "g.svg"))
    assert result.exit_code == 2 and "more than 300 reachable states" in result.output
    assert not (tmp_path / "g.svg").exists()


def test_missing_dot_still_writes_dot_file(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    out = tmp_path / "chart.svg"
    result = run("check", "primary_backup", "--diagram", str(out))
    assert result.exit_code == 1  # the verdict still counts
    assert "apt-get install graphviz" in result.output
    assert (tmp_path / "chart.dot").read_text().startswith("digraph")
    assert not out.exists()


def test_bad_inputs_to_render(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = run("render", str(bad), "-o", str(tmp_path / "x.svg"))
    assert result.exit_code == 2 and "no \"trace\"" in result.output
    result = run("check", "primary_backup", "--diagram", str(tmp_path / "x.pdf"))
    assert result.exit_code == 2 and "unknown diagram format" in result.output
