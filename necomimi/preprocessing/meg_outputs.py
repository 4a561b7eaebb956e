"""The per-participant THINGS-MEG outputs (MEG.md 4.3): arrays, index tables, provenance.

``train.npy`` float32 (n_train_trials, C, T) and ``test.npy`` float32 (n_test_images,
n_sessions, C, T); ``train_index.tsv`` / ``test_index.tsv`` (row -> image, concept,
label, session); ``times.npy``; ``ch_names.txt``; ``info.json`` (counts, parameters,
the SHA-256 of every source file, package versions). ATM's arrays are free reshapes:
train ``(n_concepts, n_images, 1, C, T)``, test ``(n_images, 1, n_sessions, C, T)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from necomimi.utils.hashing import SHA256_CACHE_DIR, cached_file_sha256
from necomimi.utils.provenance import software_versions

TRAIN_FILE = "train.npy"
TEST_FILE = "test.npy"
TRAIN_INDEX_FILE = "train_index.tsv"
TEST_INDEX_FILE = "test_index.tsv"
TIMES_FILE = "times.npy"
CH_NAMES_FILE = "ch_names.txt"
INFO_FILE = "info.json"
#: Every file of a participant's output folder.
OUTPUT_FILES: tuple[str, ...] = (
    TRAIN_FILE, TEST_FILE, TRAIN_INDEX_FILE, TEST_INDEX_FILE, TIMES_FILE, CH_NAMES_FILE, INFO_FILE,
)  # fmt: skip
_PROVENANCE_PACKAGES = ("numpy", "pandas", "mne", "mne-bids")


def write_index(path: Path, table: pd.DataFrame) -> None:
    """Write an index table as tab-separated text, ``n/a`` for missing values."""
    table.to_csv(path, sep="\t", index=False, na_rep="n/a")


def write_ch_names(path: Path, ch_names: list[str]) -> None:
    """One channel name per line, in array order."""
    path.write_text("".join(f"{name}\n" for name in ch_names), encoding="utf-8")


def read_ch_names(path: str | Path) -> list[str]:
    """Read ``ch_names.txt`` back."""
    return Path(path).read_text(encoding="utf-8").splitlines()


def source_record(paths: list[Path], cache_dir: str | Path = SHA256_CACHE_DIR) -> list[dict]:
    """Path, size and SHA-256 of every source file.

    A real derivative is 8 GB in four files, read by several jobs: each digest is
    computed once and remembered in ``cache_dir`` while the file is unchanged
    (:func:`~necomimi.utils.hashing.cached_file_sha256`).
    """
    return [{"path": str(p), "bytes": p.stat().st_size, "sha256": cached_file_sha256(p, cache_dir)} for p in paths]


def write_info(
    path: Path,
    *,
    ch_names: list[str],
    times: np.ndarray,
    sfreq: float,
    shapes: dict[str, tuple[int, ...]],
    counts: dict,
    sources: list[dict],
    options: dict,
    notes: dict | None = None,
) -> None:
    """Write ``info.json``: channels, times, shapes, counts, sources and provenance."""
    info = {
        "modality": "meg",
        "ch_names": list(ch_names),
        "times": [round(float(t), 6) for t in times],
        "sfreq": float(sfreq),
        "shapes": {name: list(shape) for name, shape in shapes.items()},
        "counts": counts,
        "sources": sources,
        "options": options,
        "notes": notes or {},
        **software_versions(_PROVENANCE_PACKAGES),
    }
    path.write_text(json.dumps(info, indent=2), encoding="utf-8")
