"""Multivariate noise normalisation (MVNN), vectorised.

The reference (SPEC.md section 2, "MVNN") estimates, for every image condition, the
channel covariance with ``sklearn.discriminant_analysis._cov(X, shrinkage='auto')``,
averages them, and whitens the session by the inverse matrix square root of the
average. It loops in Python over 16540 conditions and their repetitions or time
points. Here the same estimator is computed for whole batches of matrices at once.

References
----------
.. [1] Guggenmos, M., Sterzer, P., & Cichy, R. M. (2018). Multivariate pattern
       analysis for MEG: A comparison of dissimilarity measures. NeuroImage, 173,
       434-447.
.. [2] Ledoit, O., & Wolf, M. (2004). A well-conditioned estimator for
       large-dimensional covariance matrices. Journal of Multivariate Analysis, 88(2),
       365-411.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

#: Covariance matrices estimated at a time (bounds the batch's memory to ~100 MB).
CHUNK_MATRICES = 2048
#: Conditions whitened at a time.
CHUNK_CONDITIONS = 64
_EPS = np.finfo(np.float64).eps


def shrunk_covariances(samples: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf covariances of standardised data, rescaled, for a batch of matrices.

    Computes what ``sklearn.discriminant_analysis._cov(X, shrinkage='auto')`` computes
    for each ``X = samples[..., :, :]`` of shape (n_samples, n_features): standardise
    every feature (``StandardScaler``), take the Ledoit-Wolf shrunk covariance
    (``sklearn.covariance.ledoit_wolf``), and scale it back by the features' standard
    deviations.

    Parameters
    ----------
    samples : numpy.ndarray
        (..., n_samples, n_features) float64.

    Returns
    -------
    numpy.ndarray
        (..., n_features, n_features) covariance matrices.
    """
    n_samples, n_features = samples.shape[-2:]
    mean = samples.mean(axis=-2, keepdims=True)
    centred = samples - mean
    variance = np.mean(centred**2, axis=-2)
    # StandardScaler leaves (near-)constant features unscaled (sklearn's
    # _is_constant_feature bound, then _handle_zeros_in_scale).
    constant = variance <= n_samples * _EPS * variance + (n_samples * mean[..., 0, :] * _EPS) ** 2
    scale = np.where(constant, 1.0, np.sqrt(variance))
    z = centred / scale[..., None, :]
    z -= z.mean(axis=-2, keepdims=True)  # ledoit_wolf centres again
    emp_cov = np.swapaxes(z, -1, -2) @ z / n_samples
    z2 = z**2
    trace_terms = z2.sum(axis=-2) / n_samples
    mu = trace_terms.sum(axis=-1) / n_features
    beta_ = np.sum(z2.sum(axis=-1) ** 2, axis=-1)  # sum of the entries of z2.T @ z2
    delta_ = np.sum(emp_cov**2, axis=(-2, -1))  # sum of squared entries of z.T @ z / n^2
    beta = (beta_ / n_samples - delta_) / (n_features * n_samples)
    delta = (delta_ - 2.0 * mu * trace_terms.sum(axis=-1) + n_features * mu**2) / n_features
    beta = np.minimum(beta, delta)
    shrinkage = np.divide(beta, delta, out=np.zeros_like(beta), where=beta != 0)
    shrunk = (1.0 - shrinkage)[..., None, None] * emp_cov
    shrunk += (shrinkage * mu)[..., None, None] * np.eye(n_features)
    return scale[..., :, None] * shrunk * scale[..., None, :]


def session_covariance(data: np.ndarray, mvnn_dim: str) -> np.ndarray:
    """Average noise covariance of one session's partition.

    Parameters
    ----------
    data : numpy.ndarray
        (n_conditions, n_reps, n_channels, n_times) epochs; estimated in float64
        whatever their dtype.
    mvnn_dim : {"epochs", "time"}
        ``"epochs"``: for every repetition, the covariance over its time points,
        averaged over repetitions. ``"time"``: for every time point, the covariance
        over repetitions, averaged over time. Either way then averaged over
        conditions (all conditions have the same number of repetitions).

    Returns
    -------
    numpy.ndarray
        (n_channels, n_channels) covariance.
    """
    if mvnn_dim not in ("epochs", "time"):
        raise ValueError(f"mvnn_dim must be 'epochs' or 'time', got {mvnn_dim!r}")
    n_reps, n_channels, n_times = data.shape[1:]
    per_condition = n_reps if mvnn_dim == "epochs" else n_times
    step = max(1, CHUNK_MATRICES // per_condition)
    total = np.zeros((n_channels, n_channels))
    for start in range(0, len(data), step):
        chunk = np.asarray(data[start : start + step], dtype=np.float64)
        if mvnn_dim == "epochs":
            samples = np.swapaxes(chunk, -1, -2)  # (cond, rep, time, channel)
        else:
            samples = chunk.transpose(0, 3, 1, 2)  # (cond, time, rep, channel)
        total += shrunk_covariances(samples).mean(axis=1).sum(axis=0)
    return total / len(data)


def whitening_matrix(covariance: np.ndarray) -> np.ndarray:
    """Inverse matrix square root of a symmetric positive definite covariance.

    Equal to ``scipy.linalg.fractional_matrix_power(covariance, -0.5)`` (the
    reference) for such matrices, computed from the eigendecomposition.
    """
    eigenvalues, eigenvectors = linalg.eigh(covariance)
    if eigenvalues.min() <= 0:
        raise ValueError(
            f"noise covariance is not positive definite (smallest eigenvalue {eigenvalues.min():.3g})"
        )
    return (eigenvectors / np.sqrt(eigenvalues)) @ eigenvectors.T


def whitened_chunks(data: np.ndarray, whitening: np.ndarray):
    """Apply the whitening to every epoch, ``X <- (X.T @ W).T``, in float32 chunks.

    Parameters
    ----------
    data : numpy.ndarray
        (n_conditions, n_reps, n_channels, n_times).
    whitening : numpy.ndarray
        (n_channels, n_channels) from :func:`whitening_matrix`.

    Yields
    ------
    numpy.ndarray
        Consecutive blocks of conditions, float32.
    """
    for start in range(0, len(data), CHUNK_CONDITIONS):
        yield (whitening.T @ data[start : start + CHUNK_CONDITIONS]).astype(np.float32)
