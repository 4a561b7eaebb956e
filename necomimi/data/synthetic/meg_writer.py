"""Write a synthetic THINGS-MEG in the layouts of the real data (MEG.md 1.3-1.6, 5).

Layout under the output folder::

    ds004212/                         BIDS, written with mne-bids (FIF, MEG.md 5.2)
      dataset_description.json, participants.tsv, task-main_events.json, README
      sub-BIGMEG{n}/ses-XX/meg/sub-BIGMEG{n}_ses-XX_task-main_run-YY_meg.fif
                                   .._meg.json, .._channels.tsv, .._events.tsv
      derivatives/preprocessed/preprocessed_P{n}-epo.fif (+ -epo-1.fif, ...)
                                   + preprocessed_P{n}-epo.json (entry point B's sidecar)
    THINGS/Metadata/Image-specific/image_paths.csv          header-less, as THINGS'
    THINGS/Metadata/Concept-specific/image_concept_index.csv
    image_set/training_images/{things_category_nr:05d}_{concept}/<file>.jpg
    image_set/test_images/{things_category_nr:05d}_{concept}/<file>.jpg
    image_factors.csv                 the generating factors of every image
    concept_tags.csv                  five CAT tags per test concept

The ``events.tsv`` files carry the six columns of ds004212 >= 2.0.0 (MEG.md 1.4), the
``channels.tsv`` files the real dataset's types (sensors ``OTHER``, ``UPPT001``
``MISC``; MEG.md 5.4). The derivative is made from the raw runs by entry point B
(:func:`necomimi.preprocessing.meg_raw.derivative_from_raw`), the dataset authors'
steps (MEG.md 1.6), and saved in split parts like the real one.
"""

from __future__ import annotations

import datetime
import json
import logging
import math
from pathlib import Path

import mne
import numpy as np
import pandas as pd

from necomimi.data.synthetic.images import (
    IMAGE_SET_DIR,
    factor_columns,
    render_image,
    save_jpeg,
    write_factors_table,
    write_tag_table,
)
from necomimi.data.synthetic.meg_design import MegImage, make_images, session_runs
from necomimi.data.synthetic.meg_signal import (
    CHANNEL_TYPES,
    CHANNELS,
    MISC_CHANNELS,
    REFERENCE_CHANNELS,
    SENSORS,
    make_brain,
    synthesize_run,
)
from necomimi.data.synthetic.meg_spec import SyntheticMegSpec
from necomimi.data.things_eeg2 import TEST_IMAGES_DIR, TRAINING_IMAGES_DIR
from necomimi.data.things_meg import (
    DERIVATIVE_SFREQ,
    DERIVATIVE_TMAX,
    DERIVATIVE_TMIN,
    EVENTS_COLUMNS,
    IMAGE_CONCEPT_INDEX_FILE,
    IMAGE_PATHS_FILE,
    RAW_SFREQ,
    TRIAL_EXP,
    TRIAL_TEST,
    TRIGGER_CHANNEL,
    derivative_file,
    participant_label,
)
from necomimi.utils.atomic import atomic_folder, atomic_path

logger = logging.getLogger(__name__)

BIDS_DIR = "ds004212"
THINGS_DIR = "THINGS"
_STREAM_PIXELS = 23
_FIRST_SESSION_DATE = datetime.datetime(2019, 5, 1, 9, 0, tzinfo=datetime.UTC)
#: BIDS channel types of the real ds004212 sidecars (MEG.md 1.2, 5.4).
_BIDS_TYPES = {
    **dict.fromkeys(SENSORS, "OTHER"),
    **dict.fromkeys(REFERENCE_CHANNELS, "MEGREFMAG"),
    **dict.fromkeys(MISC_CHANNELS, "MISC"),
    TRIGGER_CHANNEL: "MISC",
}
_EVENTS_SIDECAR = {
    "onset": {"Description": "Image onset measured with an optical sensor on the projector", "Units": "s"},
    "duration": {"Description": "Image duration", "Units": "s"},
    "trial_type": {"Description": "exp, test (repeated in every session) or catch (oddball)"},
    "things_category_nr": {"Description": "THINGS concept number (n/a for catch trials)"},
    "value": {"Description": "THINGS image number (n/a for catch trials)"},
    "sample": {"Description": "Image onset in samples, 1200 Hz (optical sensor)"},
}


def bids_root(out_dir: str | Path) -> Path:
    """Return the BIDS dataset inside a synthetic THINGS-MEG folder."""
    return Path(out_dir) / BIDS_DIR


