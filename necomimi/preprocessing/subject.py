"""Preprocess one subject: raw THINGS-EEG2 recordings to per-subject arrays.

Implements SPEC.md section 2 exactly (the NECOMIMI reference, adapted from Gifford et
al.'s THINGS-EEG2 code), in memory proportional to one session's 250 Hz output:
sessions are epoched chunk-wise, whitened, and parked on disk as float32 until the
sessions are merged image block by image block.

References
----------
.. [1] Gifford, A. T., Dwivedi, K., Roig, G., & Cichy, R. M. (2022). A large and rich
       EEG dataset for modeling human visual object recognition. NeuroImage, 264,
       119754.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sklearn.utils import shuffle

from necomimi.data.things_eeg2 import PARTITIONS
from necomimi.preprocessing.epoching import epoch_recording
from necomimi.preprocessing.mvnn import session_covariance, whitened_chunks, whitening_matrix
from necomimi.preprocessing.outputs import INFO_FILE, OUTPUT_FILES, staged_outputs, write_info
from necomimi.preprocessing.raw import read_raw_recording
from necomimi.utils.npy import NpyWriter, read_rows

logger = logging.getLogger(__name__)

#: Size of the image blocks in which sessions are merged.
_MERGE_BLOCK_BYTES = 64 * 2**20


def _session_files(raw_dir: Path, n_sessions: int) -> dict[tuple[int, str], Path]:
    files = {
        (session, partition): raw_dir / f"ses-{session:02d}" / f"raw_eeg_{partition}.npy"
        for session in range(1, n_sessions + 1)
        for partition in PARTITIONS
    }
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{raw_dir}: missing raw recording(s) for {n_sessions} sessions: {', '.join(missing)}"
        )
    return files


def merge_sessions(
    staged: list[tuple[Path, np.ndarray]], out_path: Path, *, seed: int, partition: str
) -> tuple[int, int]:
    """Merge whitened sessions into (images, repetitions, channels, times) float32.

    As the reference's ``save_prepr``: each image's repetitions are concatenated in
    session order, then the repetition axis of the whole array is permuted by
    ``sklearn.utils.shuffle(np.arange(n_reps), random_state=seed)``.

    Parameters
    ----------
    staged : list of (Path, numpy.ndarray)
        Per session, in session order: the ``.npy`` file of its whitened epochs
        (conditions, reps, channels, times) and its sorted image conditions.
    out_path : Path
        Where to write the merged array.
    seed : int
        Seed of the repetition shuffle.
    partition : str
        For messages only.

    Returns
    -------
    (n_images, n_reps)
    """
    conditions = [c for _, c in staged]
    images, sessions_per_image = np.unique(np.concatenate(conditions), return_counts=True)
    if not np.array_equal(images, np.arange(1, len(images) + 1)):
        absent = sorted(set(range(1, int(images.max()) + 1)) - set(images.tolist()))[:10]
        raise ValueError(f"{partition}: image conditions are not 1..{images.max()}; absent: {absent}")
    if len(set(sessions_per_image.tolist())) != 1:
        odd = images[sessions_per_image != np.bincount(sessions_per_image).argmax()][:10]
        raise ValueError(
            f"{partition}: images appear in different numbers of sessions "
            f"(e.g. conditions {odd.tolist()}); every image must have the same repetitions"
        )
    first = read_rows(staged[0][0], 0, 1)
    reps_per_session, n_channels, n_times = first.shape[1:]
    n_reps = int(sessions_per_image[0]) * reps_per_session
    order = shuffle(np.arange(n_reps), random_state=seed)
    block = max(1, _MERGE_BLOCK_BYTES // (n_reps * n_channels * n_times * 4))
    with NpyWriter(out_path, (len(images), n_reps, n_channels, n_times), np.float32) as writer:
        for start in range(1, len(images) + 1, block):
            stop = min(start + block, len(images) + 1)
            merged = np.empty((stop - start, n_reps, n_channels, n_times), dtype=np.float32)
            filled = np.zeros(stop - start, dtype=np.int64)
            for path, session_conditions in staged:
                lo, hi = np.searchsorted(session_conditions, [start, stop])
                if lo == hi:
                    continue
                rows = read_rows(path, int(lo), int(hi))
                where = session_conditions[lo:hi] - start
                for rep in range(reps_per_session):
                    merged[where, filled[where] * reps_per_session + rep] = rows[:, rep]
                filled[where] += 1
            writer.write(merged[:, order])
    return len(images), n_reps


def preprocess_subject(
    raw_dir: str | Path,
    out_dir: str | Path,
    *,
    n_sessions: int,
    sfreq: float,
    tmin: float,
    tmax: float,
    mvnn_dim: str,
    train_reps_per_session: int,
    test_reps_per_session: int,
    seed: int,
) -> None:
    """Preprocess one subject's raw recordings (SPEC.md section 2).

    Per session: the 63 channels in canonical order, events from ``stim``, targets
    dropped, epochs ``tmin..tmax`` with baseline (None, 0), resampling to ``sfreq``,
    the seeded choice of repetitions per image, the baseline samples cropped, and
    MVNN with the training partition's covariance. Then sessions are merged
    (training: each image's repetitions from the sessions showing it; test: all
    sessions') and the repetition order is shuffled by ``seed``.

    Parameters
    ----------
    raw_dir : str or Path
        The subject's folder, holding ``ses-01/ ... ses-NN/raw_eeg_{training,test}.npy``.
    out_dir : str or Path
        Receives ``eeg_train.npy`` and ``eeg_test.npy`` (float32, images x repetitions
        x 63 x times) and ``info.json``. Nothing is left there on failure.
    n_sessions : int
        Sessions to read (4).
    sfreq : float
        Output sampling rate in Hz (250).
    tmin, tmax : float
        Epoch window in seconds (-0.2, 1.0); samples before 0 are dropped after the
        baseline correction.
    mvnn_dim : {"epochs", "time"}
        Dimension over which the MVNN covariance is estimated ("epochs").
    train_reps_per_session, test_reps_per_session : int
        Repetitions kept per image and session (2 and 20).
    seed : int
        Seed of the repetition choices and shuffles (20200220).
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    files = _session_files(raw_dir, n_sessions)
    options = {
        "n_sessions": n_sessions,
        "sfreq": sfreq,
        "tmin": tmin,
        "tmax": tmax,
        "mvnn_dim": mvnn_dim,
        "train_reps_per_session": train_reps_per_session,
        "test_reps_per_session": test_reps_per_session,
        "seed": seed,
    }
    reps = {"training": train_reps_per_session, "test": test_reps_per_session}
    with staged_outputs(out_dir) as staging:
        staged: dict[str, list[tuple[Path, np.ndarray]]] = {p: [] for p in PARTITIONS}
        for session in range(1, n_sessions + 1):
            whitening = None
            for partition in PARTITIONS:  # training first: its covariance whitens both
                epoched = epoch_recording(
                    read_raw_recording(files[session, partition]),
                    sfreq=sfreq,
                    tmin=tmin,
                    tmax=tmax,
                    n_reps=reps[partition],
                    seed=seed,
                )
                if whitening is None:
                    whitening = whitening_matrix(session_covariance(epoched.data, mvnn_dim))
                    times = epoched.times
                path = staging / f"{partition}-ses-{session:02d}.npy"
                with NpyWriter(path, epoched.data.shape, np.float32) as writer:
                    for chunk in whitened_chunks(epoched.data, whitening):
                        writer.write(chunk)
                staged[partition].append((path, epoched.conditions))
                logger.info(
                    "ses-%02d %s: %d images x %d repetitions epoched and whitened",
                    session, partition, *epoched.data.shape[:2],
                )  # fmt: skip
                del epoched
        shapes = {}
        for partition in PARTITIONS:
            shapes[partition] = merge_sessions(
                staged[partition], staging / OUTPUT_FILES[partition], seed=seed, partition=partition
            )
            for path, _ in staged[partition]:
                path.unlink()
        write_info(
            staging / INFO_FILE,
            times=times,
            sfreq=sfreq,
            shapes=shapes,
            sources=[str(files[key]) for key in sorted(files)],
            options=options,
        )
