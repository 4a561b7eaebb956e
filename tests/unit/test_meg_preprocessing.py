"""Both THINGS-MEG entry points on the synthetic data (MEG.md 4.1-4.3).

Entry point A must give ATM's arrays (tests/reference_meg_preprocessing.py, MEG.md
2.1 steps 1-10) up to dtype and the order of the test repetitions; entry point B must
follow the dataset authors' steps (MEG.md 1.6) sample for sample.
"""

from __future__ import annotations

import json
import shutil

import mne
import numpy as np
import pandas as pd
import pytest

from necomimi.data.synthetic.meg_signal import SENSORS
from necomimi.data.synthetic.meg_writer import IMAGE_SET_DIR, bids_root, things_tables
from necomimi.data.things_meg import (
    CATCH_EVENT,
    DEAD_CHANNEL,
    REAL_COUNTS,
    TRIGGER_CHANNEL,
    derivative_file,
    derivative_parts,
)
from necomimi.preprocessing.meg_derivative import check_identical_splits, crop_samples
from necomimi.preprocessing.meg_outputs import OUTPUT_FILES, read_ch_names
from necomimi.preprocessing.meg_raw import epochs_from_raw, find_runs
from necomimi.preprocessing.meg_split import check_real_counts
from necomimi.utils.hashing import file_sha256
from tests.meg_fixtures import (
    MEG_SPEC,
    PARTICIPANTS,
    preprocess,
    preprocessed_meg,
    synthetic_meg,
)
from tests.reference_meg_preprocessing import atm_reference


@pytest.fixture(scope="session")
def meg_root(tmp_path_factory):
    return synthetic_meg(tmp_path_factory)


@pytest.fixture(scope="session")
def meg_out(tmp_path_factory):
    return preprocessed_meg(tmp_path_factory)


@pytest.fixture(scope="session")
def reference(meg_root):
    """ATM's arrays for participant 1."""
    _, concept_index = things_tables(meg_root)
    return atm_reference(derivative_file(bids_root(meg_root), 1), concept_index, MEG_SPEC.n_sessions)


def test_outputs_are_complete(meg_out):
    for participant in PARTICIPANTS:
        out = meg_out / f"sub-BIGMEG{participant}"
        assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)


def test_training_array_equals_atm_up_to_dtype(meg_out, reference):
    train = np.load(meg_out / "sub-BIGMEG1" / "train.npy")
    assert train.dtype == np.float32
    expected = reference["train"]
    n_concepts, n_images = expected.shape[:2]
    assert train.shape == (n_concepts * n_images, *expected.shape[3:])
    assert np.array_equal(train, expected.reshape(train.shape).astype(np.float32))
    # ATM's view is a free reshape.
    assert train.reshape(n_concepts, n_images, 1, *train.shape[1:]).shape == expected.shape
    index = pd.read_csv(meg_out / "sub-BIGMEG1" / "train_index.tsv", sep="\t")
    assert np.array_equal(index["things_image_nr"], reference["train_ids"])


def test_test_array_equals_atm_by_session(meg_out, reference):
    test = np.load(meg_out / "sub-BIGMEG1" / "test.npy")
    expected = reference["test"][:, 0]  # (images, repetitions, C, T), ATM's repetition order
    assert test.dtype == np.float32 and test.shape == expected.shape
    for image in range(len(test)):
        for repetition, session in enumerate(reference["test_sessions"][image]):
            # our repetition r is session r + 1
            assert np.array_equal(test[image, session - 1], expected[image, repetition].astype(np.float32))
    index = pd.read_csv(meg_out / "sub-BIGMEG1" / "test_index.tsv", sep="\t", dtype={"sessions": str})
    assert np.array_equal(index["things_image_nr"], reference["test_ids"])
    assert set(index["sessions"]) == {",".join(str(s) for s in range(1, MEG_SPEC.n_sessions + 1))}


def test_times_and_channels(meg_out, reference):
    out = meg_out / "sub-BIGMEG1"
    times = np.load(out / "times.npy")
    assert len(times) == 201 and times[0] == 0.0 and np.isclose(times[-1], 1.0)
    assert np.array_equal(times, reference["times"])
    names = read_ch_names(out / "ch_names.txt")
    assert names == reference["ch_names"] == [s for s in SENSORS if s != DEAD_CHANNEL]


