"""The per-subject preprocessed outputs: two arrays and ``info.json``, written atomically."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import necomimi
from necomimi.data.things_eeg2 import CHANNEL_NAMES
from necomimi.utils.provenance import package_versions

#: Array file per partition: float32 (images, repetitions, 63, times), plain ``.npy``.
OUTPUT_FILES = {"training": "eeg_train.npy", "test": "eeg_test.npy"}
INFO_FILE = "info.json"
_PROVENANCE_PACKAGES = ("numpy", "scipy", "scikit-learn", "mne")


@contextlib.contextmanager
def staged_outputs(out_dir: str | Path) -> Iterator[Path]:
    """Yield a staging folder inside ``out_dir``; move the outputs in on success.

    On an exception nothing is moved and the staging folder is removed, so a failed
    run leaves no partial output behind.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".preprocess-", dir=out_dir))
    try:
        yield staging
        for name in (*OUTPUT_FILES.values(), INFO_FILE):
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
        "necomimi_version": necomimi.__version__,
        "python_version": platform.python_version(),
        "package_versions": package_versions(_PROVENANCE_PACKAGES),
    }
    path.write_text(json.dumps(info, indent=2), encoding="utf-8")
