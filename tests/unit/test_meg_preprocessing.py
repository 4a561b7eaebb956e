"""Both THINGS-MEG entry points on the synthetic data (MEG.md 4.1-4.3).

Entry point A must give ATM's arrays (tests/reference_meg_preprocessing.py, MEG.md
2.1 steps 1-10) up to dtype and the order of the test repetitions; entry point B must
follow the dataset authors' steps (MEG.md 1.6) sample for sample.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest

from necomimi.data.synthetic.images import IMAGE_SET_DIR
from necomimi.data.synthetic.meg_signal import REFERENCE_CHANNELS, SENSORS
from necomimi.data.synthetic.meg_writer import bids_root, things_tables
from necomimi.data.things_meg import (
    CATCH_EVENT,
    DEAD_CHANNEL,
    METADATA_SESSION,
    REAL_COUNTS,
    TRIGGER_CHANNEL,
    derivative_file,
    derivative_parts,
    derivative_sidecar,
)
from necomimi.preprocessing.meg_derivative import (
    crop_samples,
    preprocess_meg_derivative,
)
from necomimi.preprocessing.meg_outputs import OUTPUT_FILES, read_ch_names
from necomimi.preprocessing.meg_raw import (
    StagedEpochs,
    derivative_from_raw,
    find_runs,
    write_derivative,
)
from necomimi.preprocessing.meg_split import check_real_counts
from necomimi.utils.hashing import file_sha256
from necomimi.utils.npy import NpyWriter
from tests.meg_fixtures import (
    MEG_SPEC,
    PARTICIPANTS,
    preprocess,
)
from tests.reference_meg_preprocessing import atm_reference


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
    index = pd.read_csv(meg_out / "sub-BIGMEG1" / "train_index.tsv", sep="\t")
    assert np.array_equal(index["things_image_nr"], reference["train_ids"])
    # ATM's view is a free reshape whose first axis is the label (the concept's rank).
    labels = index["label"].to_numpy().reshape(n_concepts, n_images)
    assert np.array_equal(labels, np.repeat(np.arange(n_concepts)[:, None], n_images, axis=1))


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
    derivative = derivative_file(bids_root(meg_root), 1)
    sidecar = derivative_sidecar(derivative)
    assert {s["path"]: s["sha256"] for s in info["sources"]} == {
        str(p): file_sha256(p) for p in [*derivative_parts(derivative), sidecar, *things_tables(meg_root)]
    }
    # entry point B's sidecar, copied into the notes
    assert info["notes"]["derivative_provenance"] == json.loads(sidecar.read_text())
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
    # preprocessed_meg ran participant 2 with same_images_as=participant 1's folder
    info = json.loads((meg_out / "sub-BIGMEG2" / "info.json").read_text())
    assert info["options"]["same_images_as"] == str(meg_out / "sub-BIGMEG1")
    first = pd.read_csv(meg_out / "sub-BIGMEG1" / "train_index.tsv", sep="\t")
    second = pd.read_csv(meg_out / "sub-BIGMEG2" / "train_index.tsv", sep="\t")
    assert np.array_equal(first["things_image_nr"], second["things_image_nr"])
    assert not np.array_equal(first["trial"], second["trial"])  # different presentation orders


def test_a_refuses_images_that_differ_from_another_participant(meg_root, meg_out, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(meg_out / "sub-BIGMEG1", other)
    table = pd.read_csv(other / "test_index.tsv", sep="\t")
    table.iloc[::-1].to_csv(other / "test_index.tsv", sep="\t", index=False)
    with pytest.raises(ValueError, match=r"preprocessed_P2-epo\.fif: the test images differ in number or order "
                                         r"from those of .*other/test_index\.tsv"):  # fmt: skip
        preprocess(meg_root, 2, tmp_path / "out", same_images_as=other)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_without_session_numbers_keeps_the_acquisition_order(meg_root, meg_out, tmp_path, caplog):
    epochs = mne.read_epochs(derivative_file(bids_root(meg_root), 1), preload=True, verbose="error")
    epochs.metadata = epochs.metadata.drop(columns=[METADATA_SESSION])
    derivative = tmp_path / "preprocessed_P1-epo.fif"
    epochs.save(derivative, fmt="single", verbose="error")
    image_paths, concept_index = things_tables(meg_root)
    with caplog.at_level("WARNING", logger="necomimi.preprocessing.meg_split"):
        preprocess_meg_derivative(derivative, tmp_path / "out", image_paths=image_paths,
                                  image_concept_index=concept_index, cache_dir=tmp_path / "cache")  # fmt: skip
    assert "no 'session_nr' metadata column; repetitions are ordered by acquisition order" in caplog.text
    # The synthetic sessions come one after the other: acquisition order is session order.
    for name in ("train.npy", "test.npy"):
        assert np.array_equal(np.load(tmp_path / "out" / name), np.load(meg_out / "sub-BIGMEG1" / name))
    test_index = pd.read_csv(tmp_path / "out" / "test_index.tsv", sep="\t", keep_default_na=False)
    assert set(test_index["sessions"]) == {"n/a"}
    expected = pd.read_csv(meg_out / "sub-BIGMEG1" / "test_index.tsv", sep="\t")
    assert list(test_index["trials"]) == list(expected["trials"])


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
    other_window = {**REAL_COUNTS, "n_times": 161}  # e.g. 0.1-0.9 s
    with pytest.raises(ValueError, match=r"real: not the counts .*: n_times 161 \(expected 201\)"):
        check_real_counts(other_window, source="real")
    check_real_counts(other_window, source="real", skip=("n_times",))
    # Entry point A checks the samples only in ATM's window (201 is the real count there).
    with pytest.raises(ValueError, match="not the counts") as error:
        preprocess(meg_root, 1, tmp_path / "window", expect_real_counts=True, tmin=0.1, tmax=0.9)
    assert "n_times" not in str(error.value) and "n_channels 26 (expected 271)" in str(error.value)


# -- entry point B --------------------------------------------------------------------


def _b(root, out, **options):
    """Run entry point B on participant 1 into ``out``; return its epochs, loaded."""
    path = out / "preprocessed_P1-epo.fif"
    derivative_from_raw(root, 1, path, **options)
    return mne.read_epochs(path, preload=True, verbose="error")


@pytest.fixture(scope="session")
def epochs_b(meg_root):
    """Participant 1's derivative of the synthetic dataset, which entry point B made."""
    return mne.read_epochs(derivative_file(bids_root(meg_root), 1), preload=True, verbose="error")


