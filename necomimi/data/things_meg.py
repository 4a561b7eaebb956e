"""The THINGS-MEG release (OpenNeuro ds004212): layout, trial coding and channel names.

These constants describe the data as published by Hebart et al. (2023) and as the
dataset authors' derivative and the ATM code read it (shared MEG.md sections 1 and 2).
The synthetic THINGS-MEG (:mod:`necomimi.data.synthetic.meg_writer`) writes exactly
this layout, so the same reading code serves both.

Every column name of the epochs metadata that necomimi reads is defined here, once:
the real derivative attaches ``sourcedata/sample_attributes_P{n}.csv`` whose header I
could not read (a git-annex file; MEG.md 1.5 and 6), so these names are third-party
reports and may need a change in this one place.

References
----------
.. [1] Hebart, M. N., Contier, O., Teichmann, L., Rockter, A. H., Zheng, C. Y.,
       Kidder, A., Corriveau, A., Vaziri-Pashkam, M., & Baker, C. I. (2023).
       THINGS-data, a multimodal collection of large-scale datasets for investigating
       object representations in human brain and behavior. eLife, 12, e82580.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from necomimi.data.things_eeg2 import list_images

# -- recording (MEG.md 1.2) -----------------------------------------------------------

#: Sampling rate of the raw CTF recordings, Hz.
RAW_SFREQ = 1200.0
#: Parallel-port trigger channel and the code it carries at every image onset.
TRIGGER_CHANNEL = "UPPT001"
TRIGGER_VALUE = 64
#: The malfunctioning sensor the dataset authors drop (272 -> 271 sensors).
DEAD_CHANNEL = "MRO11-1609"
#: CTF axial-gradiometer sensors: ``M`` + hemisphere (L, R, Z) + region (C, F, O, P,
#: T) + two digits + the system suffix, e.g. ``MLO11-1609`` (MEG.md 1.2).
SENSOR_PATTERN = re.compile(r"^M[LRZ][CFOPT]\d\d(-\d+)?$")
#: The region letter (third character of a sensor name) of the occipital sensors,
#: which the perturbation condition replaces by noise (THINGS-code ``step2b`` groups
#: sensors by ``ch_name[2]``).
OCCIPITAL_REGION = "O"

# -- trials (MEG.md 1.1, 1.4) ----------------------------------------------------------

TRIAL_EXP = "exp"
TRIAL_TEST = "test"
TRIAL_CATCH = "catch"
TRIAL_TYPES: tuple[str, ...] = (TRIAL_EXP, TRIAL_TEST, TRIAL_CATCH)
#: Event code of the catch trials in the derivative (their image number is n/a).
CATCH_EVENT = 999999
#: The six columns of ``*_events.tsv`` in ds004212 >= 2.0.0, in file order.
EVENTS_COLUMNS: tuple[str, ...] = (
    "onset", "duration", "trial_type", "things_category_nr", "value", "sample",
)  # fmt: skip
#: events.tsv column holding the THINGS image number (n/a for catch trials).
EVENTS_IMAGE_COLUMN = "value"
EVENTS_CONCEPT_COLUMN = "things_category_nr"
EVENTS_SAMPLE_COLUMN = "sample"

# -- epochs metadata of the derivative (MEG.md 1.5; names [unverified]) ----------------

#: ``exp`` / ``test`` / ``catch`` (column 0 of sample_attributes).
METADATA_TRIAL_TYPE = "trial_type"
#: THINGS image number; read only to cross-check ``events[:, 2]``.
METADATA_IMAGE = "things_image_nr"
#: THINGS concept number; read only to cross-check ``image_concept_index.csv``.
METADATA_CONCEPT = "things_category_nr"
#: Session (1..n_sessions) and run within the session.
METADATA_SESSION = "session_nr"
METADATA_RUN = "run_nr"

# -- the derivative (MEG.md 1.6) -------------------------------------------------------

DERIVATIVE_DIR = Path("derivatives") / "preprocessed"
#: Sampling rate and window of the dataset authors' epochs.
DERIVATIVE_SFREQ = 200.0
DERIVATIVE_TMIN = -0.1
DERIVATIVE_TMAX = 1.3

# -- THINGS image metadata (OSF jum2f; MEG.md 1.4) --------------------------------------

#: Header-less, one row per THINGS image (row = image number - 1): its path, e.g.
#: ``images/aardvark/aardvark_01b.jpg``, and its concept number (1..1854).
IMAGE_PATHS_FILE = Path("Metadata") / "Image-specific" / "image_paths.csv"
IMAGE_CONCEPT_INDEX_FILE = Path("Metadata") / "Concept-specific" / "image_concept_index.csv"
# ATM copies the images into THINGS-EEG2's image-set layout (MEG.md 2.1 step 13, 4.3):
# necomimi.data.things_eeg2's TRAINING_IMAGES_DIR and TEST_IMAGES_DIR, holding folders
# named by image_folder() below.

#: The counts of the real dataset per participant (MEG.md 1.1, 4.2), checked only on
#: request (``expect_real_counts``): necomimi derives every count from the data.
REAL_COUNTS: dict[str, int] = {
    "n_trials": 27048,
    "n_exp": 22248,
    "n_test_trials": 2400,
    "n_catch": 2400,
    "n_sessions": 12,
    "n_test_images": 200,
    "n_train_concepts": 1654,
    "n_images_per_concept": 12,
    "n_train_trials": 19848,
    "n_channels": 271,
    "n_times": 201,
}

#: necomimi's CAT tag table for the 200 THINGS-MEG test concepts (the paper has none for MEG).
CAT_TAGS_FILE = Path(__file__).with_name("things_meg_cat_tags.csv")

#: Signal drop-outs the dataset authors repair (MEG.md 1.6 step 2): (participant,
#: session, 0-based run index over the session's sorted runs) -> start in seconds;
#: 0.2 s of every channel are replaced by the channel's median.
DROPOUT_REPAIRS: dict[tuple[int, int, int], float] = {(1, 11, 4): 13.4, (2, 10, 2): 59.8}
DROPOUT_SECONDS = 0.2


def participant_label(participant: int) -> str:
    """BIDS subject label of a participant number: ``1`` -> ``"BIGMEG1"``."""
    if not isinstance(participant, (int, np.integer)) or participant < 1:
        raise ValueError(f"participant must be a positive integer, got {participant!r}")
    return f"BIGMEG{int(participant)}"


def derivative_file(bids_root: str | Path, participant: int) -> Path:
    """First file of a participant's derivative, ``.../preprocessed_P{n}-epo.fif``.

    MNE finds the split parts (``-epo-1.fif``, ...) from it.
    """
    return Path(bids_root) / DERIVATIVE_DIR / f"preprocessed_P{int(participant)}-epo.fif"


def derivative_parts(first: str | Path) -> list[Path]:
    """List the files of a split derivative: ``first`` and its ``-1``, ``-2``, ... parts."""
    first = Path(first)
    stem = first.name[: -len(".fif")]
    parts, k = [first], 1
    while (candidate := first.with_name(f"{stem}-{k}.fif")).is_file():
        parts.append(candidate)
        k += 1
    return parts


def derivative_sidecar(first: str | Path) -> Path:
    """The JSON sidecar beside a derivative: ``preprocessed_P{n}-epo.json``.

    Entry point B writes it (raw files, parameters, versions); the dataset authors'
    derivative has none.
    """
    first = Path(first)
    return first.with_name(f"{first.name.removesuffix('.fif')}.json")


def is_sensor(name: str) -> bool:
    """Whether ``name`` is a CTF MEG sensor name such as ``MLO11-1609``."""
    return SENSOR_PATTERN.match(name) is not None


def occipital_sensors(ch_names: Iterable[str]) -> list[str]:
    """Return the occipital sensors among ``ch_names`` (third letter ``O``), in order."""
    return [name for name in ch_names if is_sensor(name) and name[2] == OCCIPITAL_REGION]


def image_folder(concept_nr: int, concept: str) -> str:
    """ATM's image-folder name of a concept, ``{concept_nr:05d}_{concept}``."""
    return f"{int(concept_nr):05d}_{concept}"


