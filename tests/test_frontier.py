"""modelcheck frontier: cells, inferences, the cache, and bad input."""

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelcheck.cli import main
from modelcheck.errors import SpecError
from modelcheck.frontier import COLUMNS, Budget, Cache, Frontier, parse_range
from modelcheck.run import Options, verdicts

# terms=1 keeps each search small: the cell n=3, u=1, k=0.
FIXED = ("terms=1",)


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    cache = Cache(tmp_path_factory.mktemp("cache"))
    first = Frontier("quorum_log", Budget(), cache, jobs=2, all_witnesses=True, fixed=FIXED)
    cells = first.cells([3], [1], [0])
    return cache, first, cells


def test_a_second_run_searches_nothing(computed):
    cache, first, cells = computed
    again = Frontier("quorum_log", Budget(), cache, jobs=2, all_witnesses=True, fixed=FIXED)
    repeated = again.cells([3], [1], [0])
    assert first.counts.searched > 0
    assert again.counts.searched == 0
    # A design's later searches (its durability once found stuck) come back
    # with its first: fewer answers from the cache than searches run.
    assert 0 < again.counts.cached <= first.counts.searched
    def judged(cells):
        return [(v.design, v.durability, v.availability)
                for c in cells for col in COLUMNS for v in c.columns[col]]
    assert judged(repeated) == judged(cells)


def test_undecided_results_are_searched_again_with_a_larger_budget(tmp_path):
    # u=1 of 3: 50 states leave some searches undecided (an available
    # design's must see every state); a larger budget searches exactly
    # those again, one search a design, and its decided results then serve
    # the small budget too.
    cache = Cache(tmp_path)

    def undecided(cell):
        return sum(any(r is not None and r.verdict == "incomplete"
                       for r in (v.durability, v.availability))
                   for c in COLUMNS for v in cell.columns[c])

    def cells(max_states):
        run = Frontier("quorum_log", Budget(max_states=max_states), cache, fixed=FIXED,
                       all_witnesses=True)
        return run, run.cells([3], [1], [0])

    small, [cell] = cells(50)
    assert undecided(cell) > 0
    large, _ = cells(10**6)
    assert large.counts.searched == undecided(cell)
    again, [cell] = cells(50)
    assert again.counts.searched == 0
    assert undecided(cell) == 0


def test_cell_verdicts_equal_separate_checks(computed):
    """Every design's durability and availability, searched or inferred,
    equals a `check --unreachable` of that design on its own (W or R > n-u
    included: an inference, which this tests).  A durability the frontier
    did not need (the design is stuck anyway) is not compared."""
    _, _, [cell] = computed
    assert (cell.n, cell.u, cell.k) == (3, 1, 0)
    sample = [v for column in COLUMNS for v in cell.columns[column]
              if (v.design.W, v.design.R) in {(1, 1), (2, 2), (3, 1), (2, 3)}
              and v.design.get("self_ack") == "unsynced" and v.design.get("fsync") != "never"
              and v.design.get("rejoin") != "detect"]
    # 4 pairs x (always, log_async with rejoin immediate or abstain)
    assert len(sample) == 4 * 3
    # --all-witnesses: a design a search found stuck has its durability
    # searched too; only quorum counting (W or R > n-u) leaves it unknown.
    for v in sample:
        if v.availability is None or not v.availability.inferred:
            assert v.durability.verdict != "skipped", v.design
    assert any(v.availability is not None and v.availability.verdict == "violation"
               and not v.availability.inferred for v in sample)
    for v in sample:
        params = ["nodes=3", *FIXED, *(f"{k}={x}" for k, x in v.design.params)]
        pair = verdicts("quorum_log", params, Options(faults="none", unreachable=1))
        if v.durability.verdict != "skipped":
            assert pair.safety.outcome.verdict == v.durability.verdict, v.design
        if v.availability is not None:
            assert pair.availability.outcome.verdict == v.availability.verdict, v.design


def test_the_cell_by_hand(computed):
    # terms=1: one election in the normal phase, so nothing is lost there
    # whatever W and R.  Recovery (term 2, one node unreachable) must not
    # lose the write: with W=1 the only copy may be on the unreachable node
    # (stuck); with W=2 a reachable node holds it and, as a leader of term 2,
    # commits the probe after it (R=1: it elects itself; R=2: with the
    # other's vote).  W=3 or R=3 cannot work with two nodes left.
    _, _, [cell] = computed
    assert cell.conjecture
    for column in COLUMNS:
        assert cell.answer(column) == "yes"
    assert {(v.design.W, v.design.R) for v in cell.witnesses(COLUMNS[0])} == {(2, 1), (2, 2)}


def test_a_witness_is_sought_among_promising_designs_first(computed, tmp_path):
    """Without --all-witnesses the search stops at the first witness and
    tries the designs quorum intersection leaves a chance first (here W=R=2,
    the only pair with W + R >= n + 1 and both <= n - u): the answers are
    those of judging every design, and the first availability search of
    each column is of such a design."""
    _, _, [every] = computed
    searched: list[str] = []
    quick = Frontier("quorum_log", Budget(), Cache(tmp_path), fixed=FIXED,
                     on_search=searched.append)
    [cell] = quick.cells([3], [1], [0])
    assert [cell.answer(c) for c in COLUMNS] == [every.answer(c) for c in COLUMNS]
    judged = [line for line in searched if "availability" in line]
    first = {column: next(line for line in judged if ("fsync=always" in line) == baseline)
             for column, baseline in zip(COLUMNS, (False, True))}
    assert all(" W=2 R=2 " in line for line in first.values()), first
    assert quick.counts.searched < sum(len(every.columns[c]) for c in COLUMNS)