def test_b_events_are_the_optical_onsets_and_image_numbers(meg_root, epochs_b):
    tables = [pd.read_csv(r.events_path, sep="\t", na_values="n/a") for r in find_runs(bids_root(meg_root), 1)]
    table = pd.concat(tables, ignore_index=True)
    assert np.array_equal(epochs_b.events[:, 2], table["value"].fillna(CATCH_EVENT).astype(int))
    assert np.array_equal(epochs_b.metadata["sample"], table["sample"])
    assert epochs_b.ch_names == [s for s in SENSORS if s != DEAD_CHANNEL]


def _offset_samples(runs):
    """The events.tsv samples of ``runs``, each run offset by the ends of the runs before it."""
    expected, offset = [], 0
    for run in runs:
        raw = mne.io.read_raw(run.raw_path, verbose="error")
        expected.append(pd.read_csv(run.events_path, sep="\t")["sample"].to_numpy() + raw.first_samp + offset)
        offset += raw.last_samp + 1
    return np.concatenate(expected)


def test_b_offsets_each_run_by_the_ends_of_the_runs_before(meg_root, epochs_b):
    assert np.array_equal(epochs_b.events[:, 0], _offset_samples(find_runs(bids_root(meg_root), 1)))


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
        np.testing.assert_allclose(epochs_b.get_data()[first + k], zscored[:, ::6], rtol=1e-6, atol=1e-6)


def test_b_sidecar_records_the_raw_files_and_parameters(meg_root):
    derivative = derivative_file(bids_root(meg_root), 1)
    sidecar = json.loads(derivative_sidecar(derivative).read_text())
    runs = find_runs(bids_root(meg_root), 1)
    assert [(r["session"], r["run"]) for r in sidecar["runs"]] == [(r.session, r.run) for r in runs]
    assert [r["raw_files"] for r in sidecar["runs"]] == [
        [{"path": str(r.raw_path), "bytes": r.raw_path.stat().st_size}] for r in runs
    ]
    assert sidecar["parameters"]["l_freq"] == 0.1 and sidecar["parameters"]["h_freq"] == 40.0
    assert sidecar["package_versions"]["mne"] == mne.__version__
    assert sidecar["n_epochs"] == len(mne.read_epochs(derivative, preload=False, verbose="error"))


