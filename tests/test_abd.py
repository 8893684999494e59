"""The ABD register: atomic with fsync, an acknowledged write lost without.

Minimality is checked by an independent depth-bounded search (no symmetry,
no BFS engine) besides the step count argued in specs/abd.py's docstring.
"""

import re

from click.testing import CliRunner

from modelcheck import explore
from modelcheck.cli import main
from modelcheck.trace import label_path
from specs.abd import ABD
from tests.test_primary_backup import violated_within


def shortest(model, only=()):
    outcome = explore(model, only=only)
    assert outcome.verdict == "violation"
    return outcome, label_path(model, outcome.path)


def test_without_fsync_a_read_misses_an_acknowledged_write_in_nine_steps():
    model = ABD(fsync="never")
    outcome, steps = shortest(model)
    assert outcome.property == "durability"
    # write (3 steps: request, Store, Stored), a power loss, a read (5: request,
    # Query, Value, Store, Stored): see the module docstring.
    assert len(steps) - 1 == 9
    kinds = [s.action.kind for s in steps[1:]]
    assert kinds.count("power_loss") == 1 and kinds.count("write") == 1
    assert kinds.count("read") == 1
    assert model.explain("durability", outcome.path[-1]) == (
        "durability broken: read 1 returned empty, but write 1 was acknowledged before the "
        "read began: the read missed write 1")
    assert not violated_within(model, 8)


def test_the_same_history_is_not_linearizable():
    model = ABD(fsync="never")
    outcome, steps = shortest(model, only=("linearizable",))
    assert len(steps) - 1 == 9
    why = model.explain("linearizable", outcome.path[-1])
    assert why.startswith("not linearizable: read 1 returned empty")
    assert why.endswith("given write 1 acknowledged before read 1 began, read 1 could only "
                        "return 1")


def test_with_fsync_every_history_is_linearizable():
    for faults in ("power_loss=1", "crash=1"):
        model = ABD(fsync="always")
        model.configure(faults=model.faults.parse(faults))
        outcome = explore(model)
        assert outcome.verdict == "ok", faults


def test_without_the_write_back_two_reads_invert():
    """The regular register: read 1 sees write 1 in flight, read 2 after it
    does not.  Seven steps: write request; read 1's request, Query and
    Value; read 2's request, Query and Value."""
    model = ABD(write_back=False)
    model.configure(reads=2)
    outcome, steps = shortest(model)
    assert outcome.property == "linearizable"
    assert len(steps) - 1 == 7
    assert [s.action.kind for s in steps[1:]].count("power_loss") == 0
    assert not violated_within(model, 6)
    # One read alone cannot tell the regular register from the atomic one.
    assert explore(ABD(write_back=False)).verdict == "ok"


def test_cli_reads_option_and_header():
    result = CliRunner().invoke(main, ["check", "abd", "-p", "write_back=false",
                                       "--reads", "2"])
    assert result.exit_code == 1
    assert result.output.startswith("abd(nodes=3, fsync=always, write_back=False, writes=1, "
                                    "reads=2, faults=power_loss=1)")
    assert re.search(r"^ *\d+\. client → [ABC]  read 2$", result.output, re.M)


def test_simulation_finds_the_missed_read_and_shrinks_it_to_the_shortest():
    """Reads are as slow as writes in a swarm run: a read issued at once
    would nearly always begin before the write's acknowledgement."""
    from modelcheck.simreport import run_simulation
    from modelcheck.simulate import Settings
    from modelcheck.run import Options

    report = run_simulation("abd", ["fsync=never"], Options(),
                            Settings(seed=0, runs=5000, time_limit=None, max_depth=200,
                                     workers=1))
    assert report.broken == "durability"
    assert len(report.shrunk.trace.labels) == 9


def test_available_with_one_replica_unreachable():
    """The two others are a majority.  The probe write must not wait for
    write 1, whose coordinator may be the unreachable replica (without that
    exception availability is stuck after the first step)."""
    from modelcheck.run import Options, verdicts

    pair = verdicts("abd", [], Options(unreachable=1))
    assert pair.availability.outcome.verdict == "ok"
    assert verdicts("abd", [], Options(unreachable=2)).availability.outcome.verdict == "violation"
