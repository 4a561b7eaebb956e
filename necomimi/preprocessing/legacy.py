"""Start from preprocessed files of the reference / ATM release instead of raw data."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from necomimi.data.things_eeg2 import CHANNEL_NAMES
from necomimi.io import read_legacy_preprocessed
from necomimi.preprocessing.outputs import INFO_FILE, OUTPUT_FILES, staged_outputs, write_info
from necomimi.utils.npy import NpyWriter

logger = logging.getLogger(__name__)


def import_legacy_subject(training_file: str | Path, test_file: str | Path, out_dir: str | Path) -> None:
    """Convert one subject's ``preprocessed_eeg_{training,test}.npy`` to our outputs.

    The pickled dicts are read with the restricted unpickler
    (:func:`necomimi.io.read_legacy_preprocessed`), channels are put in the canonical
    order, the data are stored as float32 ``.npy`` arrays and ``info.json`` records
    the 250 times that match the data (not the 300 the reference saves).

    Parameters
    ----------
    training_file, test_file : str or Path
        The release's files for one subject.
    out_dir : str or Path
        Receives ``eeg_train.npy``, ``eeg_test.npy`` and ``info.json``.
    """
    sources = {"training": Path(training_file), "test": Path(test_file)}
    with staged_outputs(out_dir) as staging:
        shapes, times = {}, None
        for partition, path in sources.items():
            legacy = read_legacy_preprocessed(path)
            absent = [name for name in CHANNEL_NAMES if name not in legacy.ch_names]
            if absent:
                raise ValueError(f"{path}: missing EEG channel(s) {absent}")
            if times is not None and not np.allclose(times, legacy.times):
                raise ValueError(f"{path}: its times differ from those of {sources['training']}")
            times = legacy.times
            order = [legacy.ch_names.index(name) for name in CHANNEL_NAMES]
            data = legacy.data[:, :, order]
            if not np.all(np.isfinite(data)):
                raise ValueError(f"{path}: preprocessed_eeg_data holds NaN or Inf values")
            with NpyWriter(staging / OUTPUT_FILES[partition], data.shape, np.float32) as writer:
                writer.write(data)
            shapes[partition] = data.shape
            logger.info("%s: %d images x %d repetitions imported", path, *data.shape[:2])
        sfreq = 1.0 / float(np.median(np.diff(times)))
        write_info(
            staging / INFO_FILE,
            times=times,
            sfreq=round(sfreq, 6),
            shapes=shapes,
            sources=[str(p) for p in sources.values()],
            options={"imported_from": "reference/ATM preprocessed files"},
        )
