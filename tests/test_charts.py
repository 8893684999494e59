"""Charts a reader takes in at a glance: short arrow labels with the whole
message in the legend and on hover, chosen fields, boxes inside their lanes,
arrows that cross no box, one notation for sets, glyphs the fonts have."""

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelcheck import glyphs
from modelcheck.actors import Node, on
from modelcheck.actors.network import Message
from modelcheck.actors.protocol import Action
from modelcheck.cli import main
from modelcheck.errors import SpecError
from modelcheck.labels import arrow_fields, text, wrap
from modelcheck.sequence import LANE_CHARS, sequence_chart

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
GALLERY = Path(__file__).resolve().parent.parent / "counterexamples"
SPECS = Path(__file__).resolve().parent.parent / "specs"


def run(*args):
    return CliRunner().invoke(main, list(args))


def msg(kind, **fields):
    return {"src": "A", "dst": "B", "type": kind, "fields": fields}


# --- the label rule ------------------------------------------------------------


def test_label_rule_prefers_fields_that_vary_then_term_then_index():
    messages = [
        msg("Append", term=1, leader_commit=0, entries="[t1:1]", note="x"),
        msg("Append", term=2, leader_commit=0, entries="[t2:2]", note="x"),
        msg("Append", term=2, leader_commit=0, entries="[t2:3]", note="x"),
    ]
    # term and entries vary; leader_commit and note do not
    assert arrow_fields(messages) == {"Append": ["term", "entries"]}


def test_label_rule_keeps_at_most_two_varying_fields_by_shape():
    messages = [msg("Vote", granted=True, length=1, epoch=1, who="A"),
                msg("Vote", granted=False, length=2, epoch=2, who="B")]
    # all four vary: the term-like epoch, then the index-like length
    assert arrow_fields(messages) == {"Vote": ["epoch", "length"]}


def test_label_rule_without_variation_keeps_only_term_and_index_like_fields():
    one = [msg("Ack", success=True, last_log_index=3, reason="ok")]
    assert arrow_fields(one) == {"Ack": ["last_log_index"]}
    assert arrow_fields([msg("Ping", reason="ok")]) == {"Ping": []}


def test_label_override_wins_and_must_name_real_fields():
    messages = [msg("Append", term=1, entries="[1]"), msg("Append", term=2, entries="[2]")]
    assert arrow_fields(messages, {"Append": ["entries"]}) == {"Append": ["entries"]}
    with pytest.raises(SpecError, match="'entris'.*term, entries"):
        arrow_fields(messages, {"Append": ["entris"]})


def test_on_label_hook_reaches_the_protocol():
    class Server(Node):
        @on("Append", label=("term",))
        def on_append(self, m):
            pass

        @on("Ack")
        def on_ack(self, m):
            pass

    assert Server._label_fields == {"Append": ("term",)}
    with pytest.raises(SpecError, match="tuple of field names"):
        on("Append", label="term")


def test_wrap_fits_the_lane_and_abbreviates_long_words():
    lines = wrap("next_index={A:1, B:2, C:3, D:4, E:5, F:6}", 16)
    assert all(len(line) <= 16 for line in lines)
    assert " ".join(" ".join(lines).split()) == "next_index={A:1, B:2, C:3, D:4, E:5, F:6}"
    assert wrap("x" * 40, 10) == ["x" * 9 + "…"]
    assert wrap("a " + "x" * 40, 10) == ["a", "  " + "x" * 7 + "…"]


# --- one notation for sets --------------------------------------------------------


def test_messages_and_states_print_sets_in_braces_and_sequences_in_brackets():
    m = Message("A", "B", "X", (("seen", frozenset({2, 1})), ("log", (1, 2))))
    assert repr(m) == "X(seen={1, 2}, log=[1, 2])"


def test_traces_saved_with_lists_still_print_as_text_does():
    assert text(["t1:1", 2]) == "[t1:1, 2]" and text({"B": 1}) == "{B: 1}"
    assert text(None) == "None" and text(True) == "True" and text("{A}") == "{A}"


