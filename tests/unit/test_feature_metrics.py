"""Two-way identification and the Fréchet distance on known cases."""

from __future__ import annotations

import numpy as np
import pytest

from necomimi.metrics import frechet_distance, two_way_identification


def test_two_way_identification_counts_pairwise_wins():
    rng = np.random.default_rng(0)
    truth = rng.standard_normal((30, 50))
    assert two_way_identification(truth, truth) == 1.0
    assert two_way_identification(truth + 0.1 * rng.standard_normal(truth.shape), truth) == 1.0
    assert two_way_identification(-truth, truth) == 0.0  # anti-correlated with its own truth
    unrelated = [two_way_identification(rng.standard_normal((30, 50)), truth) for _ in range(20)]
    assert abs(np.mean(unrelated) - 0.5) < 0.03  # chance
    # a hand-worked case: generated 0 is nearer truth 1 than its own truth 0
    truth3 = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    generated = np.array([[0.2, 1.0, 0.0], [0.0, 1.0, 0.1], [0.0, 0.1, 1.0]])
    assert two_way_identification(generated, truth3) == pytest.approx(5 / 6)
    with pytest.raises(ValueError, match="same shape"):
        two_way_identification(truth[:3], truth[:4])


def test_frechet_distance_of_gaussians():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # equal covariances: the distance is the squared distance of the means
    assert frechet_distance(a, a + [3.0, 0.0, 4.0]) == pytest.approx(25.0, rel=1e-6)
    # N(0, I) vs N(0, 4I) in d dims: tr(I + 4I - 2 * 2I) = d
    b = 2 * rng.standard_normal((4000, 3))
    assert frechet_distance(a, b) == pytest.approx(3.0, rel=0.1)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)
    with pytest.raises(ValueError, match="same d"):
        frechet_distance(a, a[:, :2])


def test_correlation_distance_matches_scipy_per_image():
    from scipy.spatial import distance

    from necomimi.metrics import correlation_distance

    rng = np.random.default_rng(1)
    truth = rng.standard_normal((5, 40))
    generated = truth + rng.standard_normal(truth.shape)
    expected = np.mean([distance.correlation(g, t) for g, t in zip(generated, truth, strict=True)])
    assert correlation_distance(generated, truth) == pytest.approx(expected)
    assert correlation_distance(truth, truth) == pytest.approx(0.0, abs=1e-12)
    assert correlation_distance(-truth, truth) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="same shape"):
        correlation_distance(truth[:2], truth)
