"""Load one raw THINGS-EEG2 recording, check it, and find its events."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np

from necomimi.data.things_eeg2 import CHANNEL_NAMES, STIM_CHANNEL, TARGET_EVENT
from necomimi.io import load_pickled_npy

_REQUIRED_KEYS = ("raw_eeg_data", "ch_names", "ch_types", "sfreq")


@dataclass
class RawRecording:
    """A raw recording as an MNE object, with its stimulus events (targets dropped)."""

    path: Path
    raw: mne.io.RawArray  # all channels of the file, in the file's order
    eeg_picks: list[int]  # indices of the 63 canonical channels, in canonical order
    events: np.ndarray  # (n_events, 3) MNE events, targets (99999) removed


def read_raw_recording(path: str | Path) -> RawRecording:
    """Read ``raw_eeg_<partition>.npy`` and find its events as the reference does.

    The 63 EEG channels may come in any order in the file; they are picked by name in
    the canonical order of SPEC.md 1.2. Events come from ``mne.find_events`` on the
    ``stim`` channel and the target trials (99999) are dropped (SPEC.md 2, steps 1-3).

    Raises
    ------
    FileNotFoundError, ValueError
        For a missing, unreadable or malformed file, a missing or misspelt channel
        (all are listed), no ``stim`` channel, no events, or NaN/Inf values. Every
        message names the file.
    """
    path = Path(path)
    content = load_pickled_npy(path)
    if not isinstance(content, dict):
        raise ValueError(f"{path}: expected a pickled dict, found {type(content).__name__}")
    missing = [key for key in _REQUIRED_KEYS if key not in content]
    if missing:
        raise ValueError(f"{path}: missing key(s) {missing}; expected {list(_REQUIRED_KEYS)}")
    data = content["raw_eeg_data"]
    ch_names = [str(name) for name in content["ch_names"]]
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[0] != len(ch_names):
        shape = getattr(data, "shape", None)
        raise ValueError(f"{path}: raw_eeg_data must be (n_channels={len(ch_names)}, n_samples), got shape {shape}")
    if STIM_CHANNEL not in ch_names:
        raise ValueError(f"{path}: no '{STIM_CHANNEL}' channel in ch_names, so no events can be found")
    absent = [name for name in CHANNEL_NAMES if name not in ch_names]
    if absent:
        unexpected = [n for n in ch_names if n not in CHANNEL_NAMES and n != STIM_CHANNEL]
        raise ValueError(
            f"{path}: missing EEG channel(s) {absent}"
            + (f"; channels not in the THINGS-EEG2 montage: {unexpected}" if unexpected else "")
        )
    data = np.asarray(data, dtype=np.float64)
    bad = ~np.isfinite(data)
    if bad.any():
        channels = sorted({ch_names[i] for i in np.flatnonzero(bad.any(axis=1))})
        raise ValueError(f"{path}: raw_eeg_data holds NaN or Inf values (channels {channels})")
    info = mne.create_info(ch_names, float(content["sfreq"]), list(content["ch_types"]))
    raw = mne.io.RawArray(data, info, verbose="error")
    events = mne.find_events(raw, stim_channel=STIM_CHANNEL, verbose="error")
    events = events[events[:, 2] != TARGET_EVENT]
    if len(events) == 0:
        raise ValueError(f"{path}: no stimulus events found on the '{STIM_CHANNEL}' channel")
    picks = [ch_names.index(name) for name in CHANNEL_NAMES]
    return RawRecording(path=path, raw=raw, eeg_picks=picks, events=events)
