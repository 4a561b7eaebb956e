"""Channel perturbation: replace chosen channels by noise with their own statistics."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from necomimi.data.things_eeg2 import CHANNEL_NAMES, VISUAL_CORTEX_CHANNELS
from necomimi.data.things_meg import occipital_sensors

#: Named channel sets a condition may give instead of a list: name -> the set's
#: channels among a recording's ``ch_names``. ``visual_cortex`` is the paper's seven
#: EEG channels (SPEC.md 6.5); ``occipital`` the MEG sensors of the occipital region
#: (CTF names whose third letter is ``O``, as THINGS-MEG's own code groups them).
CHANNEL_SETS: dict[str, Callable[[Sequence[str]], list[str]]] = {
    "visual_cortex": lambda ch_names: [name for name in VISUAL_CORTEX_CHANNELS if name in ch_names],
    "occipital": occipital_sensors,
}


def resolve_channels(channels: str | Sequence[str], ch_names: Sequence[str]) -> list[str]:
    """The channels a condition replaces by noise, as names of ``ch_names``.

    Parameters
    ----------
    channels : str or sequence of str
        A list of channel names, or the name of a set in :data:`CHANNEL_SETS`.
    ch_names : sequence of str
        The recording's channels, in array order.

    Raises
    ------
    ValueError
        For an unknown set, a set with no channel in ``ch_names``, or a listed channel
        that is not in ``ch_names``; the message names them.
    """
    if isinstance(channels, str):
        if channels not in CHANNEL_SETS:
            raise ValueError(
                f"unknown channel set {channels!r}; expected a list of channels or one of {sorted(CHANNEL_SETS)}"
            )
        resolved = CHANNEL_SETS[channels](list(ch_names))
        if not resolved:
            raise ValueError(f"channel set {channels!r} has no channel among the data's {len(ch_names)} channels")
        return resolved
    unknown = [name for name in channels if name not in ch_names]
    if unknown:
        raise ValueError(f"unknown channel(s) {unknown}; the data's channels are {', '.join(ch_names[:8])}, ...")
    return list(channels)


def perturb_channels(
    eeg: np.ndarray, channels: str | Sequence[str], rng: np.random.Generator, ch_names: Sequence[str] = CHANNEL_NAMES
) -> np.ndarray:
    """Replace ``channels`` of every sample by Gaussian noise, as SPEC.md 6.5 does.

    For each sample and listed channel, the signal becomes i.i.d. draws from
    ``N(mu, sigma^2)`` with ``mu`` and ``sigma`` (unbiased) the channel's own mean and
    standard deviation over that sample's time points. Unlike the reference, the
    noise is seeded.

    Parameters
    ----------
    eeg : numpy.ndarray
        (n_samples, n_channels, n_times), channels in the order of ``ch_names``.
    channels : str or sequence of str
        Channel names to perturb (the paper: Pz, PO3, POz, PO4, O1, Oz, O2), or a
        named set of :data:`CHANNEL_SETS`.
    rng : numpy.random.Generator
        Source of the noise.
    ch_names : sequence of str
        The channels of ``eeg``, in order: THINGS-EEG2's 63 by default, a THINGS-MEG
        participant's sensors for MEG.

    Returns
    -------
    numpy.ndarray
        A perturbed copy, float32.
    """
    ch_names = list(ch_names)
    if eeg.shape[1] != len(ch_names):
        raise ValueError(f"{eeg.shape[1]} channels in the data but {len(ch_names)} channel names")
    index = [ch_names.index(name) for name in resolve_channels(channels, ch_names)]
    out = np.array(eeg, dtype=np.float32)
    picked = out[:, index, :].astype(np.float64)
    mean = picked.mean(axis=-1, keepdims=True)
    std = picked.std(axis=-1, ddof=1, keepdims=True)
    out[:, index, :] = mean + std * rng.standard_normal(picked.shape)
    return out
