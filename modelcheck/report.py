"""Turning an exploration's outcome into what a user reads: text or JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelcheck.engine import Outcome
from modelcheck.engine.store import collision_probability
from modelcheck.model import Model
from modelcheck.trace import Step, chart_facts, format_trace, label_path, trace_to_json

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
EXIT_CODES = {"ok": EXIT_OK, "violation": EXIT_VIOLATION, "incomplete": EXIT_INCOMPLETE}

_LIMITS = {"max-depth": "depth", "max-states": "state", "time-limit": "time", "memory": "memory"}
_INCOMPLETE = "before the state space was exhausted"


@dataclass
class Report:
    spec: str
    params: dict[str, Any]
    model: Model
    outcome: Outcome

    #: The properties that were checked (all, unless --only).
    checked: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Replaying the path proves it is a real behaviour of the model.
        self.steps: list[Step] = label_path(self.model, self.outcome.path)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome.verdict]

    @property
    def explanation(self) -> str | None:
        prop = self.outcome.property
        if prop is None:
            return None
        if prop == "deadlock":
            return "deadlock: the last state has no successor"
        return self.model.explain(prop, self.outcome.path[-1])

    @property
    def pruned(self) -> bool:
        """Whether the search pruned stale messages (modelcheck.actors.stale),
        so that its counts are of the pruned model's states."""
        return bool(getattr(self.model, "pruning", False))

    def to_json(self, timing: bool = True) -> dict[str, Any]:
        """The report as JSON data; ``timing=False`` leaves out clock readings."""
        o, s = self.outcome, self.outcome.stats
        data = {
            "spec": self.spec,
            "params": self.params,
            "verdict": o.verdict,
            "property": o.property,
            "explanation": self.explanation,
            "limit": o.limit,
            "distinct_states": s.distinct_states,
            "stale_messages_pruned": self.pruned,
            "kept_states": s.kept_states,
            "reduction": round(s.reduction, 2),
            "transitions": s.transitions,
            "steps_skipped": s.skipped,
            "depth": s.depth,
            "seconds": round(s.seconds, 3),
            "states_per_second": round(s.states_per_second),
            "trace": trace_to_json(self.model, self.steps),
        }
        data.update(chart_facts(self.model, o.property, o.path))
        if o.store != "exact":
            data["store"] = o.store
            data["collision_probability"] = self.collision_probability
        if not timing:
            del data["seconds"], data["states_per_second"]
        return data

    def to_text(self, timing: bool = True) -> str:
        o, s = self.outcome, self.outcome.stats
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        lines = [f"{self.spec}({params})"]
        if o.verdict == "violation":
            lines += [f"VIOLATION of {o.property}", "", format_trace(self.model, self.steps), ""]
            lines.append(f"✗ {self.explanation}")
        elif o.verdict == "ok":
            names = ", ".join(self.checked)
            if names:
                lines.append(f"ok: every reachable state checked ({names})")
            else:
                lines.append(
                    "ok, but there was nothing to check: no @invariant methods, and "
                    "(for actor specs) no committed() on the node for durability"
                )
        elif o.limit == "interrupted":
            lines.append(f"INCOMPLETE: interrupted {_INCOMPLETE}; nothing is proven")
        else:
            lines.append(
                f"INCOMPLETE: stopped at the {_LIMITS[o.limit or '']} limit {_INCOMPLETE} "
                f"(raise --{o.limit}); nothing is proven"
            )
            if o.limit == "memory":
                lines.append(
                    f"{s.memory / 2**20:,.0f} MiB in use at the stop; "
                    + ("--store fingerprint keeps about 20 bytes a state instead of hundreds"
                       if o.store == "exact" else
                       "smaller parameters or fault budgets give fewer states")
                )
        counts = f"{s.distinct_states:,} distinct states"
        if self.pruned:
            counts += " once stale messages are pruned"
        if s.kept_states != s.distinct_states:
            counts += f" ({s.kept_states:,} kept under symmetry, {s.reduction:,.1f}x reduction)"
        counts += f", {s.transitions:,} transitions"
        if s.skipped:
            counts += f" ({s.skipped:,} more skipped by sleep sets)"
        counts += f", depth {s.depth}"
        if timing:
            counts += f", {s.seconds:.2f} s, {s.states_per_second:,.0f} states/s"
        lines.append(counts)
        if o.checkpoint is not None and o.verdict == "incomplete":
            if o.limit in _LIMITS:  # the same limit would stop it again at once
                lines.append(f"checkpoint saved: `modelcheck resume {o.checkpoint} "
                             f"--{o.limit} ...` carries on, given a larger limit")
            else:
                lines.append(f"checkpoint saved: `modelcheck resume {o.checkpoint}` carries on")
        if o.store == "fingerprint":
            lines.append(
                f"fingerprints: {s.kept_states:,} kept, probability that a collision hid a "
                f"state about {self.collision_probability:.1e}"
            )
        return "\n".join(lines)

    @property
    def collision_probability(self) -> float | None:
        """For a fingerprint search: the chance that two states shared a fingerprint."""
        if self.outcome.store != "fingerprint":
            return None
        return collision_probability(self.outcome.stats.kept_states)