def _staged(folder, seed, n_epochs=120):
    """Random float32 epochs of 12 sensors staged for write_derivative: (StagedEpochs, data)."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n_epochs, 12, 281)).astype(np.float32)
    info = mne.create_info([f"MLC{k:02d}-1609" for k in range(12)], 200.0, "mag")
    events = np.column_stack([1000 * np.arange(n_epochs) + 500, np.zeros(n_epochs, int), rng.integers(1, 6, n_epochs)])
    metadata = pd.DataFrame({"trial_type": "exp", "x": np.arange(float(n_epochs))})
    folder.mkdir(parents=True, exist_ok=True)
    with NpyWriter(folder / f"data-{seed}.npy", data.shape, np.float32) as writer:
        writer.write(data)
    return StagedEpochs(folder / f"data-{seed}.npy", data.shape, info, -0.1, 1200.0, events, metadata), data


_EPOCH_BYTES = 12 * 281 * 4


def test_write_derivative_matches_mnes_own_split_files(tmp_path):
    staged, data = _staged(tmp_path, 0)
    info, events, metadata = staged.info, staged.events, staged.metadata
    files = write_derivative(staged, tmp_path / "ours-epo.fif", part_bytes=_EPOCH_BYTES * 50)
    assert [f.name for f in files] == ["ours-epo.fif", "ours-epo-1.fif", "ours-epo-2.fif"]
    theirs = mne.EpochsArray(data.astype(np.float64), info, events=events, tmin=-0.1, metadata=metadata,
                             event_id={str(c): int(c) for c in np.unique(events[:, 2])}, raw_sfreq=1200.0,
                             verbose="error")  # fmt: skip
    theirs.save(tmp_path / "theirs-epo.fif", split_size=_EPOCH_BYTES * 50 + 2**20, verbose="error")
    ours, theirs = (mne.read_epochs(tmp_path / f"{n}-epo.fif", verbose="error") for n in ("ours", "theirs"))
    assert np.array_equal(ours.get_data(), theirs.get_data()) and np.array_equal(ours.events, theirs.events)
    assert ours.event_id == theirs.event_id and ours.drop_log == theirs.drop_log
    assert np.array_equal(ours.selection, theirs.selection) and ours.ch_names == theirs.ch_names
    pd.testing.assert_frame_equal(ours.metadata, theirs.metadata)
    lazy = mne.read_epochs(tmp_path / "ours-epo.fif", preload=False, verbose="error")
    assert np.array_equal(lazy.get_data(item=[100, 3, 60]), theirs.get_data()[[100, 3, 60]])


def test_write_derivative_replaces_an_old_one_parts_first(tmp_path, monkeypatch):
    path = tmp_path / "out" / "preprocessed_P1-epo.fif"
    old, old_data = _staged(tmp_path, 1)
    new, new_data = _staged(tmp_path, 2)
    write_derivative(old, path, part_bytes=_EPOCH_BYTES * 40, sidecar={"run": "old"})
    assert [p.name for p in derivative_parts(path)] == [path.name, f"{path.stem}-1.fif", f"{path.stem}-2.fif"]

    # Moving the new files in fails: the old derivative is still whole.
    def refuse(source, destination):
        raise OSError("no room")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="no room"):
        write_derivative(new, path, part_bytes=_EPOCH_BYTES * 60)
    monkeypatch.undo()
    assert np.array_equal(mne.read_epochs(path, verbose="error").get_data(), old_data.astype(np.float64))
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        [*(p.name for p in derivative_parts(path)), derivative_sidecar(path).name]
    )  # no staging folder left

    # The new parts go in first, then the sidecar, then the first file; the old part
    # numbered above the new count goes last.
    moved, replace = [], os.replace
    monkeypatch.setattr(os, "replace", lambda source, destination: (moved.append(Path(destination).name),
                                                                      replace(source, destination)))  # fmt: skip
    files = write_derivative(new, path, part_bytes=_EPOCH_BYTES * 60, sidecar={"run": "new"})
    assert moved == [f"{path.stem}-1.fif", derivative_sidecar(path).name, path.name]
    assert files == derivative_parts(path) == [path, path.with_name(f"{path.stem}-1.fif")]
    assert not path.with_name(f"{path.stem}-2.fif").exists()
    assert np.array_equal(mne.read_epochs(path, verbose="error").get_data(), new_data.astype(np.float64))
    assert json.loads(derivative_sidecar(path).read_text()) == {"run": "new"}


def test_find_runs_skips_macos_junk(meg_root, tmp_path):
    root = tmp_path / "bids"
    shutil.copytree(bids_root(meg_root) / "sub-BIGMEG1", root / "sub-BIGMEG1")
    meg = root / "sub-BIGMEG1" / "ses-01" / "meg"
    (meg / "._sub-BIGMEG1_ses-01_task-main_run-01_meg.fif").write_bytes(b"\0\5\26\7")
    (meg / "._sub-BIGMEG1_ses-01_task-main_run-01_events.tsv").write_bytes(b"\0\5\26\7")
    assert [r.raw_path.name for r in find_runs(root, 1)] == [r.raw_path.name for r in find_runs(bids_root(meg_root), 1)]


def _edited_copy(meg_root, tmp_path, change, which=None):
    """Participant 1's runs copied to ``tmp_path/bids``, runs ``which`` (all) saved as ``change(raw, k)``."""
    root = tmp_path / "bids"
    shutil.copytree(bids_root(meg_root) / "sub-BIGMEG1", root / "sub-BIGMEG1")
    runs = find_runs(root, 1)
    for k in range(len(runs)) if which is None else which:
        raw = mne.io.read_raw(runs[k].raw_path, preload=True, verbose="error")
        change(raw, k).save(runs[k].raw_path, overwrite=True, verbose="error")
    return root, runs


