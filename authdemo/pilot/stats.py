"""Confidence intervals for the pilot report: the Wilson score interval for one
proportion and Newcombe's hybrid score interval for the difference of two.

Plain arithmetic (no statistics library is a dependency, and this is not worth one):

- Wilson, E. B. (1927). "Probable inference, the law of succession, and statistical
  inference". JASA 22(158): 209-212. Good coverage at small n and near 0 or 1, where the
  textbook normal interval fails (and can leave [0, 1]).
- Newcombe, R. G. (1998). "Interval estimation for the difference between independent
  proportions: comparison of eleven methods". Statistics in Medicine 17: 873-890, method
  10 (the square-and-add of the two Wilson intervals).

tests/unit/test_pilot_stats.py checks both against the values those papers publish.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: The 97.5th percentile of the standard normal distribution: a two-sided 95 % interval.
Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Interval:
    estimate: float
    low: float
    high: float


def wilson(successes: int, n: int, *, z: float = Z95) -> Interval | None:
    """The Wilson score interval for successes/n; None when n is 0 (nothing to say)."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = (z / (1 + z2 / n)) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def newcombe(x1: int, n1: int, x2: int, n2: int, *, z: float = Z95) -> Interval | None:
    """Newcombe's hybrid score interval for x1/n1 - x2/n2; None when either n is 0."""
    first, second = wilson(x1, n1, z=z), wilson(x2, n2, z=z)
    if first is None or second is None:
        return None
    p1, p2 = first.estimate, second.estimate
    delta = p1 - p2
    low = delta - math.sqrt((p1 - first.low) ** 2 + (second.high - p2) ** 2)
    high = delta + math.sqrt((first.high - p1) ** 2 + (p2 - second.low) ** 2)
    return Interval(delta, low, high)
