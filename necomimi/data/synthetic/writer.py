"""Write a synthetic THINGS-EEG2 in the exact formats of the real release.

Layout under the output folder::

    image_set/training_images/NNNNN_<concept>/<concept>_NN<x>.jpg
    image_set/test_images/NNNNN_<concept>/<concept>_NNs.jpg
    image_set/image_metadata.npy     dict: train_img_concepts, train_img_files,
                                           test_img_concepts, test_img_files
    image_factors.csv                generating factors of every image
    concept_tags.csv                 five CAT tags per test concept
    raw/sub-XX/ses-YY/raw_eeg_training.npy, raw_eeg_test.npy
                                     dict: raw_eeg_data (64 x T float64, volts; last
                                     row "stim"), ch_names, ch_types, sfreq (1000)
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from necomimi.data.synthetic.eeg import (
    BackgroundNoise,
    SessionEffects,
    channel_positions,
    make_brain,
    session_rng,
    synthesize_recording,
    trial_sequence,
)
from necomimi.data.synthetic.factors import (
    Concept,
    ImageFactors,
    sample_concepts,
    sample_image_factors,
)
from necomimi.data.synthetic.images import (
    FACTORS_FILE,
    IMAGE_SET_DIR,
    factor_columns,
    render_image,
    save_jpeg,
    write_factors_table,
    write_tag_table,
)
from necomimi.data.synthetic.spec import SyntheticSpec
from necomimi.data.things_eeg2 import (
    CHANNEL_NAMES,
    IMAGE_METADATA_FILE,
    PARTITIONS,
    RAW_SFREQ,
    STIM_CHANNEL,
    TEST_IMAGES_DIR,
    TRAINING_IMAGES_DIR,
    raw_file,
)
from necomimi.utils.atomic import atomic_folder, save_pickled_dict_npy

logger = logging.getLogger(__name__)

RAW_DIR = "raw"
_STREAM_IMAGES = 10
_STREAM_DESIGN = 11
_FACTOR_COLUMNS = ("shape", "colour", "texture", "background", "x", "y", "scale", "rotation")


def _partition_images(
    spec: SyntheticSpec, rng: np.random.Generator
) -> tuple[list[ImageFactors], list[ImageFactors]]:
    """Draw the concepts, split them into training and test, draw every image."""
    concepts = sample_concepts(spec.n_train_concepts + spec.n_test_concepts, rng)
    test_index = set(rng.choice(len(concepts), size=spec.n_test_concepts, replace=False))
    train_concepts = [c for i, c in enumerate(concepts) if i not in test_index]
    test_concepts = [c for i, c in enumerate(concepts) if i in test_index]
    train = [
        sample_image_factors(concept, rng)
        for concept in train_concepts
        for _ in range(spec.train_images_per_concept)
    ]
    test = [sample_image_factors(concept, rng) for concept in test_concepts]
    return train, test


def _file_names(
    concepts: list[Concept], per_concept: int, suffix_letters: str, rng: np.random.Generator
) -> tuple[list[str], list[str]]:
    """Folder (``NNNNN_<concept>``) and file name of every image, in condition order."""
    folders, files = [], []
    for number, concept in enumerate(concepts, start=1):
        for image in range(1, per_concept + 1):
            letter = suffix_letters[rng.integers(len(suffix_letters))]
            folders.append(f"{number:05d}_{concept.name}")
            files.append(f"{concept.name}_{image:02d}{letter}.jpg")
    return folders, files


def write_image_set(out_dir: str | Path, spec: SyntheticSpec) -> None:
    """Write the stimulus images, their metadata, factors and CAT tags.

    The ``image_set`` folder is built beside its final place and moved in whole, so
    an interrupted run leaves no partial image set behind.

    Parameters
    ----------
    out_dir : str or Path
        Dataset root.
    spec : SyntheticSpec
        Size and seed of the dataset.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([spec.seed, _STREAM_IMAGES])
    train, test = _partition_images(spec, rng)
    train_concepts = [f.concept for f in train[:: spec.train_images_per_concept]]
    test_concepts = [f.concept for f in test]
    train_folders, train_files = _file_names(
        train_concepts, spec.train_images_per_concept, "bns", rng
    )
    test_folders, test_files = _file_names(test_concepts, 1, "s", rng)

    with atomic_folder(out_dir / IMAGE_SET_DIR) as staging:
        for partition_dir, images, folders, files in (
            (TRAINING_IMAGES_DIR, train, train_folders, train_files),
            (TEST_IMAGES_DIR, test, test_folders, test_files),
        ):
            for factors, folder, name in zip(images, folders, files, strict=True):
                save_jpeg(render_image(factors, spec.image_size, rng), staging / partition_dir / folder / name)
        metadata = {
            "train_img_concepts": train_folders,
            "train_img_files": train_files,
            "test_img_concepts": test_folders,
            "test_img_files": test_files,
        }
        save_pickled_dict_npy(staging / IMAGE_METADATA_FILE, metadata)

    rows = []
    for partition, images, folders, files in (
        ("training", train, train_folders, train_files),
        ("test", test, test_folders, test_files),
    ):
        for condition, (f, folder, name) in enumerate(zip(images, folders, files, strict=True), 1):
            rows.append({"partition": partition, "condition": condition, "folder": folder, "file": name,
                         **factor_columns(f)})  # fmt: skip
    write_factors_table(out_dir, rows)
    write_tag_table(out_dir, test, test_folders)
    logger.info(
        "wrote %d training and %d test images to %s", len(train), len(test), out_dir
    )


