"""``--minimize faults``: the counterexample with the fewest fault events.

Breadth-first search already gives the fewest steps.  To put faults first,
search again and again with a cap on the faults of all kinds together,
0, 1, 2, ...: the first cap that reveals a violation is the fewest faults
any violation needs, and BFS under that cap gives the fewest steps among
those.  Each kind's own budget still applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelcheck.actors.protocol import Protocol
from modelcheck.engine import Outcome, explore


def explore_fewest_faults(model: Protocol, search: Callable[..., Outcome] = explore,
                          **limits: Any) -> Outcome:
    """Like ``search`` (same keyword limits), but fewest faults first."""
    try:
        for cap in range(sum(model.faults.limits())):
            model.max_total_faults = cap
            outcome = search(model, **limits)
            if outcome.verdict != "ok":
                return outcome
    finally:
        model.max_total_faults = None
    return search(model, **limits)