def test_a_design_found_stuck_first_is_searched_for_losses_only_with_all_witnesses(tmp_path):
    """u=2 of 3 leaves W=R=1, stuck once the only copy of the write is on
    an unreachable node (3 steps), before the normal search ends: by default
    its durability is left unknown; --all-witnesses searches it, and it
    equals a separate check's."""
    def searched_stuck(all_witnesses):
        run = Frontier("quorum_log", Budget(), Cache(tmp_path / str(all_witnesses)),
                       fixed=FIXED, all_witnesses=all_witnesses)
        [cell] = run.cells([3], [2], [0])
        return [v for column in COLUMNS for v in cell.columns[column]
                if v.availability is not None and not v.availability.inferred]
    default, full = searched_stuck(False), searched_stuck(True)
    assert [v.design for v in default] == [v.design for v in full]
    assert default and all(v.availability.verdict == "violation" for v in default + full)
    assert all(v.durability.verdict == "skipped" for v in default)
    for v in full:
        params = ["nodes=3", *FIXED, *(f"{k}={x}" for k, x in v.design.params)]
        alone = verdicts("quorum_log", params, Options(faults="none"))
        assert v.durability.verdict == alone.safety.outcome.verdict != "skipped", v.design


def test_a_cell_time_limit_leaves_designs_not_searched(tmp_path):
    """With --cell-time spent after the first batch, each column searches
    one design and shows the others as not searched; without a witness
    the column is undecided, never "no".  u=2 of 3 has none (every
    design is stuck or loses the write), which the full run decides."""
    searched: list[str] = []
    run = Frontier("quorum_log", Budget(), Cache(tmp_path), fixed=FIXED, all_witnesses=True,
                   cell_time=1e-9, on_search=searched.append)
    [cell] = run.cells([3], [2], [0])
    for column in COLUMNS:
        left = [v for v in cell.columns[column] if v.availability is not None
                and v.availability.limit == "not searched"]
        assert left, column
        assert all(v.answer == "undecided" for v in left)
        assert cell.answer(column) == "undecided"
    assert run.counts.searched == len(searched) <= 2 * len(COLUMNS)


def test_a_cell_not_in_the_cache_leaves_the_next_cells_results_alone(tmp_path):
    """--from-cache over (3,1,0), never searched, then (3,2,0), searched:
    the first cell's designs are not searched, and the second cell shows
    exactly what its own search found (a design's unsearched durability in
    one cell is not taken for its durability in the next)."""
    cache = Cache(tmp_path)
    [searched] = Frontier("quorum_log", Budget(), cache, fixed=FIXED).cells([3], [2], [0])
    first, second = Frontier("quorum_log", Budget(), cache, fixed=FIXED,
                             from_cache=True).cells([3], [1, 2], [0])
    def judged(cell):
        return [(v.design, v.durability, v.availability)
                for column in COLUMNS for v in cell.columns[column]]
    assert [first.answer(c) for c in COLUMNS] == ["undecided"] * len(COLUMNS)
    assert judged(second) == judged(searched)


def test_ranges():
    assert parse_range("3..5", "--nodes") == [3, 4, 5]
    assert parse_range("2", "--losses") == [2]
    for bad in ("6..2", "x", "1..", "-1..2"):
        with pytest.raises(SpecError, match="--nodes"):
            parse_range(bad, "--nodes")


@pytest.mark.parametrize("args, complaint", [
    (["quorum_log", "--nodes", "6..2"], "--nodes '6..2'"),
    (["quorum_log", "--losses", "two"], "--losses 'two'"),
    (["two_phase"], "not a design family"),
    (["quorum_log", "-p", "W=2"], "W is an axis"),
    (["quorum_log", "-p", "term=1"], "no parameter 'term'"),
    (["quorum_log", "--json", "--csv"], "alternatives"),
])
def test_bad_input_exits_2_naming_the_problem(args, complaint, tmp_path):
    result = CliRunner().invoke(main, ["frontier", *args, "--cache", str(tmp_path / "c")])
    assert result.exit_code == 2
    assert complaint in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "c").exists()  # nothing written


ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "counterexamples" / "frontier-quorum-log.md"


def test_the_committed_frontier_is_what_its_committed_results_print(monkeypatch):
    """counterexamples/frontier-quorum-log.md is printed from search results
    committed beside it (hours of search): each of its documents, printed
    again from those results by the command it names, is the same text.
    A change to the spec, the notes or the printing shows here; the cure is
    the command, run without --from-cache."""
    monkeypatch.chdir(ROOT)  # the commands name paths in the checkout
    documents = re.split(r"(?m)^(?=# The frontier of a design family$)", COMMITTED.read_text())
    documents = [d for d in documents if d]
    assert len(documents) == 3  # n=3..4, n=5 with shorter searches, the seed's cell in full
    for document in documents:
        command = re.search(r"Regenerate with `([^`]+)`", document).group(1)
        args = shlex.split(command)
        assert args[:2] == ["modelcheck", "frontier"] and "--cache" in args, command
        result = CliRunner().invoke(main, [*args[1:], "--from-cache"])
        assert result.exit_code == 0, result.output
        assert result.stdout == document, f"stale: run `{command}`"
