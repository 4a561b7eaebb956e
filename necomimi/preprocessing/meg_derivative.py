"""THINGS-MEG entry point A: the dataset authors' derivative to per-participant arrays.

Reads ``derivatives/preprocessed/preprocessed_P{n}-epo.fif`` (and its split parts),
keeps 0..1.0 s (both ends included, 201 samples at 200 Hz), splits the trials as
:mod:`necomimi.preprocessing.meg_split` describes and writes the outputs of
:mod:`necomimi.preprocessing.meg_outputs` (MEG.md 4.1 A, 4.2, 4.3).

The arrays equal ATM's (``MEG-preprocessing/pre_possess.ipynb``, MEG.md 2.1 steps
1-10) up to dtype (float32 here, float64 there) and the order of the test
repetitions (sessions here, arbitrary there). Unlike ATM, the derivative is never
loaded whole (15.35 GiB as float64 for a real participant): epochs are read from
disk a chunk at a time (``preload=False``, ``Epochs.get_data(item=...)``) and
written straight into the ``.npy`` files, so memory stays at one chunk plus the
events and metadata.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import mne
import numpy as np
import pandas as pd

from necomimi.data.things_meg import (
    DEAD_CHANNEL,
    derivative_parts,
    derivative_sidecar,
    image_set_lists,
    is_sensor,
    read_things_images,
)
from necomimi.preprocessing.meg_outputs import (
    CH_NAMES_FILE,
    INFO_FILE,
    OUTPUT_FILES,
    TEST_FILE,
    TEST_INDEX_FILE,
    TIMES_FILE,
    TRAIN_FILE,
    TRAIN_INDEX_FILE,
    source_record,
    write_ch_names,
    write_index,
    write_info,
)
from necomimi.preprocessing.meg_split import MegSplit, check_real_counts, split_trials
from necomimi.utils.atomic import staged_files
from necomimi.utils.hashing import SHA256_CACHE_DIR
from necomimi.utils.npy import NpyWriter

logger = logging.getLogger(__name__)


def read_derivative(path: str | Path) -> mne.BaseEpochs:
    """Open a derivative without loading its data (``preload=False``).

    Raises
    ------
    FileNotFoundError, ValueError
        If the file is missing or MNE cannot read it (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such derivative epochs file")
    try:
        return mne.read_epochs(path, preload=False, verbose="error")
    except (OSError, ValueError, RuntimeError) as error:
        raise ValueError(f"{path}: cannot read the epochs ({error})") from error


def check_channels(epochs: mne.BaseEpochs, source: Path) -> None:
    """Refuse a derivative whose channels are not the working CTF sensors, typed ``mag``.

    The dataset authors keep the sensors (``picks='mag'``) and drop ``MRO11-1609``
    (MEG.md 1.6 steps 3 and 6); stimulus, reference or misc channels, or sensors of
    another type, mean another file than their derivative.

    Raises
    ------
    ValueError
        Naming ``source`` and the first offending channels.
    """
    names, types = list(epochs.ch_names), epochs.get_channel_types()
    others = [name for name in names if not is_sensor(name)]
    if others:
        raise ValueError(
            f"{source}: channel(s) {others[:5]} are not CTF MEG sensors (names like MLO11-1609); "
            "the derivative holds the sensors only"
        )
    wrong = {name: kind for name, kind in zip(names, types, strict=True) if kind != "mag"}
    if wrong:
        raise ValueError(
            f"{source}: {len(wrong)} sensor(s) typed other than 'mag' (e.g. {dict(list(wrong.items())[:3])}); "
            "the derivative's sensors are MNE 'mag' channels"
        )
    if DEAD_CHANNEL in names:
        raise ValueError(f"{source}: holds the dead sensor {DEAD_CHANNEL}, which the dataset authors drop")


def check_same_images(split: MegSplit, reference: str | Path, *, source: Path) -> None:
    """Refuse a split whose images differ from another participant's output folder.

    All participants saw the same images (MEG.md 1.1, 4.2), so their
    ``train_index.tsv`` and ``test_index.tsv`` list the same image numbers in the same
    order; models, CLIP targets and cross-participant training rely on it.

    Raises
    ------
    FileNotFoundError, ValueError
        If ``reference`` lacks an index table, or the training or test images differ
        in number or order; the message names both files.
    """
    for kind, name, index in (("training", TRAIN_INDEX_FILE, split.train_index),
                              ("test", TEST_INDEX_FILE, split.test_index)):  # fmt: skip
        path = Path(reference) / name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such index table to compare {source}'s images with")
        theirs = pd.read_csv(path, sep="\t")["things_image_nr"].to_numpy()
        if not np.array_equal(theirs, index["things_image_nr"].to_numpy()):
            raise ValueError(
                f"{source}: the {kind} images differ in number or order from those of {path}; "
                "all participants saw the same images"
            )


def check_image_set(split: MegSplit, image_lists: dict[str, tuple[list[str], list[str]]], *, source: Path,
                    image_dir: str | Path) -> None:  # fmt: skip
    """Refuse a split whose images are not those of the image set, in its order.

    ``image_lists`` is :func:`~necomimi.data.things_meg.image_set_lists` of the image
    set the CLIP targets are made from; the arrays' rows must show exactly these
    images, or every target would be paired with the wrong brain response.

    Raises
    ------
    ValueError
        Naming the derivative, the image set and the first differing row.
    """
    for partition, index in (("training", split.train_index), ("test", split.test_index)):
        ours = [path.split("/", 1)[1] for path in index["image_path"]]
        theirs = [f"{d}/{f}" for d, f in zip(*image_lists[partition], strict=True)]
        if ours != theirs:
            row = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
                       min(len(ours), len(theirs)))  # fmt: skip
            raise ValueError(
                f"{source}: its {len(ours)} {partition} images are not the {len(theirs)} of the image set "
                f"{image_dir} in image-number order; first difference at row {row}: "
                f"{ours[row] if row < len(ours) else '<none>'} vs {theirs[row] if row < len(theirs) else '<none>'}"
            )