def read_things_images(image_paths: str | Path, image_concept_index: str | Path) -> pd.DataFrame:
    """Read THINGS' header-less ``image_paths.csv`` and ``image_concept_index.csv``.

    Parameters
    ----------
    image_paths, image_concept_index : str or Path
        The two files of the THINGS metadata (:data:`IMAGE_PATHS_FILE`,
        :data:`IMAGE_CONCEPT_INDEX_FILE`), one row per THINGS image.

    Returns
    -------
    pandas.DataFrame
        Indexed by THINGS image number (row + 1), columns ``things_category_nr``,
        ``concept`` (the path's folder name), ``file`` and ``folder``
        (:func:`image_folder`); ``attrs`` ``image_paths`` and ``image_concept_index``
        hold the two paths, which messages about the table name.

    Raises
    ------
    ValueError
        If the files differ in length, a path is not ``images/<concept>/<file>``, a
        concept number is not a positive integer, or one concept number is given two
        folder names. Messages name the file.
    """
    image_paths, image_concept_index = Path(image_paths), Path(image_concept_index)
    paths = pd.read_csv(image_paths, header=None, dtype=str, keep_default_na=False)[0]
    concepts = pd.read_csv(image_concept_index, header=None, dtype=str, keep_default_na=False)[0]
    if len(paths) != len(concepts):
        raise ValueError(
            f"{image_paths} lists {len(paths)} images but {image_concept_index} lists "
            f"{len(concepts)}; both have one row per THINGS image"
        )
    parts = paths.str.split("/")
    malformed = [i + 1 for i, p in enumerate(parts) if len(p) != 3 or not all(p)]
    if malformed:
        raise ValueError(
            f"{image_paths}: rows {malformed[:5]} are not 'images/<concept>/<file>'"
        )
    numbers = pd.to_numeric(concepts, errors="coerce")
    bad = np.flatnonzero(~np.isfinite(numbers.to_numpy(float)) | (numbers.to_numpy(float) < 1)
                         | (numbers.to_numpy(float) % 1 != 0))  # fmt: skip
    if len(bad):
        raise ValueError(
            f"{image_concept_index}: rows {(bad[:5] + 1).tolist()} are not positive "
            "integer concept numbers"
        )
    table = pd.DataFrame(
        {
            "things_category_nr": numbers.to_numpy(np.int64),
            "concept": [p[1] for p in parts],
            "file": [p[2] for p in parts],
        },
        index=pd.RangeIndex(1, len(paths) + 1, name="things_image_nr"),
    )
    names = table.groupby("things_category_nr")["concept"].nunique()
    if (names > 1).any():
        raise ValueError(
            f"{image_paths} and {image_concept_index}: concept number(s) "
            f"{names.index[names > 1].tolist()[:5]} have images in more than one folder"
        )
    table["folder"] = [image_folder(n, c) for n, c in zip(table["things_category_nr"], table["concept"], strict=True)]
    table.attrs.update(image_paths=str(image_paths), image_concept_index=str(image_concept_index))
    return table


