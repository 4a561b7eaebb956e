"""Apply a condition to EEG or MEG: replace its channels and samples by noise (or crop).

This is the one definition of "perturb" in necomimi: the features of every condition
are made with it (:mod:`necomimi.generation.features`), and retrieval and generation
read those features.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from necomimi.conditions.condition import Condition, as_condition
from necomimi.data.things_eeg2 import CHANNEL_NAMES


def perturb(
    eeg: np.ndarray,
    condition: Condition | str | Sequence[str],
    rng: np.random.Generator,
    ch_names: Sequence[str] = CHANNEL_NAMES,
    times: Sequence[float] | None = None,
) -> np.ndarray:
    """Apply ``condition`` to every sample of ``eeg``, as SPEC.md 6.5 does for channels.

    For each sample and touched channel, the replaced time points (all of them, or
    those inside or outside the condition's window) become i.i.d. draws from
    ``N(mu, sigma^2)``, ``mu`` and ``sigma`` (unbiased) being that channel's own mean
    and standard deviation over the replaced points of that sample. A ``crop`` sets the
    points outside the window to the channel's mean inside it instead, drawing nothing.
    Unlike the reference, the noise is seeded.

    Parameters
    ----------
    eeg : numpy.ndarray
        (n_samples, n_channels, n_times), channels in the order of ``ch_names``.
    condition : Condition, str or sequence of str
        The condition; a list of channel names (the paper: Pz, PO3, POz, PO4, O1, Oz,
        O2) or a channel set's name stands for noise on those channels over the epoch.
    rng : numpy.random.Generator
        Source of the noise.
    ch_names : sequence of str
        The channels of ``eeg``, in order: THINGS-EEG2's 63 by default, a THINGS-MEG
        participant's sensors for MEG.
    times : sequence of float, optional
        The epoch's times, seconds (the preprocessed ``info.json``'s ``times``); needed
        by a window condition.

    Returns
    -------
    numpy.ndarray
        A perturbed copy, float32 (an unchanged copy for the reference condition).
    """
    condition = as_condition(condition)
    ch_names = list(ch_names)
    if eeg.shape[1] != len(ch_names):
        raise ValueError(f"{eeg.shape[1]} channels in the data but {len(ch_names)} channel names")
    if times is not None and eeg.shape[2] != len(times):
        raise ValueError(f"{eeg.shape[2]} time points in the data but {len(times)} times")
    out = np.array(eeg, dtype=np.float32)
    if condition.is_reference:
        return out
    channels = [ch_names.index(name) for name in condition.channel_names(ch_names)]
    replaced = condition.replaced_times(times)
    points = np.arange(eeg.shape[2])[replaced]
    block = out[:, channels][:, :, points].astype(np.float64)
    if condition.action == "crop":
        kept = out[:, channels][:, :, np.setdiff1d(np.arange(eeg.shape[2]), points)].astype(np.float64)
        values = np.broadcast_to(kept.mean(axis=-1, keepdims=True), block.shape)
    else:
        mean = block.mean(axis=-1, keepdims=True)
        std = block.std(axis=-1, ddof=1, keepdims=True)
        values = mean + std * rng.standard_normal(block.shape)
    out[np.ix_(np.arange(len(out)), channels, points)] = values
    return out
