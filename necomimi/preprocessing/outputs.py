"""The per-subject preprocessed outputs: two arrays and ``info.json``, written atomically."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np

from necomimi.data.things_eeg2 import CHANNEL_NAMES
from necomimi.utils.atomic import staged_files
from necomimi.utils.provenance import software_versions

#: Array file per partition: float32 (images, repetitions, 63, times), plain ``.npy``.
OUTPUT_FILES = {"training": "eeg_train.npy", "test": "eeg_test.npy"}
INFO_FILE = "info.json"
_PROVENANCE_PACKAGES = ("numpy", "scipy", "scikit-learn", "mne")


def staged_outputs(out_dir: str | Path) -> AbstractContextManager[Path]:
    """Yield a staging folder inside ``out_dir``; move the outputs in on success.

    :func:`~necomimi.utils.atomic.staged_files` for the two arrays and ``info.json``:
    on an exception nothing is moved and the staging folder is removed, so a failed
    run leaves no partial output behind.
    """
    return staged_files(out_dir, (*OUTPUT_FILES.values(), INFO_FILE), prefix=".preprocess-")


def _read_info(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON: {error}") from error
    if not isinstance(info, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return info


def read_channel_names(path: str | Path) -> list[str]:
    """The ``ch_names`` of a preprocessed ``info.json`` (THINGS-EEG2 or THINGS-MEG), in array order.

    Raises
    ------
    FileNotFoundError, ValueError
        If the file is missing, not JSON, or has no list of channel names; the message
        names the file.
    """
    names = _read_info(path).get("ch_names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{path}: expected a non-empty list of channel names under 'ch_names'")
    return names


def read_times(path: str | Path) -> np.ndarray:
    """The ``times`` of a preprocessed ``info.json``, seconds, in array order.

    Raises
    ------
    FileNotFoundError, ValueError
        If the file is missing, not JSON, or has no increasing list of numbers under
        ``times``; the message names the file.
    """
    times = _read_info(path).get("times")
    valid = isinstance(times, list) and len(times) > 0 and all(
        isinstance(t, int | float) and not isinstance(t, bool) for t in times)  # fmt: skip
    if not valid or np.any(np.diff(np.asarray(times, dtype=float)) <= 0):
        raise ValueError(f"{path}: expected an increasing list of times (seconds) under 'times'")
    return np.asarray(times, dtype=float)


def write_info(
    path: Path,
    *,
    times: np.ndarray,
    sfreq: float,
    shapes: dict[str, tuple[int, ...]],
    sources: list[str],
    options: dict,
) -> None:
    """Write ``info.json``: channels, the times kept, counts and provenance."""
    info = {
        "ch_names": list(CHANNEL_NAMES),
        "times": [round(float(t), 6) for t in times],
        "sfreq": float(sfreq),
        "n_train_images": shapes["training"][0],
        "n_train_reps": shapes["training"][1],
        "n_test_images": shapes["test"][0],
        "n_test_reps": shapes["test"][1],
        "sources": sources,
        "options": options,
        **software_versions(_PROVENANCE_PACKAGES),
    }
    path.write_text(json.dumps(info, indent=2), encoding="utf-8")