def test_index_tables_point_at_the_image_set(meg_root, meg_out):
    out = meg_out / "sub-BIGMEG1"
    train = pd.read_csv(out / "train_index.tsv", sep="\t")
    test = pd.read_csv(out / "test_index.tsv", sep="\t")
    for path in [*train["image_path"], *test["image_path"]]:
        assert (meg_root / IMAGE_SET_DIR / path).is_file(), path
    assert train["things_image_nr"].is_monotonic_increasing and test["things_image_nr"].is_monotonic_increasing
    labels = train.groupby("things_category_nr")["label"].agg(set)
    assert list(labels) == [{i} for i in range(len(labels))]  # label = rank of the concept
    assert not set(train["things_category_nr"]) & set(test["things_category_nr"])
    assert train.groupby("label").size().nunique() == 1
    assert list(train["row"]) == list(range(len(train)))


def test_info_records_provenance(meg_root, meg_out):
    info = json.loads((meg_out / "sub-BIGMEG1" / "info.json").read_text())
    parts = derivative_parts(derivative_file(bids_root(meg_root), 1))
    assert {s["path"]: s["sha256"] for s in info["sources"]} == {
        str(p): file_sha256(p) for p in [*parts, *things_tables(meg_root)]
    }
    counts = info["counts"]
    assert counts["n_sessions"] == MEG_SPEC.n_sessions
    assert counts["n_test_images"] == MEG_SPEC.n_test_concepts
    assert counts["n_images_per_concept"] == MEG_SPEC.exp_images_per_concept
    assert counts["n_train_concepts"] == MEG_SPEC.n_concepts - MEG_SPEC.n_test_concepts
    assert counts["n_catch"] == MEG_SPEC.catch_per_run * MEG_SPEC.runs_per_session * MEG_SPEC.n_sessions
    assert info["package_versions"]["mne"] == mne.__version__
    assert info["options"]["tmin"] == 0.0 and info["options"]["tmax"] == 1.0
    assert info["shapes"]["test"] == [MEG_SPEC.n_test_concepts, MEG_SPEC.n_sessions, 26, 201]


def test_participants_share_the_image_order(meg_out):
    check_identical_splits([meg_out / f"sub-BIGMEG{p}" for p in PARTICIPANTS])
    first = pd.read_csv(meg_out / "sub-BIGMEG1" / "train_index.tsv", sep="\t")
    second = pd.read_csv(meg_out / "sub-BIGMEG2" / "train_index.tsv", sep="\t")
    assert not np.array_equal(first["trial"], second["trial"])  # different presentation orders


