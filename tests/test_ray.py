"""--backend ray: Ray actors report exactly what one process does.

Skipped when Ray is not installed (it is an optional extra:
``pip install -e '.[ray]'``).  One local Ray instance serves every case.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from modelcheck.run import Options, run

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray]'")

ROOT = Path(__file__).resolve().parent.parent


def test_a_local_instance_is_started_and_stopped_when_none_runs():
    """Runs before the fixture below starts a shared instance."""
    assert not ray.is_initialized()
    options = Options(workers=2, backend="ray")
    assert run("two_phase", ["n=3"], options).outcome.verdict == "ok"
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    yield
    ray.shutdown()


@pytest.mark.parametrize(("spec", "params", "options"), [
    ("two_phase", ["n=3", "bug=commit_early"], Options()),
    (str(ROOT / "tests" / "ladder_spec.py"), [], Options()),
    ("raft", ["fsync=never"], Options(only=("election_safety",))),
    ("kafka", ["version=3.4"], Options(writes=1)),
    ("quorum_log", ["fsync=log_async"], Options()),
])
def test_ray_actors_report_what_one_process_does(local_ray, spec, params, options):
    # Ray actors take every step (no sleep sets there yet): so does the one process.
    alone = run(spec, params, replace(options, por=False)).to_json(timing=False)
    on_ray = run(spec, params, replace(options, workers=2, backend="ray"))
    assert on_ray.to_json(timing=False) == alone