def image_set_lists(image_dir: str | Path, images: pd.DataFrame) -> dict[str, tuple[list[str], list[str]]]:
    """The images of an ATM-style image set in the order of the preprocessed arrays.

    The arrays hold the training and the test images by THINGS image number (MEG.md
    4.2), which is also the order of every participant's index tables; the CLIP
    targets are embedded in it, so no participant is needed to make them.

    Parameters
    ----------
    image_dir : str or Path
        The image set: ``training_images/`` and ``test_images/``, one folder per concept
        named by :func:`image_folder`.
    images : pandas.DataFrame
        The THINGS tables (:func:`read_things_images`).

    Returns
    -------
    dict
        ``{"training": (concept folders, files), "test": (...)}`` in image-number order.

    Raises
    ------
    FileNotFoundError, ValueError
        If a partition folder is missing or empty, or holds an image the THINGS tables
        do not list under that concept folder; the message names both.
    """
    number_of = {(folder, file): int(nr)
                 for nr, folder, file in zip(images.index, images["folder"], images["file"], strict=True)}  # fmt: skip
    lists = {}
    for partition in ("training", "test"):
        folders, files = list_images(image_dir, partition)
        unknown = [f"{d}/{f}" for d, f in zip(folders, files, strict=True) if (d, f) not in number_of]
        if unknown:
            raise ValueError(
                f"{image_dir}: {len(unknown)} {partition} image(s) are not in the THINGS tables "
                f"{images.attrs.get('image_paths', '')} under that concept folder, e.g. {unknown[:3]}"
            )
        order = sorted(range(len(files)), key=lambda i: number_of[(folders[i], files[i])])
        lists[partition] = ([folders[i] for i in order], [files[i] for i in order])
    return lists