def test_identical_splits_refuses_a_different_order(meg_out, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(meg_out / "sub-BIGMEG2", other)
    table = pd.read_csv(other / "test_index.tsv", sep="\t")
    table.iloc[::-1].to_csv(other / "test_index.tsv", sep="\t", index=False)
    with pytest.raises(ValueError, match="image order differs"):
        check_identical_splits([meg_out / "sub-BIGMEG1", other])


def test_chunk_size_does_not_change_the_output(meg_root, meg_out, tmp_path):
    preprocess(meg_root, 1, tmp_path / "small-chunks", chunk_mb=0.001)
    for name in ("train.npy", "test.npy", "train_index.tsv", "test_index.tsv"):
        assert (tmp_path / "small-chunks" / name).read_bytes() == (meg_out / "sub-BIGMEG1" / name).read_bytes()


def test_crop_keeps_both_ends_like_epochs_crop():
    times = -0.1 + np.arange(281) / 200.0
    kept = crop_samples(times, 200.0, 0.0, 1.0)
    assert np.array_equal(kept, np.arange(20, 221))


def test_real_counts_checked_only_on_request(meg_root, tmp_path):
    with pytest.raises(ValueError, match=r"preprocessed_P1-epo\.fif: not the counts of a real THINGS-MEG "
                                         r"participant: n_trials 61 \(expected 27048\)"):  # fmt: skip
        preprocess(meg_root, 1, tmp_path / "out", expect_real_counts=True)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    check_real_counts(dict(REAL_COUNTS), source="real")  # the real numbers pass


# -- entry point B --------------------------------------------------------------------


@pytest.fixture(scope="session")
def epochs_b(meg_root):
    return epochs_from_raw(bids_root(meg_root), 1)


def test_b_events_are_the_optical_onsets_and_image_numbers(meg_root, epochs_b):
    tables = [pd.read_csv(r.events_path, sep="\t", na_values="n/a") for r in find_runs(bids_root(meg_root), 1)]
    table = pd.concat(tables, ignore_index=True)
    assert np.array_equal(epochs_b.events[:, 2], table["value"].fillna(CATCH_EVENT).astype(int))
    assert np.array_equal(epochs_b.metadata["sample"], table["sample"])
    assert epochs_b.ch_names == [s for s in SENSORS if s != DEAD_CHANNEL]


def test_b_follows_the_authors_steps_sample_for_sample(meg_root, epochs_b):
    # MEG.md 1.6 steps 3-8 by hand, for the trials of the second run of session 2.
    runs = find_runs(bids_root(meg_root), 1)
    run = runs[3]
    raw = mne.io.read_raw(run.raw_path, preload=True, verbose="error")
    raw.drop_channels([DEAD_CHANNEL])
    raw.filter(l_freq=0.1, h_freq=40.0, verbose="error")
    table = pd.read_csv(run.events_path, sep="\t")
    sensors = mne.pick_types(raw.info, meg="mag")
    first = sum(len(pd.read_csv(r.events_path, sep="\t")) for r in runs[:3])
    for k, sample in enumerate(table["sample"]):
        epoch = raw.get_data(picks=sensors)[:, sample - 120 : sample + 1561]  # -0.1 .. 1.3 s at 1200 Hz
        baseline = epoch[:, : 121]  # -0.1 .. 0 s, both ends
        zscored = (epoch - baseline.mean(axis=1, keepdims=True)) / baseline.std(axis=1, keepdims=True)
        np.testing.assert_allclose(epochs_b.get_data()[first + k], zscored[:, ::6], rtol=1e-6, atol=1e-9)


def test_b_reproduces_the_written_derivative(meg_root, epochs_b):
    saved = mne.read_epochs(derivative_file(bids_root(meg_root), 1), preload=True, verbose="error")
    assert np.array_equal(saved.get_data(), epochs_b.get_data().astype(np.float32).astype(np.float64))
    assert np.array_equal(saved.events, epochs_b.events)


def test_find_runs_skips_macos_junk(meg_root, tmp_path):
    root = tmp_path / "bids"
    shutil.copytree(bids_root(meg_root) / "sub-BIGMEG1", root / "sub-BIGMEG1")
    meg = root / "sub-BIGMEG1" / "ses-01" / "meg"
    (meg / "._sub-BIGMEG1_ses-01_task-main_run-01_meg.fif").write_bytes(b"\0\5\26\7")
    (meg / "._sub-BIGMEG1_ses-01_task-main_run-01_events.tsv").write_bytes(b"\0\5\26\7")
    assert [r.raw_path.name for r in find_runs(root, 1)] == [r.raw_path.name for r in find_runs(bids_root(meg_root), 1)]


def test_b_sets_channel_types_by_name(meg_root, epochs_b, tmp_path):
    # The ds004212 sidecars say OTHER / MISC; a reader may make the sensors 'misc'.
    root = tmp_path / "bids"
    shutil.copytree(bids_root(meg_root) / "sub-BIGMEG1", root / "sub-BIGMEG1")
    for run in find_runs(root, 1):
        raw = mne.io.read_raw(run.raw_path, preload=True, verbose="error")
        raw.set_channel_types({**dict.fromkeys(SENSORS, "misc"), TRIGGER_CHANNEL: "misc"},
                              on_unit_change="ignore", verbose="error")  # fmt: skip
        raw.save(run.raw_path, overwrite=True, verbose="error")
    retyped = epochs_from_raw(root, 1)
    assert retyped.ch_names == epochs_b.ch_names
    np.testing.assert_allclose(retyped.get_data(), epochs_b.get_data(), rtol=1e-5, atol=1e-6)