def crop_samples(times: np.ndarray, sfreq: float, tmin: float, tmax: float) -> np.ndarray:
    """Return the samples ``Epochs.crop(tmin, tmax)`` keeps (both ends included).

    MNE crops only loaded epochs; this applies the same crop to a one-channel stand-in
    with the same times, so the kept samples are MNE's own choice, whatever its
    rounding. (``Epochs.get_data(tmin=, tmax=)`` would exclude ``tmax`` in mne 1.13.)
    """
    stand_in = mne.EpochsArray(
        np.arange(len(times), dtype=float)[None, None, :],
        mne.create_info(1, sfreq, "misc"),
        tmin=float(times[0]),
        verbose="error",
    )
    stand_in.crop(tmin=tmin, tmax=tmax, verbose="error")
    return stand_in.get_data()[0, 0].astype(np.int64)


def _chunk_length(n_channels: int, n_times: int, chunk_mb: float) -> int:
    return max(1, int(chunk_mb * 2**20) // (n_channels * n_times * 8))


def _read_chunk(epochs: mne.BaseEpochs, items: np.ndarray, samples: slice, source: Path) -> np.ndarray:
    data = epochs.get_data(item=items, verbose="error")[:, :, samples]
    bad = ~np.isfinite(data)
    if bad.any():
        epoch = items[np.flatnonzero(bad.any(axis=(1, 2)))[0]]
        raise ValueError(f"{source}: epoch {int(epoch)} holds NaN or Inf values")
    return data


def write_split_arrays(
    epochs: mne.BaseEpochs,
    split: MegSplit,
    samples: slice,
    train_path: Path,
    test_path: Path,
    *,
    chunk_mb: float,
    source: Path,
) -> dict[str, tuple[int, ...]]:
    """Write the training and test arrays, float32, reading a chunk of epochs at a time.

    Returns
    -------
    dict
        The shapes written, ``{"train": ..., "test": ...}``.
    """
    n_channels = len(epochs.ch_names)
    n_times = len(range(*samples.indices(len(epochs.times))))
    per_chunk = _chunk_length(n_channels, len(epochs.times), chunk_mb)
    shapes = {
        "train": (len(split.train_trials), n_channels, n_times),
        "test": (*split.test_trials.shape, n_channels, n_times),
    }
    with NpyWriter(train_path, shapes["train"], np.float32) as writer:
        for start in range(0, len(split.train_trials), per_chunk):
            writer.write(_read_chunk(epochs, split.train_trials[start : start + per_chunk], samples, source))
    images_per_chunk = max(1, per_chunk // split.n_sessions)
    with NpyWriter(test_path, shapes["test"], np.float32) as writer:
        for start in range(0, len(split.test_trials), images_per_chunk):
            block = split.test_trials[start : start + images_per_chunk]
            data = _read_chunk(epochs, block.ravel(), samples, source)
            writer.write(data.reshape(*block.shape, n_channels, n_times))
    return shapes


def preprocess_meg_derivative(
    derivative: str | Path,
    out_dir: str | Path,
    *,
    image_paths: str | Path,
    image_concept_index: str | Path,
    tmin: float = 0.0,
    tmax: float = 1.0,
    chunk_mb: float = 256.0,
    expect_real_counts: bool = False,
    same_images_as: str | Path | None = None,
    image_dir: str | Path | None = None,
    cache_dir: str | Path = SHA256_CACHE_DIR,
) -> MegSplit:
    """Preprocess one participant from the dataset authors' derivative (entry point A).

    Parameters
    ----------
    derivative : str or Path
        ``preprocessed_P{n}-epo.fif``; its split parts are found by MNE.
    out_dir : str or Path
        Receives the files of :data:`~necomimi.preprocessing.meg_outputs.OUTPUT_FILES`,
        all or none (they are staged and moved in at the end).
    image_paths, image_concept_index : str or Path
        THINGS' header-less metadata tables (``Metadata/Image-specific/image_paths.csv``,
        ``Metadata/Concept-specific/image_concept_index.csv``): the concept and
        file of every image number, as ATM maps them (MEG.md 2.1 step 8).
    tmin, tmax : float
        Window kept, seconds, both ends included (ATM: 0 and 1.0).
    chunk_mb : float
        Size of the float64 chunks of epochs read at a time, MiB.
    expect_real_counts : bool
        Also refuse counts other than a real participant's
        (:data:`~necomimi.data.things_meg.REAL_COUNTS`: 27,048 trials, 200 test images
        x 12 sessions, 1,654 concepts x 12 images, 271 channels, and 201 samples if the
        window is ATM's 0-1 s). Every
        count is otherwise derived from the data, so real THINGS-MEG data should pass
        True (a caller such as the workflow sets it from its data source); the
        synthetic data, which are smaller, need False.
    same_images_as : str or Path, optional
        Another participant's output folder: refuse this participant if its training
        or test images differ from those in number or order (:func:`check_same_images`;
        e.g. participant 1's folder for participants 2 to 4).
    image_dir : str or Path, optional
        The ATM-style image set the CLIP targets are made from: refuse this participant
        unless its training and test images are exactly the set's, in image-number
        order (:func:`check_image_set`).
    cache_dir : str or Path
        Where the SHA-256 of unchanged source files are remembered between runs
        (:func:`~necomimi.preprocessing.meg_outputs.source_record`).

    Returns
    -------
    MegSplit
        The split that was written.

    Raises
    ------
    FileNotFoundError, ValueError
        For a missing or unreadable file, channels other than the working sensors
        (:func:`check_channels`) or trials that break the split rules; each message
        names the file. Nothing is left in ``out_dir`` then.

    Notes
    -----
    A derivative made by entry point B has a JSON sidecar
    (:func:`~necomimi.data.things_meg.derivative_sidecar`: raw files, parameters,
    versions); it is hashed with the sources and copied into ``info.json`` under
    ``notes.derivative_provenance``.
    """
    derivative, out_dir = Path(derivative), Path(out_dir)
    epochs = read_derivative(derivative)
    check_channels(epochs, derivative)
    images = read_things_images(image_paths, image_concept_index)
    split = split_trials(epochs.events[:, 2], epochs.metadata, images, source=derivative)
    kept = crop_samples(epochs.times, epochs.info["sfreq"], tmin, tmax)
    samples = slice(int(kept[0]), int(kept[-1]) + 1)
    counts = {**split.counts, "n_channels": len(epochs.ch_names), "n_times": len(kept)}
    if expect_real_counts:
        # 201 samples is a real participant's count only in ATM's 0-1 s window.
        atm_window = np.isclose(tmin, 0.0) and np.isclose(tmax, 1.0)
        check_real_counts(counts, source=derivative, skip=() if atm_window else ("n_times",))
    if same_images_as is not None:
        check_same_images(split, same_images_as, source=derivative)
    if image_dir is not None:
        check_image_set(split, image_set_lists(image_dir, images), source=derivative, image_dir=image_dir)
    sidecar = derivative_sidecar(derivative)
    sidecars = [sidecar] if sidecar.is_file() else []
    notes = {"image_nr_mismatches": split.image_nr_mismatches}
    if sidecars:
        notes["derivative_provenance"] = json.loads(sidecar.read_text(encoding="utf-8"))
    logger.info(
        "%s: %d training trials (%d concepts x %d images), %d test images x %d sessions, "
        "%d channels x %d samples",
        derivative, len(split.train_trials), counts["n_train_concepts"], counts["n_images_per_concept"],
        counts["n_test_images"], split.n_sessions, counts["n_channels"], counts["n_times"],
    )  # fmt: skip
    with staged_files(out_dir, OUTPUT_FILES, prefix=".meg-preprocess-") as staging:
        shapes = write_split_arrays(
            epochs, split, samples, staging / TRAIN_FILE, staging / TEST_FILE, chunk_mb=chunk_mb, source=derivative
        )
        times = epochs.times[samples]
        np.save(staging / TIMES_FILE, times)
        write_ch_names(staging / CH_NAMES_FILE, list(epochs.ch_names))
        write_index(staging / TRAIN_INDEX_FILE, split.train_index)
        write_index(staging / TEST_INDEX_FILE, split.test_index)
        sources = [*derivative_parts(derivative), *sidecars, Path(image_paths), Path(image_concept_index)]
        write_info(
            staging / INFO_FILE,
            ch_names=list(epochs.ch_names),
            times=times,
            sfreq=epochs.info["sfreq"],
            shapes=shapes,
            counts=counts,
            sources=source_record(sources, cache_dir),
            options={"entry_point": "derivative", "tmin": tmin, "tmax": tmax,
                     "expect_real_counts": expect_real_counts,
                     "same_images_as": None if same_images_as is None else str(same_images_as),
                     "image_dir": None if image_dir is None else str(image_dir)},  # fmt: skip
            notes=notes,
        )
    return split
