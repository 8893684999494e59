"""The search engine: breadth-first exploration and what it needs at scale.

``bfs`` is the level-synchronous search; the other modules are its parts
(fingerprints, the visited-state stores, the frontier, checkpoints).
"""

from modelcheck.engine.bfs import Outcome, Progress, Stats, explore

__all__ = ["Outcome", "Progress", "Stats", "explore"]
