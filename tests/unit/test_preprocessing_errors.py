"""Bad raw input stops preprocessing with a message naming the file; nothing is left."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from necomimi.data.things_eeg2 import CHANNEL_NAMES
from necomimi.preprocessing import preprocess_subject
from tests.unit.test_preprocessing import OPTIONS


@pytest.fixture
def subject_dir(tiny_dataset, tmp_path):
    """A writable copy of sub-01's raw recordings."""
    target = tmp_path / "sub-01"
    shutil.copytree(tiny_dataset / "raw" / "sub-01", target)
    return target


def _edit(path, change):
    content = np.load(path, allow_pickle=True).item()
    change(content)
    np.save(path, content, allow_pickle=True)


def _fails(subject_dir, tmp_path, match, **overrides):
    out = tmp_path / "out"
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        preprocess_subject(subject_dir, out, mvnn_dim="epochs", **{**OPTIONS, **overrides})
    assert not out.exists() or list(out.iterdir()) == []


def test_missing_session_file(subject_dir, tmp_path):
    (subject_dir / "ses-03" / "raw_eeg_test.npy").unlink()
    _fails(subject_dir, tmp_path, r"missing raw recording.*ses-03/raw_eeg_test\.npy")


def test_missing_and_misspelt_channels_are_listed(subject_dir, tmp_path):
    def misspell(content):
        names = list(content["ch_names"])
        names[names.index("Oz")] = "OZ"
        names[names.index("Fp1")] = "FP1"
        content["ch_names"] = names

    _edit(subject_dir / "ses-02" / "raw_eeg_training.npy", misspell)
    _fails(
        subject_dir,
        tmp_path,
        r"ses-02/raw_eeg_training\.npy: missing EEG channel\(s\) \['Fp1', 'Oz'\]; "
        r"channels not in the THINGS-EEG2 montage: \['FP1', 'OZ'\]",
    )


def test_no_stim_channel(subject_dir, tmp_path):
    def drop_stim(content):
        content["raw_eeg_data"] = content["raw_eeg_data"][:-1]
        content["ch_names"] = list(content["ch_names"])[:-1]
        content["ch_types"] = list(content["ch_types"])[:-1]

    _edit(subject_dir / "ses-01" / "raw_eeg_training.npy", drop_stim)
    _fails(subject_dir, tmp_path, r"ses-01/raw_eeg_training\.npy: no 'stim' channel")


def test_no_events(subject_dir, tmp_path):
    _edit(subject_dir / "ses-01" / "raw_eeg_test.npy", lambda c: c["raw_eeg_data"][-1].fill(0))
    _fails(subject_dir, tmp_path, r"ses-01/raw_eeg_test\.npy: no stimulus events")


def test_fewer_repetitions_than_asked(subject_dir, tmp_path):
    _fails(
        subject_dir,
        tmp_path,
        r"ses-01/raw_eeg_training\.npy: \d+ image condition\(s\) have fewer than the 3 repetitions",
        train_reps_per_session=3,
    )


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_or_inf(subject_dir, tmp_path, value):
    def corrupt(content):
        content["raw_eeg_data"][CHANNEL_NAMES.index("Cz"), 500] = value

    _edit(subject_dir / "ses-04" / "raw_eeg_test.npy", corrupt)
    _fails(subject_dir, tmp_path,
           r"ses-04/raw_eeg_test\.npy: raw_eeg_data holds NaN or Inf values \(channels \['Cz'\]\)")


def test_sfreq_above_the_recording(subject_dir, tmp_path):
    _fails(subject_dir, tmp_path, r"raw_eeg_training\.npy: requested sfreq 2000.0 Hz is above", sfreq=2000.0)


def test_truncated_file(subject_dir, tmp_path):
    path = subject_dir / "ses-02" / "raw_eeg_test.npy"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _fails(subject_dir, tmp_path, r"ses-02/raw_eeg_test\.npy: cannot read")


def test_unreadable_file(subject_dir, tmp_path):
    (subject_dir / "ses-02" / "raw_eeg_test.npy").write_bytes(b"not a numpy file at all")
    _fails(subject_dir, tmp_path, r"ses-02/raw_eeg_test\.npy: cannot read")


def test_channel_order_in_the_file_does_not_matter(subject_dir, tmp_path, tiny_dataset):
    order = np.r_[np.random.default_rng(1).permutation(63), 63]
    for path in subject_dir.rglob("raw_eeg_*.npy"):

        def permute(content):
            content["raw_eeg_data"] = content["raw_eeg_data"][order]
            content["ch_names"] = [content["ch_names"][i] for i in order]
            content["ch_types"] = [content["ch_types"][i] for i in order]

        _edit(path, permute)
    preprocess_subject(subject_dir, tmp_path / "shuffled", mvnn_dim="epochs", **OPTIONS)
    preprocess_subject(tiny_dataset / "raw" / "sub-01", tmp_path / "canonical", mvnn_dim="epochs", **OPTIONS)
    for name in ("eeg_train.npy", "eeg_test.npy"):
        np.testing.assert_array_equal(
            np.load(tmp_path / "shuffled" / name), np.load(tmp_path / "canonical" / name)
        )
