"""The THINGS-EEG2 release: channel order, event codes and on-disk layout.

These constants describe the data as published by Gifford et al. (2022) and as the
NECOMIMI reference code reads it (SPEC.md sections 1 and 2). The synthetic generator
writes exactly this layout, so the same loading code serves both.

References
----------
.. [1] Gifford, A. T., Dwivedi, K., Roig, G., & Cichy, R. M. (2022). A large and rich
       EEG dataset for modeling human visual object recognition. NeuroImage, 264,
       119754.
"""

from __future__ import annotations

from pathlib import Path

#: The 63 EEG channels in the order the reference preprocessing keeps them
#: (``chan_order`` in ``EEG-preprocessing/preprocessing_utils.py``; SPEC.md 1.2).
CHANNEL_NAMES: tuple[str, ...] = (
    "Fp1", "Fp2", "AF7", "AF3", "AFz", "AF4", "AF8", "F7", "F5", "F3", "F1", "F2",
    "F4", "F6", "F8", "FT9", "FT7", "FC5", "FC3", "FC1", "FCz", "FC2", "FC4", "FC6",
    "FT8", "FT10", "T7", "C5", "C3", "C1", "Cz", "C2", "C4", "C6", "T8", "TP9", "TP7",
    "CP5", "CP3", "CP1", "CPz", "CP2", "CP4", "CP6", "TP8", "TP10", "P7", "P5", "P3",
    "P1", "Pz", "P2", "P4", "P6", "P8", "PO7", "PO3", "POz", "PO4", "PO8", "O1", "Oz",
    "O2",
)  # fmt: skip

#: Channels the NECOMIMI perturbation study replaces with noise (SPEC.md 6.5).
VISUAL_CORTEX_CHANNELS: tuple[str, ...] = ("Pz", "PO3", "POz", "PO4", "O1", "Oz", "O2")

#: Name of the trigger channel, the last row of every raw recording.
STIM_CHANNEL = "stim"
#: Event code of the target-detection trials (a Buzz Lightyear image in the real data).
TARGET_EVENT = 99999
#: Sampling rate of the raw recordings, Hz.
RAW_SFREQ = 1000.0
#: Stimulus onset asynchrony of the rapid serial visual presentation, seconds.
SOA_S = 0.2

#: Partition names as they appear in the raw file names.
PARTITIONS: tuple[str, ...] = ("training", "test")
TRAINING_IMAGES_DIR = "training_images"
TEST_IMAGES_DIR = "test_images"
IMAGE_METADATA_FILE = "image_metadata.npy"
#: Image-file suffixes the reference dataset code accepts (case-insensitive).
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg")


def subject_dir(raw_dir: str | Path, subject: str) -> Path:
    """Return ``raw_dir/sub-XX`` for a two-digit subject label such as ``"01"``."""
    return Path(raw_dir) / f"sub-{subject}"


def raw_file(raw_dir: str | Path, subject: str, session: int, partition: str) -> Path:
    """Return the path of one raw recording, ``sub-XX/ses-YY/raw_eeg_<partition>.npy``.

    Parameters
    ----------
    raw_dir : str or Path
        Folder holding the ``sub-XX`` folders (``Raw_data`` in the release).
    subject : str
        Two-digit subject label, e.g. ``"01"``.
    session : int
        Session number, starting at 1.
    partition : {"training", "test"}
        Which partition the recording holds.
    """
    if partition not in PARTITIONS:
        raise ValueError(f"partition must be one of {PARTITIONS}, got {partition!r}")
    return subject_dir(raw_dir, subject) / f"ses-{session:02d}" / f"raw_eeg_{partition}.npy"
