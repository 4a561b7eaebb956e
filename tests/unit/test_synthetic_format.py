"""The synthetic THINGS-EEG2 is written in exactly the formats of the real release."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from necomimi.data.synthetic import SyntheticSpec, write_dataset
from necomimi.data.synthetic.writer import session_conditions
from necomimi.data.things_eeg2 import CHANNEL_NAMES, TARGET_EVENT, raw_file
from tests.conftest import TINY_SPEC, load_raw, raw_events

SUBJECTS = ("01", "02")


def _raw_paths(root, subject):
    return [
        raw_file(root / "raw", subject, session, partition)
        for session in range(1, TINY_SPEC.n_sessions + 1)
        for partition in ("training", "test")
    ]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_raw_files_hold_the_release_dict(tiny_dataset, subject):
    for path in _raw_paths(tiny_dataset, subject):
        content = load_raw(path)
        assert set(content) == {"raw_eeg_data", "ch_names", "ch_types", "sfreq"}
        data = content["raw_eeg_data"]
        assert data.dtype == np.float64
        assert data.ndim == 2 and data.shape[0] == 64
        assert list(content["ch_names"]) == [*CHANNEL_NAMES, "stim"]
        assert list(content["ch_types"]) == ["eeg"] * 63 + ["stim"]
        assert content["sfreq"] == 1000
        assert np.all(np.isfinite(data))
        # EEG in volts: tens of microvolts, not microvolts-as-numbers.
        assert 1e-6 < np.std(data[:63]) < 2e-4


@pytest.mark.parametrize("subject", SUBJECTS)
def test_find_events_finds_every_trial_at_the_soa(tiny_dataset, subject):
    groups = session_conditions(TINY_SPEC, subject, TINY_SPEC.n_train_images)
    for session in range(1, TINY_SPEC.n_sessions + 1):
        for partition in ("training", "test"):
            content = load_raw(raw_file(tiny_dataset / "raw", subject, session, partition))
            events = raw_events(content)
            stim = content["raw_eeg_data"][-1]
            onsets = np.flatnonzero(np.diff(np.r_[0.0, stim]) > 0)
            assert len(events) == len(onsets)  # every pulse is one event
            np.testing.assert_array_equal(events[:, 0], onsets)
            assert set(np.diff(events[:, 0])) == {200}  # SOA 200 ms at 1000 Hz
            codes = events[:, 2]
            stimuli = codes[codes != TARGET_EVENT]
            assert np.sum(codes == TARGET_EVENT) >= 1
            if partition == "training":
                expected = np.repeat(groups[session - 1], TINY_SPEC.train_reps_per_session)
            else:
                expected = np.repeat(
                    np.arange(1, TINY_SPEC.n_test_concepts + 1), TINY_SPEC.test_reps_per_session
                )
            np.testing.assert_array_equal(np.sort(stimuli), np.sort(expected))
            # Room for the reference epochs (-0.2 .. 1.0 s) around every onset.
            assert events[0, 0] >= 200 and len(stim) - events[-1, 0] > 1000


@pytest.mark.parametrize("subject", SUBJECTS)
def test_repetition_structure_matches_things_eeg2(tiny_dataset, subject):
    sessions_per_image, shows_per_image = Counter(), Counter()
    test_counts = []
    for session in range(1, TINY_SPEC.n_sessions + 1):
        train_codes = raw_events(load_raw(raw_file(tiny_dataset / "raw", subject, session, "training")))[:, 2]
        train_codes = train_codes[train_codes != TARGET_EVENT]
        for code, count in Counter(train_codes).items():
            sessions_per_image[code] += 1
            assert count == TINY_SPEC.train_reps_per_session
            shows_per_image[code] += count
        test_codes = raw_events(load_raw(raw_file(tiny_dataset / "raw", subject, session, "test")))[:, 2]
        test_counts.append(Counter(test_codes[test_codes != TARGET_EVENT]))
    images = range(1, TINY_SPEC.n_train_images + 1)
    assert all(sessions_per_image[i] == 2 for i in images)  # each image in exactly 2 sessions
    assert all(shows_per_image[i] == 4 for i in images)
    for counts in test_counts:  # every test image, every session, configured reps
        assert counts == {i: TINY_SPEC.test_reps_per_session for i in range(1, TINY_SPEC.n_test_concepts + 1)}


def test_image_files_and_metadata_agree(tiny_dataset):
    image_set = tiny_dataset / "image_set"
    metadata = np.load(image_set / "image_metadata.npy", allow_pickle=True).item()
    assert set(metadata) == {"train_img_concepts", "train_img_files", "test_img_concepts", "test_img_files"}
    assert len(metadata["train_img_files"]) == TINY_SPEC.n_train_images
    assert len(metadata["test_img_files"]) == TINY_SPEC.n_test_concepts
    for partition, key, letters in (("training_images", "train", "bns"), ("test_images", "test", "s")):
        folders = sorted(p.name for p in (image_set / partition).iterdir() if p.is_dir())
        assert sorted(set(metadata[f"{key}_img_concepts"])) == folders
        for number, folder in enumerate(folders, start=1):
            assert re.fullmatch(rf"{number:05d}_[a-z0-9_]+", folder)
        for folder, name in zip(metadata[f"{key}_img_concepts"], metadata[f"{key}_img_files"], strict=True):
            concept = folder.split("_", 1)[1]
            assert re.fullmatch(rf"{concept}_\d\d[{letters}]\.jpg", name)
            with Image.open(image_set / partition / folder / name) as image:
                assert image.format == "JPEG"
                assert image.size == (TINY_SPEC.image_size, TINY_SPEC.image_size)
                assert image.mode == "RGB"
        # Condition order = sorted folders, sorted files within (SPEC.md 1.3).
        pairs = list(zip(metadata[f"{key}_img_concepts"], metadata[f"{key}_img_files"], strict=True))
        assert pairs == sorted(pairs)
    train_concepts = {f.split("_", 1)[1] for f in metadata["train_img_concepts"]}
    test_concepts = {f.split("_", 1)[1] for f in metadata["test_img_concepts"]}
    assert not train_concepts & test_concepts  # zero-shot: test concepts are unseen


def test_concept_tags_give_five_tags_per_test_concept(tiny_dataset):
    tags = pd.read_csv(tiny_dataset / "concept_tags.csv")
    assert list(tags.columns) == ["index", "folder", "broad_1", "broad_2", "specific", "concept", "background"]
    metadata = np.load(tiny_dataset / "image_set" / "image_metadata.npy", allow_pickle=True).item()
    assert list(tags["folder"]) == list(metadata["test_img_concepts"])
    factors = pd.read_csv(tiny_dataset / "image_factors.csv")
    test = factors[factors["partition"] == "test"].reset_index(drop=True)
    assert list(tags["broad_1"]) == list(test["shape_family"])
    assert list(tags["broad_2"]) == list(test["colour_family"])
    assert list(tags["specific"]) == list(test["shape"])
    assert list(tags["background"]) == list(test["background"])
    assert all(tags[column].str.len().gt(0).all() for column in tags.columns[2:])


def test_same_seed_same_bytes_other_seed_other_data(tiny_dataset, tmp_path):
    write_dataset(tmp_path / "again", TINY_SPEC, ["01"])
    files = [p.relative_to(tiny_dataset) for p in tiny_dataset.rglob("*") if p.is_file() and "sub-02" not in str(p)]
    assert len(files) > 20
    for relative in files:
        assert (tmp_path / "again" / relative).read_bytes() == (tiny_dataset / relative).read_bytes(), relative
    other = SyntheticSpec(**{**TINY_SPEC.__dict__, "seed": 8})
    write_dataset(tmp_path / "other", other, ["01"])
    first = load_raw(raw_file(tiny_dataset / "raw", "01", 1, "test"))["raw_eeg_data"]
    second = load_raw(raw_file(tmp_path / "other" / "raw", "01", 1, "test"))["raw_eeg_data"]
    assert first.shape != second.shape or not np.allclose(first[:63], second[:63])


def test_subjects_differ(tiny_dataset):
    first = load_raw(raw_file(tiny_dataset / "raw", "01", 1, "test"))["raw_eeg_data"]
    second = load_raw(raw_file(tiny_dataset / "raw", "02", 1, "test"))["raw_eeg_data"]
    assert first.shape != second.shape or not np.allclose(first[:63], second[:63])


def test_recordings_are_the_same_bytes_whatever_the_blas_threads(tmp_path):
    from threadpoolctl import threadpool_limits

    from necomimi.data.synthetic.writer import write_image_set, write_subject_raw

    files = {}
    for threads in (1, 2):
        root = tmp_path / f"threads-{threads}"
        write_image_set(root, TINY_SPEC)
        with threadpool_limits(limits=threads, user_api="blas"):
            written = write_subject_raw(root, TINY_SPEC, "01")
            files[threads] = {path.relative_to(root): path.read_bytes() for path in written}
    assert files[1] == files[2]
