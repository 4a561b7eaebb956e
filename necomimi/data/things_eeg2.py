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
#: necomimi's CAT tag table for the 200 test concepts (the paper's is not published).
CAT_TAGS_FILE = Path(__file__).with_name("things_eeg2_cat_tags.csv")
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


def list_images(image_dir: str | Path, partition: str) -> tuple[list[str], list[str]]:
    """Concept folder and file name of every image of a partition, in condition order.

    As the reference dataset code lists them (SPEC.md 1.1): concept folders sorted
    (numeric order, the numbers being zero-padded), image files with a ``.png``,
    ``.jpg`` or ``.jpeg`` suffix sorted within each; image condition ``i + 1`` is entry
    ``i``. If the release's ``image_metadata.npy`` lies in ``image_dir`` it must agree.

    Parameters
    ----------
    image_dir : str or Path
        The ``image_set`` folder.
    partition : {"training", "test"}
        Which partition.

    Raises
    ------
    FileNotFoundError, ValueError
        If the folder is missing or empty, or disagrees with ``image_metadata.npy``.
    """
    from necomimi.io import load_pickled_npy  # local: io imports nothing from here

    image_dir = Path(image_dir)
    folder = image_dir / {"training": TRAINING_IMAGES_DIR, "test": TEST_IMAGES_DIR}[partition]
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such image folder")
    concepts, files = [], []
    for concept in sorted(p.name for p in folder.iterdir() if p.is_dir()):
        for name in sorted(p.name for p in (folder / concept).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            concepts.append(concept)
            files.append(name)
    if not files:
        raise ValueError(f"{folder}: no images found")
    metadata_path = image_dir / IMAGE_METADATA_FILE
    if metadata_path.is_file():
        metadata = load_pickled_npy(metadata_path)
        key = "train" if partition == "training" else "test"
        listed = (list(metadata[f"{key}_img_concepts"]), list(metadata[f"{key}_img_files"]))
        if listed != (concepts, files):
            raise ValueError(
                f"{folder}: the image files do not match {metadata_path} "
                f"({len(files)} found, {len(listed[1])} listed); the EEG conditions would be misaligned"
            )
    return concepts, files


def image_paths(image_dir: str | Path, partition: str) -> list[Path]:
    """Path of every image of a partition, in condition order (see :func:`list_images`)."""
    concepts, files = list_images(image_dir, partition)
    folder = Path(image_dir) / {"training": TRAINING_IMAGES_DIR, "test": TEST_IMAGES_DIR}[partition]
    return [folder / concept / name for concept, name in zip(concepts, files, strict=True)]


def text_prompt(concept_folder: str) -> str:
    """The reference's caption of a concept: ``"This picture is <name>"`` (SPEC.md 1.3).

    The name is the folder name after its first underscore, underscores kept, e.g.
    ``00001_aircraft_carrier`` -> ``"This picture is aircraft_carrier"``.
    """
    return f"This picture is {concept_folder.split('_', 1)[1]}"