def test_b_sets_channel_types_by_name(meg_root, epochs_b, tmp_path):
    # The ds004212 sidecars say OTHER / MISC; a reader may make the sensors 'misc'.
    types = {**dict.fromkeys(SENSORS, "misc"), TRIGGER_CHANNEL: "misc"}
    root, _ = _edited_copy(meg_root, tmp_path, lambda raw, k: raw.set_channel_types(types, on_unit_change="ignore",
                                                                                    verbose="error"))  # fmt: skip
    retyped = _b(root, tmp_path / "out")
    assert retyped.ch_names == epochs_b.ch_names
    np.testing.assert_allclose(retyped.get_data(), epochs_b.get_data(), rtol=1e-5, atol=1e-6)


def test_b_keeps_the_sensors_only_whatever_else_is_typed_mag(meg_root, epochs_b, tmp_path):
    # picks='mag' would also take a reference channel that a file types 'mag'.
    types = dict.fromkeys(REFERENCE_CHANNELS, "mag")
    root, _ = _edited_copy(meg_root, tmp_path, lambda raw, k: raw.set_channel_types(types, on_unit_change="ignore",
                                                                                    verbose="error"))  # fmt: skip
    epochs = _b(root, tmp_path / "out")
    assert epochs.ch_names == epochs_b.ch_names
    assert np.array_equal(epochs.get_data(), epochs_b.get_data())


def test_b_reorders_the_channels_of_a_run_like_the_first(meg_root, epochs_b, tmp_path):
    root, _ = _edited_copy(meg_root, tmp_path, lambda raw, k: raw.reorder_channels(raw.ch_names[::-1]), [2])
    epochs = _b(root, tmp_path / "out")
    assert epochs.ch_names == epochs_b.ch_names
    assert np.array_equal(epochs.get_data(), epochs_b.get_data())


def test_b_handles_runs_that_do_not_start_at_sample_zero(meg_root, epochs_b, tmp_path):
    # FIF runs can start at any sample (first_samp); the events.tsv samples count from
    # the run's first sample. A late first run must not make the next run's events
    # collide with or precede its own.
    def shift(raw, k):
        return mne.io.RawArray(raw.get_data(), raw.info, first_samp=(10**7, 12345)[k], verbose="error")

    root, runs = _edited_copy(meg_root, tmp_path, shift, [0, 1])
    epochs = _b(root, tmp_path / "out")
    np.testing.assert_array_equal(epochs.get_data(), epochs_b.get_data())
    assert [mne.io.read_raw(r.raw_path, verbose="error").first_samp for r in runs[:2]] == [10**7, 12345]
    assert np.array_equal(epochs.events[:, 0], _offset_samples(runs))
    assert np.all(np.diff(epochs.events[:, 0]) > 0)


def test_b_reads_a_run_split_in_bids_parts(meg_root, epochs_b, tmp_path):
    root, (run, *_) = _edited_copy(meg_root, tmp_path, None, [])
    raw = mne.io.read_raw(run.raw_path, preload=True, verbose="error")
    raw.save(run.raw_path, split_size="2MB", split_naming="bids", overwrite=True, verbose="error")
    assert not run.raw_path.exists()  # MNE replaced the file by its parts
    parts = sorted(run.raw_path.parent.glob("*_run-01_split-*_meg.fif"))
    assert [p.name.split("_")[-2] for p in parts][:2] == ["split-01", "split-02"]
    found = find_runs(root, 1)
    assert len(found) == len(find_runs(bids_root(meg_root), 1))
    assert found[0].raw_path == parts[0] and found[0].events_path == run.events_path
    epochs = _b(root, tmp_path / "out")
    assert np.array_equal(epochs.get_data(), epochs_b.get_data())
