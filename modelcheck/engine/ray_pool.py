"""Workers as Ray actors, for ``--backend ray``: one machine or a cluster.

Each actor builds the model again from the spec's source and serves one
``Share``, like a worker process.  A level's batches go from actor to actor
through Ray's object store: the coordinator passes references, not data.
Ray is an optional extra (``pip install 'modelcheck[ray]'``), imported only
here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modelcheck import interrupt
from modelcheck.engine.partitioned import Recipe
from modelcheck.engine.share import Expanded, Received, Share, owner
from modelcheck.errors import SpecError

#: Seconds between two looks at the stop request while waiting on actors.
_POLL = 0.2

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class _Failure:
    """A SpecError raised in an actor, returned as a value to be raised again here."""

    def __init__(self, message: str) -> None:
        self.message = message


class _Worker:
    """The actor: one Share, built from the recipe."""

    def __init__(self, recipe: Recipe, index: int, workers: int, symmetry: bool,
                 only: tuple[str, ...], deadlock: bool, store: str) -> None:
        import gc

        gc.disable()  # as in the one-process search: states form no cycles
        self.workers = workers
        self.failure: _Failure | None = None
        try:
            with tempfile.TemporaryDirectory(prefix="modelcheck-") as directory:
                model = recipe.build(Path(directory))
            self.share = Share(model, index, workers, symmetry, only, deadlock, store)
        except SpecError as exc:
            self.failure = _Failure(str(exc))

    def call(self, method: str, *args: Any) -> Any:
        if self.failure is not None:
            return self.failure
        try:
            return getattr(self.share, method)(*args)
        except SpecError as exc:
            return _Failure(str(exc))

    def expand(self, deadline: float | None, memory: float) -> tuple[Any, ...]:
        """The level's summary, then one batch per owner (Ray returns them apart)."""
        expanded = self.call("expand", deadline, memory)
        if isinstance(expanded, _Failure):
            return (expanded, *[b""] * self.workers)
        batches, expanded.batches = expanded.batches, []
        return (expanded, *batches)

    def receive(self, *batches: bytes) -> Any:
        return self.call("receive", batches)


class RayPool:
    """``workers`` Ray actors on the cluster at ``address`` (None: a local instance)."""

    def __init__(self, recipe: Recipe, workers: int, symmetry: bool, only: Sequence[str],
                 deadlock: bool, store: str = "exact", address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise SpecError(
                "--backend ray needs Ray: pip install 'modelcheck[ray]' "
                "(or pip install ray)") from None
        self._ray = ray
        self.workers = workers
        #: Who owns a state: workers that start apart agree on fingerprints only.
        self.owner = owner
        self._started = not ray.is_initialized()
        if self._started:
            # Actors must import this modelcheck, also from a source checkout.
            env = {"env_vars": {"PYTHONPATH": os.pathsep.join(
                filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))}}
            try:
                if address is None:
                    ray.init(num_cpus=max(workers, os.cpu_count() or 1), runtime_env=env,
                             include_dashboard=False, log_to_driver=False,
                             configure_logging=False)
                else:
                    ray.init(address=address, runtime_env=env, log_to_driver=False,
                             configure_logging=False)
            except ConnectionError as exc:
                raise SpecError(f"--address {address}: no Ray cluster there ({exc})") from None
        actor = ray.remote(num_cpus=1)(_Worker)
        self._actors = [actor.remote(recipe, index, workers, symmetry, tuple(only), deadlock,
                                     store)
                        for index in range(workers)]

    def call(self, method: str, args: Sequence[tuple]) -> list[Any]:
        return self._get([a.call.remote(method, *arguments)
                          for a, arguments in zip(self._actors, args)])

    def level(self, deadline: float | None, memory: float
              ) -> tuple[list[Expanded], list[Received]]:
        outputs = [a.expand.options(num_returns=self.workers + 1).remote(deadline, memory)
                   for a in self._actors]
        received = [a.receive.remote(*[out[1 + target] for out in outputs])
                    for target, a in enumerate(self._actors)]
        expanded = self._get([out[0] for out in outputs])
        return expanded, self._get(received)

    def _get(self, refs: list[Any]) -> list[Any]:
        # Actors cannot see this process's stop request: wait in short
        # slices and give up on them when one comes (close() kills them).
        pending = refs
        while pending:
            _ready, pending = self._ray.wait(pending, num_returns=len(pending),
                                             timeout=_POLL)
            if pending and interrupt.requested():
                raise interrupt.Interrupted
        results = self._ray.get(refs)
        for result in results:
            if isinstance(result, _Failure):
                raise SpecError(result.message)
        return results

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        if self._started:
            self._ray.shutdown()

    def __enter__(self) -> RayPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
