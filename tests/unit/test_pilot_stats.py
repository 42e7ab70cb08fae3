"""The pilot report's intervals against the values their authors published.

Wilson: Newcombe, R. G. (1998), "Two-sided confidence intervals for the single proportion:
comparison of seven methods", Statistics in Medicine 17: 857-872, Table I, method 3 (the
score interval). Difference: Newcombe (1998), "Interval estimation for the difference
between independent proportions: comparison of eleven methods", Statistics in Medicine 17:
873-890, Table II, method 10. Both to the four decimals printed there.
"""

from __future__ import annotations

import pytest

from authdemo.pilot.stats import newcombe, wilson


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_the_published_values(
    successes: int, n: int, low: float, high: float
) -> None:
    interval = wilson(successes, n)
    assert interval is not None
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)
    assert interval.estimate == successes / n


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
    ],
)
def test_newcombe_difference_interval_matches_the_published_values(
    x1: int, n1: int, x2: int, n2: int, low: float, high: float
) -> None:
    interval = newcombe(x1, n1, x2, n2)
    assert interval is not None
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_no_interval_without_a_sample() -> None:
    assert wilson(0, 0) is None
    assert newcombe(3, 4, 0, 0) is None


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson(5, 4)
