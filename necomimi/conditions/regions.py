"""Named channel sets: scalp regions of EEG 10-10 names and of CTF MEG sensors.

The five regions are those of the reference code's regional ablation (SPEC.md 1.5),
which partition THINGS-EEG2's 63 channels; here they follow from the channel names, so
the same region names select sensors on THINGS-MEG (whose CTF names carry the region
as their third letter, as the THINGS-MEG code groups them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from necomimi.data.things_eeg2 import VISUAL_CORTEX_CHANNELS
from necomimi.data.things_meg import is_sensor

#: The scalp regions, in front-to-back order.
REGIONS: tuple[str, ...] = ("frontal", "central", "temporal", "parietal", "occipital")

#: 10-10 electrode-name prefix (the letters before the number or ``z``) -> region.
#: Fp, AF and F are frontal; FC and C central; FT, T and TP temporal; CP and P
#: parietal; PO, O and I occipital (SPEC.md 1.5's table, by rule).
EEG_PREFIX_REGION: dict[str, str] = {
    "Fp": "frontal", "AF": "frontal", "F": "frontal",
    "FC": "central", "C": "central",
    "FT": "temporal", "T": "temporal", "TP": "temporal",
    "CP": "parietal", "P": "parietal",
    "PO": "occipital", "O": "occipital", "I": "occipital",
}  # fmt: skip

#: CTF sensor names' third letter -> region (the second is the side: L, R or Z, midline).
MEG_LETTER_REGION: dict[str, str] = {"F": "frontal", "C": "central", "T": "temporal", "P": "parietal", "O": "occipital"}

_EEG_NAME = re.compile(r"^(?P<prefix>[A-Z][a-z]?[A-Z]?)(?:[0-9]+|z)$")


def channel_region(name: str) -> str | None:
    """The region of one channel name, or None for a name outside every region.

    Parameters
    ----------
    name : str
        A 10-10 EEG name (``PO7``, ``Oz``, ``Fp1``) or a CTF MEG sensor (``MLO11-1609``).

    Examples
    --------
    >>> channel_region("PO7"), channel_region("FCz"), channel_region("MRT21-1609")
    ('occipital', 'central', 'temporal')
    """
    if is_sensor(name):
        return MEG_LETTER_REGION.get(name[2])
    match = _EEG_NAME.match(name)
    return EEG_PREFIX_REGION.get(match["prefix"]) if match else None


def region_channels(region: str, ch_names: Sequence[str]) -> list[str]:
    """The channels of ``ch_names`` in ``region``, in the data's order."""
    return [name for name in ch_names if channel_region(name) == region]


def _region_set(region: str) -> Callable[[Sequence[str]], list[str]]:
    return lambda ch_names: region_channels(region, ch_names)


#: Named channel sets a condition may give instead of a list: name -> the set's
#: channels among a recording's ``ch_names``. ``visual_cortex`` is the paper's seven
#: EEG channels (SPEC.md 6.5); the regions work on EEG and MEG alike.
CHANNEL_SETS: dict[str, Callable[[Sequence[str]], list[str]]] = {
    "visual_cortex": lambda ch_names: [name for name in VISUAL_CORTEX_CHANNELS if name in ch_names],
    **{region: _region_set(region) for region in REGIONS},
}


def resolve_channels(channels: str | Sequence[str], ch_names: Sequence[str]) -> list[str]:
    """The channels a condition names, as names of ``ch_names``.

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