def things_tables(out_dir: str | Path) -> tuple[Path, Path]:
    """Return the mini ``image_paths.csv`` and ``image_concept_index.csv`` of the folder."""
    root = Path(out_dir) / THINGS_DIR
    return root / IMAGE_PATHS_FILE, root / IMAGE_CONCEPT_INDEX_FILE


def write_meg_image_set(out_dir: str | Path, spec: SyntheticMegSpec) -> list[MegImage]:
    """Write the THINGS tables, the ATM image folders, ``image_factors.csv`` and the tag table.

    Training folders hold the exp images of the concepts without a test image, test
    folders the test images, as ATM copies them (MEG.md 2.1 step 13). The image set
    is built beside its final place and moved in whole.

    Returns
    -------
    list of MegImage
        Every image of the THINGS tables, by image number.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    images = make_images(spec)
    image_paths, concept_index = things_tables(out_dir)
    with atomic_path(image_paths) as tmp:
        tmp.write_text("".join(f"{image.things_path}\n" for image in images), encoding="utf-8")
    with atomic_path(concept_index) as tmp:
        tmp.write_text("".join(f"{image.concept_nr}\n" for image in images), encoding="utf-8")

    partitions = _image_set_partitions(images)
    rng = np.random.default_rng([spec.seed, _STREAM_PIXELS])
    with atomic_folder(out_dir / IMAGE_SET_DIR) as staging:
        for image, partition in zip(images, partitions, strict=True):
            pixels = render_image(image.factors, spec.image_size, rng)  # every image: a fixed stream
            if partition:
                folder = TRAINING_IMAGES_DIR if partition == "training" else TEST_IMAGES_DIR
                save_jpeg(pixels, staging / folder / image.folder / image.file)

    rows = [
        {"things_image_nr": i.number, "things_category_nr": i.concept_nr, "role": i.role, "partition": partition,
         "folder": i.folder, "file": i.file, **factor_columns(i.factors)}
        for i, partition in zip(images, partitions, strict=True)
    ]  # fmt: skip
    write_factors_table(out_dir, rows)
    tests = [image for image in images if image.role == TRIAL_TEST]  # by image number: test order
    write_tag_table(out_dir, [image.factors for image in tests], [image.folder for image in tests])
    return images


def _image_set_partitions(images: list[MegImage]) -> list[str]:
    """The image-set partition of every image: ``training``, ``test`` or ``""`` (not in the set).

    As ATM copies them (MEG.md 2.1 step 13): the test images, and the exp images of
    the concepts without a test image.
    """
    test_concepts = {image.concept_nr for image in images if image.role == TRIAL_TEST}
    return [
        "test" if image.role == TRIAL_TEST
        else "training" if image.role == TRIAL_EXP and image.concept_nr not in test_concepts
        else ""
        for image in images
    ]  # fmt: skip


def _events_table(trials, onsets: np.ndarray) -> pd.DataFrame:
    """Tabulate the six ds004212 >= 2.0.0 columns; catch trials have n/a image and concept."""
    return pd.DataFrame(
        {
            "onset": onsets / RAW_SFREQ,
            "duration": 0.5,
            "trial_type": [t.trial_type for t in trials],
            "things_category_nr": [float(t.image.concept_nr) if t.image else np.nan for t in trials],
            "value": [float(t.image.number) if t.image else np.nan for t in trials],
            "sample": onsets,
        },
        columns=list(EVENTS_COLUMNS),
    )


def _set_real_channel_types(channels_tsv: Path) -> None:
    table = pd.read_csv(channels_tsv, sep="\t", keep_default_na=False)
    table["type"] = [_BIDS_TYPES[name] for name in table["name"]]
    table.to_csv(channels_tsv, sep="\t", index=False)


def write_meg_participant(out_dir: str | Path, spec: SyntheticMegSpec, participant: int) -> list[Path]:
    """Write every raw run of one participant into the BIDS dataset, with mne-bids.

    Parameters
    ----------
    out_dir : str or Path
        Dataset folder (its ``ds004212`` is created or extended).
    spec : SyntheticMegSpec
        Size, design, signal strength and seed.
    participant : int
        Participant number n of ``sub-BIGMEG{n}``.

    Returns
    -------
    list of Path
        The raw FIF files, session by session, run by run.
    """
    from mne_bids import BIDSPath, update_sidecar_json, write_raw_bids

    root = bids_root(out_dir)
    images = make_images(spec)
    brain = make_brain(spec.seed, participant)
    info = mne.create_info(list(CHANNELS), RAW_SFREQ, list(CHANNEL_TYPES))
    info["line_freq"] = 60.0
    written = []
    for session, runs in enumerate(session_runs(spec, images, participant), start=1):
        date = _FIRST_SESSION_DATE + datetime.timedelta(days=7 * (session - 1) + 100 * (participant - 1))
        for run, trials in enumerate(runs, start=1):
            synthesized = synthesize_run(trials, brain, spec, session, run)
            raw = mne.io.RawArray(synthesized.data, info.copy(), verbose="error")
            raw.orig_format = "single"  # written as float32, like the CTF recordings' 32 bits
            raw.set_meas_date(date + datetime.timedelta(minutes=7 * (run - 1)))
            path = BIDSPath(subject=participant_label(participant), session=f"{session:02d}", task="main",
                            run=f"{run:02d}", datatype="meg", root=root)  # fmt: skip
            write_raw_bids(raw, path, format="FIF", allow_preload=True, overwrite=True, verbose="error")
            events = path.copy().update(suffix="events", extension=".tsv")
            with atomic_path(events.fpath) as tmp:
                _events_table(trials, synthesized.onsets).to_csv(tmp, sep="\t", index=False, na_rep="n/a")
            _set_real_channel_types(path.copy().update(suffix="channels", extension=".tsv").fpath)
            update_sidecar_json(path.copy().update(suffix="meg", extension=".json"),
                                {"Manufacturer": "CTF"}, verbose="error")  # fmt: skip
            written.append(path.fpath)
            logger.info("sub-%s ses-%02d run-%02d: %d trials -> %s",
                        participant_label(participant), session, run, len(trials), path.fpath)  # fmt: skip
    return written


def _write_dataset_files(root: Path) -> None:
    from mne_bids import make_dataset_description

    make_dataset_description(path=root, name="THINGS-MEG (synthetic, necomimi)", dataset_type="raw",
                             authors=["necomimi synthetic generator"], overwrite=True, verbose="error")  # fmt: skip
    with atomic_path(root / "task-main_events.json") as tmp:
        tmp.write_text(json.dumps(_EVENTS_SIDECAR, indent=4) + "\n", encoding="utf-8")
    with atomic_path(root / "README") as tmp:
        tmp.write_text(
            "Synthetic THINGS-MEG written by necomimi.data.synthetic.meg_writer: the layout of\n"
            "OpenNeuro ds004212 (>= 2.0.0) at a small scale, with FIF instead of CTF runs.\n",
            encoding="utf-8",
        )


def _part_bytes(root: Path, participant: int, n_parts: int) -> int:
    """Epoch data per split file that gives ``n_parts`` files for the participant."""
    from necomimi.preprocessing.meg_raw import find_runs, read_events_table

    n_epochs = sum(len(read_events_table(run.events_path)) for run in find_runs(root, participant))
    n_times = int(round((DERIVATIVE_TMAX - DERIVATIVE_TMIN) * DERIVATIVE_SFREQ)) + 1
    return math.ceil(n_epochs * (len(SENSORS) - 1) * n_times * 4 / n_parts)  # float32, dead sensor dropped


def write_meg_derivative(out_dir: str | Path, participant: int, *, n_parts: int = 2) -> list[Path]:
    """Make a participant's derivative from its raw runs (entry point B) and save it.

    Returns
    -------
    list of Path
        ``preprocessed_P{n}-epo.fif`` and its split parts.
    """
    from necomimi.preprocessing.meg_raw import derivative_from_raw

    root = bids_root(out_dir)
    return derivative_from_raw(root, participant, derivative_file(root, participant),
                               part_bytes=_part_bytes(root, participant, n_parts))  # fmt: skip


def write_meg_dataset(out_dir: str | Path, spec: SyntheticMegSpec, participants: list[int], *,
                      derivatives: bool = True) -> None:  # fmt: skip
    """Write the image set, then every participant's raw runs and (optionally) derivative.

    With ``derivatives=False`` the dataset holds raw runs only, like a download of
    ds004212 without its derivatives; the workflow then makes each participant's
    derivative itself, as its own job (entry point B).
    """
    write_meg_image_set(out_dir, spec)
    for participant in participants:
        write_meg_participant(out_dir, spec, participant)
    _write_dataset_files(bids_root(out_dir))
    if derivatives:
        for participant in participants:
            write_meg_derivative(out_dir, participant)
