"""Split the THINGS-MEG derivative's trials into training and test (MEG.md 4.2).

Every rule is written in terms of the trials' metadata, and every count is derived
from the data: the number of sessions, test images, training concepts and images per
concept. The rules reproduce ATM's notebook (MEG.md 2.1 steps 3-9) and add the
checks it lacks; the orders are stable, so a repetition of a test image is a session.

* catch: ``trial_type == 'catch'``, which must coincide with event code 999999;
  every session holds the same number of them. Dropped.
* test: the images of ``trial_type == 'test'``; each must occur exactly once in every
  session (so every session holds the same number of test trials). Ordered by (THINGS
  image number, session), stably.
* train: ``exp`` trials whose concept is not the concept of a test image; every
  ``exp`` image occurs once, every training concept has the same number of images.
  Ordered by THINGS image number, which must number the images concept by concept in
  concept order (ATM's reshape to (concept, image) relies on it).
* every concept of the THINGS tables is a test or a training concept, so a training
  concept whose trials were all removed cannot vanish unnoticed.

With these checks, ATM's own rule (test = the image numbers that occur exactly
``n_sessions`` times) selects the same test images.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from necomimi.data.things_eeg2 import TEST_IMAGES_DIR, TRAINING_IMAGES_DIR
from necomimi.data.things_meg import (
    CATCH_EVENT,
    METADATA_CONCEPT,
    METADATA_IMAGE,
    METADATA_SESSION,
    METADATA_TRIAL_TYPE,
    REAL_COUNTS,
    TRIAL_CATCH,
    TRIAL_EXP,
    TRIAL_TEST,
    TRIAL_TYPES,
)

logger = logging.getLogger(__name__)

_SHOWN = 5  # how many offending items a message lists


@dataclass
class MegSplit:
    """Which epochs of a derivative form the training and test arrays, in order.

    Attributes
    ----------
    train_trials : numpy.ndarray
        Epoch indices of the training trials, (n_train_trials,), in output order.
    test_trials : numpy.ndarray
        Epoch indices of the test trials, (n_test_images, n_sessions): row = test
        image, column = repetition = session.
    train_index, test_index : pandas.DataFrame
        One row per training trial / test image (the ``train_index.tsv`` and
        ``test_index.tsv`` of MEG.md 4.3).
    n_sessions : int
        Sessions found in the data.
    counts : dict
        Trial and image counts, named as in :data:`~necomimi.data.things_meg.REAL_COUNTS`.
    image_nr_mismatches : int
        Non-catch trials whose metadata image number differs from their event code
        (MEG.md 1.5 reports a few per run in the real data); the event code is used.
    """

    train_trials: np.ndarray
    test_trials: np.ndarray
    train_index: pd.DataFrame
    test_index: pd.DataFrame
    n_sessions: int
    counts: dict
    image_nr_mismatches: int


def _listed(values) -> str:
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    more = f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else ""
    return f"{values[:_SHOWN]}{more}"


def _trial_types(metadata: pd.DataFrame | None, n_trials: int, source: Path) -> np.ndarray:
    if metadata is None or METADATA_TRIAL_TYPE not in metadata.columns:
        columns = [] if metadata is None else list(metadata.columns)
        raise ValueError(
            f"{source}: the epochs metadata has no '{METADATA_TRIAL_TYPE}' column "
            f"(columns: {columns}); it tells exp, test and catch trials apart"
        )
    if len(metadata) != n_trials:
        raise ValueError(f"{source}: {len(metadata)} metadata rows for {n_trials} epochs")
    types = metadata[METADATA_TRIAL_TYPE].astype(str).str.strip().to_numpy()
    unknown = sorted(set(types) - set(TRIAL_TYPES))
    if unknown:
        raise ValueError(f"{source}: unknown trial_type value(s) {unknown}; expected {list(TRIAL_TYPES)}")
    return types


def _check_catch(codes: np.ndarray, types: np.ndarray, source: Path) -> None:
    catch_type, catch_code = types == TRIAL_CATCH, codes == CATCH_EVENT
    if not np.array_equal(catch_type, catch_code):
        coded = np.flatnonzero(catch_code & ~catch_type)
        typed = np.flatnonzero(catch_type & ~catch_code)
        raise ValueError(
            f"{source}: catch trials inconsistent: epoch(s) {_listed(coded)} have event code "
            f"{CATCH_EVENT} but another trial_type, epoch(s) {_listed(typed)} are trial_type "
            f"'{TRIAL_CATCH}' with an image number"
        )


def _index_file(images: pd.DataFrame) -> str:
    """The image_concept_index.csv the table was read from (``read_things_images``)."""
    return images.attrs.get("image_concept_index", "image_concept_index.csv")


def _check_catch_per_session(types: np.ndarray, sessions: np.ndarray | None, source: Path) -> None:
    """Every session holds the same number of catch trials (200 in THINGS-MEG)."""
    if sessions is None:
        return
    per_session = {int(s): int(np.sum((types == TRIAL_CATCH) & (sessions == s))) for s in np.unique(sessions)}
    if len(set(per_session.values())) > 1:
        raise ValueError(
            f"{source}: the sessions hold different numbers of '{TRIAL_CATCH}' trials "
            f"(session: count {per_session}); every session has the same number"
        )


def _sessions(metadata: pd.DataFrame, source: Path) -> np.ndarray | None:
    if METADATA_SESSION not in metadata.columns:
        logger.warning(
            "%s: no '%s' metadata column; repetitions are ordered by acquisition order",
            source, METADATA_SESSION,
        )  # fmt: skip
        return None
    sessions = pd.to_numeric(metadata[METADATA_SESSION], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(sessions)) or np.any(sessions % 1):
        raise ValueError(f"{source}: '{METADATA_SESSION}' holds values that are not session numbers")
    return sessions.astype(np.int64)


def _test_images(
    codes: np.ndarray, types: np.ndarray, sessions: np.ndarray | None, source: Path
) -> tuple[np.ndarray, int]:
    """Return the test images (sorted) and the number of sessions, after their checks."""
    test_images = np.unique(codes[types == TRIAL_TEST])
    if len(test_images) == 0:
        raise ValueError(f"{source}: no '{TRIAL_TEST}' trials")
    both = np.intersect1d(test_images, codes[types == TRIAL_EXP])
    if len(both):
        raise ValueError(
            f"{source}: test metadata inconsistent: image(s) {_listed(both)} occur both as "
            f"'{TRIAL_TEST}' and as '{TRIAL_EXP}' trials"
        )
    test_codes = codes[types == TRIAL_TEST]
    images, counts = np.unique(test_codes, return_counts=True)
    if sessions is not None:
        all_sessions = np.unique(sessions)
        n_sessions = len(all_sessions)
        bad = [
            int(image)
            for image in images
            if not np.array_equal(np.sort(sessions[(types == TRIAL_TEST) & (codes == image)]), all_sessions)
        ]
        if bad:
            found = {int(i): int(c) for i, c in zip(images, counts, strict=True) if int(i) in bad[:_SHOWN]}
            raise ValueError(
                f"{source}: test image(s) {_listed(bad)} without {n_sessions} repetitions, "
                f"one in each of the {n_sessions} sessions (repetitions found: {found})"
            )
    else:
        values, how_often = np.unique(counts, return_counts=True)
        n_sessions = int(values[np.argmax(how_often)])
        bad = images[counts != n_sessions]
        if len(bad):
            raise ValueError(
                f"{source}: test image(s) {_listed(bad.tolist())} without {n_sessions} "
                "repetitions (the count of the other test images)"
            )
    return test_images, int(n_sessions)


def _concepts(
    codes: np.ndarray, types: np.ndarray, metadata: pd.DataFrame, images: pd.DataFrame, source: Path
) -> np.ndarray:
    """THINGS concept number of every trial (0 for catch), from the image table."""
    shown = types != TRIAL_CATCH
    unknown = np.unique(codes[shown & ((codes < 1) | (codes > len(images)))])
    if len(unknown):
        raise ValueError(
            f"{source}: image number(s) {_listed(unknown.tolist())} are not THINGS images "
            f"1..{len(images)} of {_index_file(images)}"
        )
    concepts = np.zeros(len(codes), dtype=np.int64)
    concepts[shown] = images["things_category_nr"].to_numpy()[codes[shown] - 1]
    if METADATA_CONCEPT in metadata.columns:
        # Strict for exp trials, which make the training set; the real metadata may code
        # repeat and catch trials differently (MEG.md 1.5), so test trials are only counted.
        listed = pd.to_numeric(metadata[METADATA_CONCEPT], errors="coerce").to_numpy(float)
        differ = np.flatnonzero((types == TRIAL_EXP) & (listed != concepts))
        if len(differ):
            raise ValueError(
                f"{source}: the metadata '{METADATA_CONCEPT}' of exp epoch(s) {_listed(differ)} "
                f"differs from the concept of their image in {_index_file(images)}"
            )
        n_test = int(np.sum((types == TRIAL_TEST) & (listed != concepts)))
        if n_test:
            logger.warning("%s: %d test trial(s) have a metadata '%s' other than their image's concept",
                           source, n_test, METADATA_CONCEPT)  # fmt: skip
    return concepts


def _check_grouped_by_concept(train_codes: np.ndarray, train_concepts: np.ndarray, images: pd.DataFrame,
                              source: Path) -> None:  # fmt: skip
    """Training images in image-number order must come concept by concept, in concept order.

    ATM reshapes its sorted training epochs to (concept, image) and numbers the labels
    by concept (MEG.md 2.1 step 10): right only if THINGS numbers the images of each
    concept together and the concepts in ascending order, as THINGS does.
    """
    back = np.flatnonzero(np.diff(train_concepts) < 0)
    if len(back):
        k = int(back[0])
        raise ValueError(
            f"{source}: in {_index_file(images)}, training image {int(train_codes[k + 1])} (concept "
            f"{int(train_concepts[k + 1])}) follows image {int(train_codes[k])} (concept {int(train_concepts[k])}): "
            "image numbers must group the images by concept, in concept order (ATM's reshape to "
            "(concept, image) relies on it)"
        )


def _image_nr_mismatches(codes: np.ndarray, types: np.ndarray, metadata: pd.DataFrame) -> int:
    if METADATA_IMAGE not in metadata.columns:
        return 0
    listed = pd.to_numeric(metadata[METADATA_IMAGE], errors="coerce").to_numpy(float)
    return int(np.sum((types != TRIAL_CATCH) & (listed != codes)))


def split_trials(
    codes: np.ndarray, metadata: pd.DataFrame | None, images: pd.DataFrame, *, source: str | Path
) -> MegSplit:
    """Split a derivative's epochs into ordered training and test trials.

    Parameters
    ----------
    codes : numpy.ndarray
        ``epochs.events[:, 2]``: the THINGS image number of every epoch, or 999999.
    metadata : pandas.DataFrame or None
        ``epochs.metadata``; needs the ``trial_type`` column, uses ``session_nr``
        when present and cross-checks ``things_category_nr`` / ``things_image_nr``.
    images : pandas.DataFrame
        :func:`~necomimi.data.things_meg.read_things_images`: concept and file of
        every THINGS image.
    source : str or Path
        The derivative, named in every message.

    Returns
    -------
    MegSplit

    Raises
    ------
    ValueError
        If the trials break a rule of the module docstring; the message names
        ``source`` and the offending epochs, images or concepts.
    """
    source = Path(source)
    codes = np.asarray(codes, dtype=np.int64)
    types = _trial_types(metadata, len(codes), source)
    _check_catch(codes, types, source)
    sessions = _sessions(metadata, source)
    _check_catch_per_session(types, sessions, source)
    test_images, n_sessions = _test_images(codes, types, sessions, source)

    exp = np.flatnonzero(types == TRIAL_EXP)
    exp_images, exp_counts = np.unique(codes[exp], return_counts=True)
    if np.any(exp_counts > 1):
        raise ValueError(
            f"{source}: '{TRIAL_EXP}' image(s) {_listed(exp_images[exp_counts > 1].tolist())} "
            "occur more than once; every exp image is shown once"
        )
    concepts = _concepts(codes, types, metadata, images, source)
    test_concepts = np.unique(images["things_category_nr"].to_numpy()[test_images - 1])

    train = exp[~np.isin(concepts[exp], test_concepts)]
    train = train[np.argsort(codes[train], kind="stable")]
    if len(train) == 0:
        raise ValueError(f"{source}: no '{TRIAL_EXP}' trials of concepts other than the test images'")
    folders = images.drop_duplicates("things_category_nr").set_index("things_category_nr")["folder"]
    neither = np.setdiff1d(folders.index.to_numpy(), np.union1d(test_concepts, concepts[train]))
    if len(neither):
        raise ValueError(
            f"{source}: concept(s) {_listed(folders[neither].tolist())} of {_index_file(images)} are neither "
            "test nor training concepts: no trial shows one of their images (a training concept whose "
            "trials were all removed?)"
        )
    _check_grouped_by_concept(codes[train], concepts[train], images, source)
    train_concepts, per_concept = np.unique(concepts[train], return_counts=True)
    values, how_often = np.unique(per_concept, return_counts=True)
    n_images = int(values[np.argmax(how_often)])
    short = train_concepts[per_concept != n_images]
    if len(short):
        found = {folders[c]: int(n) for c, n in zip(train_concepts, per_concept, strict=True) if c in short}
        raise ValueError(
            f"{source}: training concept(s) {_listed(list(found.items()))} do not have the "
            f"{n_images} '{TRIAL_EXP}' images of the other training concepts (a missing image?)"
        )

    test_mask = types == TRIAL_TEST
    test_rows = np.flatnonzero(test_mask)
    key = sessions[test_rows] if sessions is not None else np.zeros(len(test_rows), dtype=np.int64)
    test_rows = test_rows[np.lexsort((key, codes[test_rows]))]  # stable: acquisition order breaks ties
    test_trials = test_rows.reshape(len(test_images), n_sessions)
    assert np.array_equal(codes[test_trials[:, 0]], test_images)

    # ATM's rule (MEG.md 2.1 step 5) must find the same test images.
    shown, counts = np.unique(codes[types != TRIAL_CATCH], return_counts=True)
    if n_sessions > 1 and not np.array_equal(shown[counts == n_sessions], test_images):
        raise ValueError(
            f"{source}: test metadata inconsistent: the images shown {n_sessions} times are "
            f"not the '{TRIAL_TEST}' images"
        )

    label_of = {int(c): i for i, c in enumerate(train_concepts)}
    rows = images.loc[codes[train]]
    train_index = pd.DataFrame(
        {
            "row": np.arange(len(train)),
            "label": [label_of[int(c)] for c in concepts[train]],
            "things_image_nr": codes[train],
            "things_category_nr": concepts[train],
            "concept": rows["concept"].to_numpy(),
            "folder": rows["folder"].to_numpy(),
            "image_path": [f"{TRAINING_IMAGES_DIR}/{d}/{f}" for d, f in zip(rows["folder"], rows["file"], strict=True)],
            "session": sessions[train] if sessions is not None else pd.NA,
            "trial": train,
        }
    )
    rows = images.loc[test_images]
    test_index = pd.DataFrame(
        {
            "row": np.arange(len(test_images)),
            "things_image_nr": test_images,
            "things_category_nr": rows["things_category_nr"].to_numpy(),
            "concept": rows["concept"].to_numpy(),
            "folder": rows["folder"].to_numpy(),
            "image_path": [f"{TEST_IMAGES_DIR}/{d}/{f}" for d, f in zip(rows["folder"], rows["file"], strict=True)],
            "sessions": [",".join(map(str, sessions[t])) if sessions is not None else pd.NA for t in test_trials],
            "trials": [",".join(map(str, t)) for t in test_trials],
        }
    )
    counts = {
        "n_trials": len(codes),
        "n_exp": int(np.sum(types == TRIAL_EXP)),
        "n_test_trials": int(test_mask.sum()),
        "n_catch": int(np.sum(types == TRIAL_CATCH)),
        "n_sessions": n_sessions,
        "n_test_images": len(test_images),
        "n_train_concepts": len(train_concepts),
        "n_images_per_concept": n_images,
        "n_train_trials": len(train),
    }
    mismatches = _image_nr_mismatches(codes, types, metadata)
    if mismatches:
        logger.warning(
            "%s: %d trial(s) have a metadata '%s' other than their event code; the event code is used",
            source, mismatches, METADATA_IMAGE,
        )  # fmt: skip
    return MegSplit(train, test_trials, train_index, test_index, n_sessions, counts, mismatches)


def check_real_counts(counts: dict, *, source: str | Path, skip: tuple[str, ...] = ()) -> None:
    """Refuse counts that are not those of a real THINGS-MEG participant (MEG.md 4.2).

    Parameters
    ----------
    counts : dict
        :attr:`MegSplit.counts` plus ``n_channels`` and ``n_times``.
    source : str or Path
        Named in the message.
    skip : tuple of str
        Counts not to check, e.g. ``n_times`` where the window kept is not ATM's 0-1 s
        (201 samples is the real count only for that window).

    Raises
    ------
    ValueError
        Listing every count that differs from
        :data:`~necomimi.data.things_meg.REAL_COUNTS`.
    """
    differ = {k: (counts.get(k), v) for k, v in REAL_COUNTS.items() if k not in skip and counts.get(k) != v}
    if differ:
        listed = ", ".join(f"{k} {found} (expected {want})" for k, (found, want) in differ.items())
        raise ValueError(f"{source}: not the counts of a real THINGS-MEG participant: {listed}")