def test_text_json_and_chart_print_the_same_values():
    # The gallery's files are what `check` prints (tests/test_gallery.py).
    text = (GALLERY / "raft-log_async.txt").read_text()
    report = json.loads((GALLERY / "raft-log_async.json").read_text())
    source = sequence_chart(report).source
    # every short name=value the text trace prints, the chart prints alike
    pairs = {p for line in text.splitlines() if re.match(r"\s+[A-C]: ", line)
             for p in line.split(": ", 1)[1].split("  ") if "(unsynced" not in p}
    short = {p for p in pairs if len(p) <= LANE_CHARS}
    assert "votes={A}" in short and "next_index={B:1, C:1}" in short
    missing = [p for p in short if p not in source]
    assert not missing
    assert "votes=[" not in source and "next_index=[" not in source
    assert report["trace"][1]["state"]["A"]["votes"] == "{A}"  # JSON, too


# --- glyphs ---------------------------------------------------------------------


def dejavu_has(char):
    found = subprocess.run(["fc-list", f":charset={ord(char):x}", "family"],
                           capture_output=True, text=True).stdout
    return "DejaVu Sans" in found


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig not installed")
@needs_dot
def test_every_symbol_in_charts_and_traces_is_in_dejavu(tmp_path):
    texts = []
    for trace in GALLERY.glob("*.json"):
        out = tmp_path / f"{trace.stem}.svg"
        assert run("render", str(trace), "-o", str(out)).exit_code == 0
        texts += [t.text or "" for t in ET.parse(out).getroot().iter(f"{SVG}text")]
    texts += [str(Action(kind, node="A", detail="d")) for kind in ("crash", "power_loss", "step",
                                                                   "partition", "heal")]
    symbols = {c for t in texts for c in t if ord(c) > 127}
    assert {glyphs.CRASH, glyphs.POWER_LOSS} <= symbols
    assert [c for c in sorted(symbols) if not dejavu_has(c)] == []


# --- fields -----------------------------------------------------------------------


def box_lines(svg):
    """The name=value lines of the chart's boxes (node ids r<step>_c<lane>)."""
    lines = []
    for g in ET.parse(svg).getroot().iter(f"{SVG}g"):
        title = g.find(f"{SVG}title")
        if g.get("class") == "node" and title is not None and re.fullmatch(r"r\d+_c\d+",
                                                                            title.text):
            lines += [t.text for t in g.iter(f"{SVG}text") if t.text and "=" in t.text]
    return lines


@needs_dot
def test_default_fields_are_those_the_text_trace_shows_changing(tmp_path):
    trace = GALLERY / "kafka-kip966-stuck.json"
    out = tmp_path / "c.svg"
    assert run("render", str(trace), "-o", str(out)).exit_code == 0
    shown = {line.split("=")[0] for line in box_lines(out)}
    # the text trace lists, under each step after the first, what it changed
    text = re.split(r"^ *2\. ", (GALLERY / "kafka-kip966-stuck.txt").read_text(), flags=re.M)[1]
    changed = {m.group(1) for m in re.finditer(r"(?:^|  |: )(\w+)=", text, re.M)}
    assert shown == changed and "session" in shown and "log" not in shown


@needs_dot
def test_fields_option_picks_the_fields_and_highlights_the_property(tmp_path):
    trace = GALLERY / "raft-log_async.json"  # what `check --json` prints
    out = tmp_path / "c.svg"
    result = run("render", str(trace), "-o", str(out), "--fields", "role,log")
    assert result.exit_code == 0, result.output
    assert {line.split("=")[0] for line in box_lines(out)} == {"role", "log"}
    report = json.loads(trace.read_text())
    # committed() is log[:commit_index], compared with the acknowledged writes
    assert report["property_fields"] == ["acked", "commit_index", "log"]
    root = ET.parse(out).getroot()
    red = {t.text.split("=")[0] for t in root.iter(f"{SVG}text")
           if t.get("fill") == "#b00000" and t.text and "=" in t.text}
    assert red == {"log"}


def test_unknown_field_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "c.svg"
    result = run("check", "primary_backup", "--diagram", str(out), "--fields", "epoch,bogus")
    assert result.exit_code == 2
    assert "'bogus'" in result.output and "primary, commit, acked_by, epoch, log" in result.output
    assert "VIOLATION" not in result.output and not out.exists()
    result = run("render", str(GALLERY / "raft-log_async.json"), "-o", str(out),
                 "--fields", "term")
    assert result.exit_code == 2 and "'term'" in result.output and "current_term" in result.output
    assert "Traceback" not in result.output and not out.exists()


