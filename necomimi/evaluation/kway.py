"""k-way zero-shot accuracy: its exact expectation over distractor draws.

The reference (SPEC.md 5) scores each test image against ``k - 1`` distractors drawn at
random from the other test images, once, unseeded. The accuracy is then a random
variable; its expectation over all draws has a closed form, computed here. A seeded
Monte Carlo estimate with many draws is provided as a check.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import hypergeom


def _validate(similarity: np.ndarray, k: int, top: int) -> np.ndarray:
    similarity = np.asarray(similarity, dtype=np.float64)
    if similarity.ndim != 2 or similarity.shape[0] != similarity.shape[1]:
        raise ValueError(f"similarity must be a square (queries x candidates) matrix, got shape {similarity.shape}")
    n = similarity.shape[0]
    if not 2 <= k <= n:
        raise ValueError(f"k must lie in 2..{n} (the number of candidates), got {k}")
    if not 1 <= top <= k:
        raise ValueError(f"top must lie in 1..k={k}, got {top}")
    return similarity


def kway_accuracy(similarity: np.ndarray, k: int, top: int = 1) -> float:
    """Expected k-way top-``top`` accuracy over all draws of distractors.

    For query ``i`` (row ``i``; its true candidate is column ``i``), the ``k - 1``
    distractors are a uniform draw without replacement from the ``n - 1`` other
    candidates. The query is correct when fewer than ``top`` distractors score at
    least as high as the true candidate (ties count against it, as in the
    reference, where the true class sits last and ``argmax`` picks the first
    maximum). With ``h_i`` other candidates scoring at least ``s_ii``, the number of
    them drawn is hypergeometric, so the probability is
    ``P[X <= top - 1], X ~ Hypergeom(n - 1, h_i, k - 1)``; for top-1 this is
    ``C(c_i, k - 1) / C(n - 1, k - 1)`` with ``c_i = n - 1 - h_i``.

    Parameters
    ----------
    similarity : numpy.ndarray
        (n, n) scores of queries (rows) against candidates (columns); the diagonal
        holds the true pairs.
    k : int
        Candidates per trial, the true one included (2 <= k <= n).
    top : int
        Correct if the true candidate is among the ``top`` best.

    Returns
    -------
    float
        Mean over queries of the probability of being correct.
    """
    similarity = _validate(similarity, k, top)
    n = similarity.shape[0]
    true = np.diag(similarity)[:, None]
    higher = (similarity >= true).sum(axis=1) - 1  # other candidates scoring >= the true one
    return float(np.mean(hypergeom.cdf(top - 1, n - 1, higher, k - 1)))


def kway_accuracy_monte_carlo(
    similarity: np.ndarray, k: int, top: int = 1, *, n_draws: int, seed: int
) -> tuple[float, float]:
    """Seeded Monte Carlo estimate of :func:`kway_accuracy`, with its standard error.

    Each draw picks ``k - 1`` distractors per query as the reference does and scores
    the query; the estimate is the mean over ``n_draws`` draws and all queries.

    Returns
    -------
    (mean, standard_error)
    """
    similarity = _validate(similarity, k, top)
    n = similarity.shape[0]
    rng = np.random.default_rng(seed)
    true = np.diag(similarity)
    others = np.array([np.delete(np.arange(n), i) for i in range(n)])  # (n, n-1)
    per_draw = np.empty(n_draws)
    for draw in range(n_draws):
        picks = rng.permuted(np.tile(np.arange(n - 1), (n, 1)), axis=1)[:, : k - 1]
        distractors = similarity[np.arange(n)[:, None], others[np.arange(n)[:, None], picks]]
        per_draw[draw] = np.mean((distractors >= true[:, None]).sum(axis=1) < top)
    return float(per_draw.mean()), float(per_draw.std(ddof=1) / np.sqrt(n_draws))
