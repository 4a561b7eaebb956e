"""Summary statistics of the study's tables."""

from __future__ import annotations

import numpy as np
from scipy import stats


def mean_ci(values) -> tuple[float, float]:
    """Mean and half-width of the 95 % Student-t interval over subjects (SPEC.md 7.3).

    ``t(0.975, n - 1) * sd(ddof=1) / sqrt(n)``, as the reference's ``cal_tab*_CI.py``
    scripts compute it (2.262 for ten subjects); NaN half-width for a single value.

    Parameters
    ----------
    values : array-like
        One number per subject.

    Returns
    -------
    mean, half_width : float
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"mean_ci needs a non-empty 1-D sequence of per-subject values, got shape {values.shape}")
    if len(values) < 2:
        return float(values.mean()), float("nan")
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean()), float(half)
