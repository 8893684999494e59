"""modelcheck: an exhaustive model checker for replication protocols."""

from modelcheck.errors import SpecError
from modelcheck.engine import Outcome, Stats, explore
from modelcheck.model import Model, invariant, recoverable

__all__ = ["Model", "Outcome", "SpecError", "Stats", "explore", "invariant", "recoverable"]
