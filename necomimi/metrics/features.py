"""Metrics in a feature space: two-way identification and the Fréchet distance.

Both take features already extracted by some network (CLIP, Inception, AlexNet, ...),
one row per image, generated image ``i`` paired with ground-truth image ``i``.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg


def two_way_identification(generated: np.ndarray, ground_truth: np.ndarray) -> float:
    """Two-way identification accuracy, as MindEye and ATM report it (PAPER.md 2.1).

    For each generated image ``i``, the fraction of other ground-truth images ``j``
    for which its features correlate more with its own ground truth than with ``j``'s
    (Pearson correlation of the feature vectors), averaged over images. 0.5 is chance.

    Parameters
    ----------
    generated, ground_truth : numpy.ndarray
        (n, d) features, n >= 2.

    Returns
    -------
    float
        Accuracy in [0, 1].
    """
    generated, ground_truth = np.asarray(generated, float), np.asarray(ground_truth, float)
    if generated.shape != ground_truth.shape or generated.ndim != 2 or len(generated) < 2:
        raise ValueError(
            "expected two (n, d) feature arrays of the same shape with n >= 2, "
            f"got {generated.shape} and {ground_truth.shape}"
        )
    n = len(generated)
    correlation = np.corrcoef(generated, ground_truth)[:n, n:]  # (generated i, ground truth j)
    own = np.diag(correlation)
    wins = (correlation < own[:, None]).sum(axis=1)  # the diagonal never counts: not < itself
    return float(wins.sum() / (n * (n - 1)))


def correlation_distance(generated: np.ndarray, ground_truth: np.ndarray) -> float:
    """Mean correlation distance of each generated image to its own ground truth.

    ``1 - r`` of the feature vectors of image ``i`` and ground truth ``i`` (Pearson
    ``r``), averaged over images: MindEye's EffNet-B and SwAV metrics (PAPER.md 2.1),
    lower is better, 0 for identical features.

    Parameters
    ----------
    generated, ground_truth : numpy.ndarray
        (n, d) features, n >= 1, d >= 2.
    """
    generated, ground_truth = np.asarray(generated, float), np.asarray(ground_truth, float)
    if generated.shape != ground_truth.shape or generated.ndim != 2 or generated.shape[1] < 2:
        raise ValueError(
            "expected two (n, d) feature arrays of the same shape with d >= 2, "
            f"got {generated.shape} and {ground_truth.shape}"
        )
    a = generated - generated.mean(axis=1, keepdims=True)
    b = ground_truth - ground_truth.mean(axis=1, keepdims=True)
    r = (a * b).sum(axis=1) / np.sqrt((a**2).sum(axis=1) * (b**2).sum(axis=1))
    return float(np.mean(1 - r))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of features (the FID formula).

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with unbiased covariances,
    as pytorch-fid computes it (Heusel et al. 2017); applied to InceptionV3 pool
    features it is the FID. Sets of different sizes give biased, incomparable values:
    compare groups of equal size (the reference mixed 200 and 1000, SPEC.md 7.1).

    Parameters
    ----------
    features_a, features_b : numpy.ndarray
        (n_a, d) and (n_b, d) features, each with at least two rows.
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"expected (n, d) feature arrays with the same d and n >= 2, got {a.shape} and {b.shape}")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root = linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():  # singular product: regularise as pytorch-fid does
        offset = np.eye(len(cov_a)) * 1e-6
        root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    if np.iscomplexobj(root):
        if not np.allclose(np.diagonal(root).imag, 0, atol=1e-3):  # as pytorch-fid: a numerical failure
            raise ValueError(
                f"Fréchet distance: the matrix square root has an imaginary component of {np.abs(root.imag).max():.3g}"
            )
        root = root.real
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root))
