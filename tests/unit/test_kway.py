"""k-way accuracy equals its exact expectation, checked by enumeration and sampling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from necomimi.evaluation import kway_accuracy, kway_accuracy_monte_carlo


def _brute_force(similarity, k, top):
    n = len(similarity)
    total = 0.0
    for i in range(n):
        others = [j for j in range(n) if j != i]
        outcomes = [
            sum(similarity[i, j] >= similarity[i, i] for j in chosen) < top
            for chosen in itertools.combinations(others, k - 1)
        ]
        total += np.mean(outcomes)
    return total / n


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("k", "top"), [(2, 1), (3, 1), (4, 1), (4, 2), (5, 3), (7, 1), (7, 5)])
def test_matches_brute_force_enumeration(seed, k, top):
    rng = np.random.default_rng(seed)
    similarity = rng.integers(0, 4, size=(7, 7)).astype(float)  # many ties on purpose
    assert kway_accuracy(similarity, k, top) == pytest.approx(_brute_force(similarity, k, top), abs=1e-12)


def test_known_answers():
    perfect = np.eye(5)
    assert kway_accuracy(perfect, 5) == 1.0
    assert kway_accuracy(-perfect, 2) == 0.0
    assert kway_accuracy(np.zeros((5, 5)), 2) == 0.0  # ties count against the true pair
    assert kway_accuracy(np.zeros((5, 5)), 5, top=5) == 1.0


def test_monte_carlo_agrees_within_its_error():
    rng = np.random.default_rng(0)
    similarity = rng.standard_normal((40, 40)) + 1.5 * np.eye(40)
    for k, top in [(2, 1), (10, 1), (20, 5)]:
        exact = kway_accuracy(similarity, k, top)
        mean, error = kway_accuracy_monte_carlo(similarity, k, top, n_draws=400, seed=1)
        assert abs(mean - exact) < 4 * error + 1e-9, (k, top, mean, exact, error)


@pytest.mark.parametrize(("k", "top", "message"), [(1, 1, "k must"), (6, 1, "k must"), (3, 4, "top must")])
def test_bad_arguments(k, top, message):
    with pytest.raises(ValueError, match=message):
        kway_accuracy(np.eye(5), k, top)