def read_image_factors(path: str | Path) -> dict[str, list[ImageFactors]]:
    """Read ``image_factors.csv`` back into factors per partition, in condition order.

    Raises
    ------
    ValueError
        If a column is missing or the conditions are not 1..N in order.
    """
    table = pd.read_csv(path)
    missing = {"partition", "condition", *_FACTOR_COLUMNS} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    out = {}
    for partition in PARTITIONS:
        rows = table[table["partition"] == partition]
        if not np.array_equal(rows["condition"].to_numpy(), np.arange(1, len(rows) + 1)):
            raise ValueError(f"{path}: {partition} conditions are not 1..{len(rows)} in order")
        out[partition] = [
            ImageFactors(
                concept=Concept(row.shape, row.colour, row.texture),
                background=row.background,
                x=float(row.x),
                y=float(row.y),
                scale=float(row.scale),
                rotation=float(row.rotation),
            )
            for row in rows.itertuples(index=False)
        ]
    return out


def session_conditions(
    spec: SyntheticSpec, subject: str, n_train_images: int
) -> list[np.ndarray]:
    """Training image conditions shown in each session (1-based), per subject.

    The training images are split into ``n_sessions / 2`` groups; group g is shown in
    sessions g and g + n_sessions/2, so every image appears in exactly two sessions,
    as in THINGS-EEG2.
    """
    rng = np.random.default_rng([spec.seed, _STREAM_DESIGN, int(subject)])
    n_groups = spec.n_sessions // 2
    order = rng.permutation(n_train_images) + 1
    groups = [np.sort(order[g::n_groups]) for g in range(n_groups)]
    return [groups[session % n_groups] for session in range(spec.n_sessions)]


def write_subject_raw(out_dir: str | Path, spec: SyntheticSpec, subject: str) -> list[Path]:
    """Write every raw recording of one subject, reading the image set's factors.

    Parameters
    ----------
    out_dir : str or Path
        Dataset root, holding ``image_factors.csv`` from :func:`write_image_set`.
    spec : SyntheticSpec
        Size, design, signal strength and seed.
    subject : str
        Two-digit subject label, e.g. ``"01"``.

    Returns
    -------
    list of Path
        The files written, session by session, training then test.
    """
    if not (len(subject) == 2 and subject.isdigit()):
        raise ValueError(f"subject must be a two-digit label such as '01', got {subject!r}")
    out_dir = Path(out_dir)
    images = read_image_factors(out_dir / FACTORS_FILE)
    if len(images["training"]) != spec.n_train_images or len(images["test"]) != spec.n_test_concepts:
        raise ValueError(
            f"{out_dir / FACTORS_FILE} lists {len(images['training'])} training and "
            f"{len(images['test'])} test images, but the spec asks for "
            f"{spec.n_train_images} and {spec.n_test_concepts}: regenerate the image set"
        )
    with threadpool_limits(limits=1, user_api="blas"):
        return _write_subject_sessions(out_dir, spec, subject, images)


def _write_subject_sessions(out_dir: Path, spec: SyntheticSpec, subject: str, images: dict) -> list[Path]:
    """The sessions of :func:`write_subject_raw`, with BLAS on one thread.

    The mixing of the background noise is a matrix product whose last bits depend on
    how many threads BLAS splits it over; on one thread, the recordings are the same
    bytes on every machine and in every process (a Snakemake job runs one thread, a
    Python session as many as there are cores).
    """
    positions = channel_positions()
    brain = make_brain(spec.seed, subject, positions)
    train_groups = session_conditions(spec, subject, spec.n_train_images)
    test_conditions = np.arange(1, spec.n_test_concepts + 1)
    written = []
    for session in range(1, spec.n_sessions + 1):
        for partition_index, partition in enumerate(PARTITIONS):
            rng = session_rng(spec.seed, subject, session, partition_index)
            if partition == "training":
                shown = np.repeat(train_groups[session - 1], spec.train_reps_per_session)
            else:
                shown = np.repeat(test_conditions, spec.test_reps_per_session)
            codes = trial_sequence(shown, spec.target_fraction, rng)
            noise = BackgroundNoise(
                positions,
                background_noise_uv=spec.background_noise_uv,
                alpha_amplitude_uv=spec.alpha_amplitude_uv,
                alpha_hz=brain.alpha_hz,
                rng=rng,
            )
            data = synthesize_recording(
                codes,
                images[partition],
                brain,
                noise,
                SessionEffects.draw(len(CHANNEL_NAMES), rng),
                evoked_amplitude_uv=spec.evoked_amplitude_uv,
            )
            path = raw_file(out_dir / RAW_DIR, subject, session, partition)
            save_pickled_dict_npy(
                path,
                {
                    "raw_eeg_data": data,
                    "ch_names": [*CHANNEL_NAMES, STIM_CHANNEL],
                    "ch_types": ["eeg"] * len(CHANNEL_NAMES) + ["stim"],
                    "sfreq": int(RAW_SFREQ),
                },
            )
            written.append(path)
            logger.info("sub-%s ses-%02d %s: %d trials -> %s", subject, session, partition, len(codes), path)
    return written


def write_dataset(out_dir: str | Path, spec: SyntheticSpec, subjects: list[str]) -> None:
    """Write the image set, then every subject's raw recordings."""
    write_image_set(out_dir, spec)
    for subject in subjects:
        write_subject_raw(out_dir, spec, subject)
