"""Channel perturbation: replace chosen channels by noise with their own statistics."""

from __future__ import annotations

import numpy as np

from necomimi.data.things_eeg2 import CHANNEL_NAMES


def perturb_channels(eeg: np.ndarray, channels: list[str], rng: np.random.Generator) -> np.ndarray:
    """Replace ``channels`` of every sample by Gaussian noise, as SPEC.md 6.5 does.

    For each sample and listed channel, the signal becomes i.i.d. draws from
    ``N(mu, sigma^2)`` with ``mu`` and ``sigma`` (unbiased) the channel's own mean and
    standard deviation over that sample's time points. Unlike the reference, the
    noise is seeded.

    Parameters
    ----------
    eeg : numpy.ndarray
        (n_samples, 63, n_times), channels in canonical order.
    channels : list of str
        Channel names to perturb (the paper: Pz, PO3, POz, PO4, O1, Oz, O2).
    rng : numpy.random.Generator
        Source of the noise.

    Returns
    -------
    numpy.ndarray
        A perturbed copy, float32.
    """
    unknown = [name for name in channels if name not in CHANNEL_NAMES]
    if unknown:
        raise ValueError(f"unknown channel(s) {unknown}; channels are named as in THINGS-EEG2")
    index = [CHANNEL_NAMES.index(name) for name in channels]
    out = np.array(eeg, dtype=np.float32)
    picked = out[:, index, :].astype(np.float64)
    mean = picked.mean(axis=-1, keepdims=True)
    std = picked.std(axis=-1, ddof=1, keepdims=True)
    out[:, index, :] = mean + std * rng.standard_normal(picked.shape)
    return out