# --- layout -----------------------------------------------------------------------


def boxes(root):
    """Each box node's name and (left, top, right, bottom) in SVG units."""
    found = {}
    for g in root.iter(f"{SVG}g"):
        title = g.find(f"{SVG}title")
        shape = next(g.iter(f"{SVG}path"), None)
        if shape is None:
            shape = next(g.iter(f"{SVG}polygon"), None)
        if g.get("class") != "node" or shape is None:
            continue
        numbers = [float(n) for n in re.findall(r"-?\d+\.?\d*", shape.get("d") or
                                                 shape.get("points"))]
        xs, ys = numbers[0::2], numbers[1::2]
        found[title.text] = (min(xs), min(ys), max(xs), max(ys))
    return found


@needs_dot
@pytest.mark.parametrize("stem", ["raft-log_async", "kafka-3.4", "primary_backup-no_fsync"])
def test_boxes_stay_in_their_lanes_and_arrows_cross_no_box(tmp_path, stem):
    out = tmp_path / "c.svg"
    assert run("render", str(GALLERY / f"{stem}.json"), "-o", str(out)).exit_code == 0
    root = ET.parse(out).getroot()
    found = boxes(root)
    cells = {name: box for name, box in found.items() if re.fullmatch(r"r\d+_c\d+", name)}
    assert len(cells) > 10
    for name, (left, _, right, _) in cells.items():
        head = found["h_" + name.split("_")[1]]
        assert left >= head[0] - 1 and right <= head[2] + 1, f"{name} wider than its lane"
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "edge":
            continue
        ends = g.find(f"{SVG}title").text.split("->")
        path = next(g.iter(f"{SVG}path"), None)
        if path is None or path.get("stroke") != "#1f5fbf":
            continue
        numbers = [float(n) for n in re.findall(r"-?\d+\.?\d*", path.get("d"))]
        points = list(zip(numbers[0::2], numbers[1::2]))
        samples = [(a[0] + (b[0] - a[0]) * t / 10, a[1] + (b[1] - a[1]) * t / 10)
                   for a, b in zip(points, points[1:]) for t in range(11)]
        for name, (left, top, right, bottom) in cells.items():
            if name in ends:
                continue
            inside = [p for p in samples if left + 2 < p[0] < right - 2 and top + 2 < p[1] < bottom - 2]
            assert not inside, f"arrow {ends} crosses box {name}"


# --- labels, legend, hover --------------------------------------------------------


@needs_dot
def test_arrows_carry_short_labels_and_the_legend_the_whole_message(tmp_path):
    out = tmp_path / "c.svg"
    assert run("render", str(GALLERY / "raft-log_async.json"), "-o", str(out)).exit_code == 0
    root = ET.parse(out).getroot()
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    flat = " ".join(" ".join(texts).split())
    report = json.loads((GALLERY / "raft-log_async.json").read_text())
    delivered = [s for s in report["trace"] if s.get("kind") == "deliver"]
    assert delivered
    tooltips = {a.get(f"{XLINK}title") for a in root.iter(f"{SVG}a")}
    for step in delivered:
        whole = " ".join(step["action"].split())  # as the text trace prints it
        assert whole in flat  # in the legend
        assert any(t and " ".join(t.split()) == whole for t in tooltips)  # on hover
    # the labels: kind, then at most two fields, never the whole message
    assert "AppendEntries" in texts and "term=2 entries=[t2:2]" in texts
    assert "RequestVote" in texts and "term=2" in texts
    assert not any("prev_log_index" in t for t in texts if len(t) < 60 and "(" not in t)


def test_spec_override_of_an_arrow_label(tmp_path):
    source = (SPECS / "primary_backup.py").read_text()
    assert '@on("Replicate")' in source
    spec = tmp_path / "pb.py"
    spec.write_text(source.replace('@on("Replicate")', '@on("Replicate", label=("epoch",))'))
    report = json.loads(run("check", str(spec), "--json").output)
    assert report["label_fields"] == {"Replicate": ["epoch"]}
    chart = sequence_chart(report).source
    assert 'label="Replicate\nepoch=1"' in chart and 'label="Replicate\nepoch=1 ' not in chart
