"""mean_ci reproduces the intervals the paper's scripts print (SPEC.md 7.3, 7.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from necomimi.stats import mean_ci

# (per-subject values sub-01..sub-10, printed mean, printed half-width, decimals), SPEC.md 7.5
PRINTED = {
    "Table 1 NERV 2-way": ([95.3, 96.0, 95.9, 95.8, 90.8, 93.6, 94.7, 96.8, 94.4, 94.8], 94.8, 1.2, 1),
    "Table 1 NICE 4-way": ([80.4, 77.4, 83.7, 84.9, 70.3, 81.7, 81.7, 89.2, 76.5, 87.1], 81.3, 4.0, 1),
    "Table 2 NERV top-1": ([25.4, 24.1, 28.6, 30.0, 19.3, 24.9, 26.1, 40.8, 27.0, 32.3], 27.9, 4.1, 1),
    "Table 2 ATM-S top-5": ([54.1, 52.6, 62.9, 57.8, 41.9, 53.0, 57.2, 71.1, 53.9, 60.9], 56.5, 5.5, 1),
    "Table 3 NERV": ([445, 436, 432, 456, 438, 466, 410, 437, 433, 444], 439.7, 10.7, 1),
    "Table 3 MUSE": ([438, 456, 434, 416, 426, 463, 443, 437, 420, 468], 440.1, 12.6, 1),
    "Table 3 Nervformer": ([432, 457, 429, 454, 475, 463, 404, 438, 427, 410], 438.9, 16.5, 1),
    "Table 4 NERV Two-Stage": ([169.5, 189.4, 167.2, 175.8, 191.6, 198.3, 187.2, 176.2, 208.1, 174.4], 183.77, 9.52, 2),
    "Table 4 NICE Two-Stage": ([204.3, 193.2, 264.9, 198.9, 199.1, 272.0, 235.3, 209.7, 213.1, 196.1],
                               218.66, 20.66, 2),
    "Table 5 NERV One-Stage": ([0.1890, 0.1954, 0.1878, 0.1790, 0.1622, 0.1556, 0.1716, 0.1809, 0.2037, 0.1867],
                               0.1812, 0.0105, 4),
    "Table 5 MUSE Two-Stage": ([0.2586, 0.2108, 0.2249, 0.2212, 0.2174, 0.2131, 0.2486, 0.2185, 0.2047, 0.2478],
                               0.2266, 0.0132, 4),
}


@pytest.mark.parametrize("row", PRINTED)
def test_reproduces_the_printed_mean_and_interval(row):
    values, mean, half, decimals = PRINTED[row]
    computed_mean, computed_half = mean_ci(values)
    tolerance = 0.5 * 10**-decimals + 1e-9  # the printed values are rounded
    assert abs(computed_mean - mean) <= tolerance, (computed_mean, mean)
    assert abs(computed_half - half) <= tolerance, (computed_half, half)


def test_is_the_student_t_interval():
    values = np.array([1.0, 2.0, 4.0, 7.0])
    mean, half = mean_ci(values)
    assert mean == 3.5
    assert half == pytest.approx(3.182446 * values.std(ddof=1) / 2, rel=1e-6)  # t(0.975, 3)
    single_mean, single_half = mean_ci([2.5])
    assert single_mean == 2.5 and math.isnan(single_half)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        mean_ci([])
