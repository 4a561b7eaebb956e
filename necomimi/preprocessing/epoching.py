"""Epoch one recording through MNE, in bounded memory, keeping chosen repetitions.

The reference (SPEC.md section 2, steps 4-7) epochs a whole session at 1 kHz in
float64 before resampling, which needs more memory than a workstation has for a real
training session. Epochs are independent of each other (per-epoch baseline, per-epoch
resampling), so the same result is computed here chunk by chunk, and only for the
repetitions that are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import mne
import numpy as np
from sklearn.utils import shuffle

from necomimi.preprocessing.raw import RawRecording

#: Epochs created, resampled and copied out at a time (about 0.3 GB at 1 kHz).
CHUNK_EVENTS = 256


@dataclass
class EpochedSession:
    """Epochs of one recording sorted by image condition."""

    data: np.ndarray  # (n_conditions, n_reps, 63, n_times) float32, times >= 0 only
    conditions: np.ndarray  # (n_conditions,) sorted image-condition numbers
    times: np.ndarray  # (n_times,) seconds


def select_repetitions(recording: RawRecording, n_reps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Choose ``n_reps`` events per image condition, as the reference does.

    The reference calls ``sklearn.utils.shuffle(idx, random_state=seed,
    n_samples=n_reps)`` on each condition's event indices; with an integer seed the
    resulting permutation depends only on the number of events, so it is computed
    once per count.

    Returns
    -------
    conditions : numpy.ndarray
        Sorted unique image conditions.
    chosen : numpy.ndarray
        (n_conditions, n_reps) indices into ``recording.events``.
    """
    codes = recording.events[:, 2]
    order = np.argsort(codes, kind="stable")  # event indices grouped by condition, in time order
    conditions, starts, counts = np.unique(codes[order], return_index=True, return_counts=True)
    too_few = counts < n_reps
    if too_few.any():
        examples = ", ".join(
            f"{c} ({k}x)" for c, k in list(zip(conditions[too_few], counts[too_few], strict=True))[:5]
        )
        raise ValueError(
            f"{recording.path}: {int(too_few.sum())} image condition(s) have fewer than the "
            f"{n_reps} repetitions requested: {examples}"
        )
    chosen = np.empty((len(conditions), n_reps), dtype=np.int64)
    permutations: dict[int, np.ndarray] = {}
    for i, (start, count) in enumerate(zip(starts, counts, strict=True)):
        if count not in permutations:
            permutations[count] = shuffle(np.arange(count), random_state=seed, n_samples=n_reps)
        chosen[i] = order[start + permutations[count]]
    return conditions, chosen


def epoch_recording(
    recording: RawRecording,
    *,
    sfreq: float,
    tmin: float,
    tmax: float,
    n_reps: int,
    seed: int,
) -> EpochedSession:
    """Epoch, baseline-correct, resample and crop the chosen repetitions.

    Parameters
    ----------
    recording : RawRecording
        The recording and its events, from :func:`~necomimi.preprocessing.raw.read_raw_recording`.
    sfreq : float
        Target sampling rate (250 Hz in the paper); no resampling if it equals the
        recording's.
    tmin, tmax : float
        Epoch window in seconds (-0.2, 1.0); baseline is (tmin, 0).
    n_reps : int
        Repetitions kept per image condition.
    seed : int
        Seed of the repetition choice (20200220 in the paper).

    Returns
    -------
    EpochedSession
        Epochs of the samples at t >= 0 (250 samples, 0 to 0.996 s, for the paper's
        settings). MNE computes them in float64; they are kept in float32, the
        precision of the final output, which halves the memory of a session.
    """
    raw_sfreq = recording.raw.info["sfreq"]
    if sfreq > raw_sfreq:
        raise ValueError(
            f"{recording.path}: requested sfreq {sfreq} Hz is above the recording's "
            f"sampling rate {raw_sfreq} Hz"
        )
    conditions, chosen = select_repetitions(recording, n_reps, seed)
    flat = chosen.ravel()
    by_time = flat[np.argsort(recording.events[flat, 0], kind="stable")]
    slot = np.empty(len(recording.events), dtype=np.int64)
    slot[flat] = np.arange(len(flat))
    out = None
    for start in range(0, len(by_time), CHUNK_EVENTS):
        batch = by_time[start : start + CHUNK_EVENTS]
        epochs = mne.Epochs(
            recording.raw,
            recording.events[batch],
            tmin=tmin,
            tmax=tmax,
            baseline=(None, 0),
            picks=recording.eeg_picks,
            preload=True,
            verbose="error",
        )
        if len(epochs) != len(batch):
            raise ValueError(
                f"{recording.path}: {len(batch) - len(epochs)} epoch(s) fall outside the "
                f"recording for the window {tmin}..{tmax} s"
            )
        if sfreq < raw_sfreq:
            epochs.resample(sfreq, verbose="error")
        keep = np.round(epochs.times * epochs.info["sfreq"]) >= 0
        values = epochs.get_data(copy=False)[:, :, keep]
        if out is None:
            out = np.empty((len(flat), values.shape[1], values.shape[2]), dtype=np.float32)
            times = epochs.times[keep]
        out[slot[batch]] = values
        del epochs, values
    data = out.reshape(len(conditions), n_reps, out.shape[1], out.shape[2])
    return EpochedSession(data=data, conditions=conditions, times=times)
