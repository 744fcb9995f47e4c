"""Observed outcomes of a group of patients, with intervals: the arithmetic behind the clinic's
outcome dashboards.

References
----------
Wilson EB. Probable inference, the law of succession, and statistical inference. J Am Stat
Assoc 1927;22:209-212 (the score interval for a proportion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from equipoise.errors import MeasureError

Z95 = 1.959963984540054          # the standard normal's 97.5th percentile


@dataclass(frozen=True)
class Proportion:
    """``events`` of ``n``, with its Wilson score interval."""

    events: int
    n: int
    low: float
    high: float

    @property
    def share(self) -> float:
        return self.events / self.n


def wilson(events: int, n: int, z: float = Z95) -> Proportion:
    """The Wilson score interval for ``events`` of ``n`` (95% by default)."""
    if n <= 0 or not 0 <= events <= n:
        raise MeasureError(f"a proportion needs 0 <= events <= n and n > 0, got {events}/{n}")
    p = events / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At 0 and n events the bounds are exactly 0 and 1; rounding would leave a speck.
    low = 0.0 if events == 0 else max(0.0, centre - half)
    high = 1.0 if events == n else min(1.0, centre + half)
    return Proportion(events, n, low, high)
