"""necomimi.preprocessing reproduces the reference preprocessing (SPEC.md 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from necomimi.data.things_eeg2 import CHANNEL_NAMES
from necomimi.preprocessing import preprocess_subject
from tests.conftest import TINY_SPEC
from tests.reference_preprocessing import reference_preprocess

OPTIONS = dict(
    n_sessions=TINY_SPEC.n_sessions,
    sfreq=250.0,
    tmin=-0.2,
    tmax=1.0,
    train_reps_per_session=TINY_SPEC.train_reps_per_session,
    test_reps_per_session=TINY_SPEC.test_reps_per_session,
    seed=20200220,
)


def _max_relative_difference(ours, reference):
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


@pytest.mark.parametrize("mvnn_dim", ["epochs", "time"])
def test_matches_the_literal_reference_algorithm(tiny_dataset, tmp_path, mvnn_dim):
    raw_dir = tiny_dataset / "raw" / "sub-01"
    preprocess_subject(raw_dir, tmp_path, mvnn_dim=mvnn_dim, **OPTIONS)
    ref_train, ref_test, ref_times = reference_preprocess(
        raw_dir,
        n_sessions=OPTIONS["n_sessions"],
        sfreq=OPTIONS["sfreq"],
        mvnn_dim=mvnn_dim,
        train_reps=OPTIONS["train_reps_per_session"],
        test_reps=OPTIONS["test_reps_per_session"],
        seed=OPTIONS["seed"],
    )
    for name, reference in (("eeg_train.npy", ref_train), ("eeg_test.npy", ref_test)):
        ours = np.load(tmp_path / name, mmap_mode="r")
        assert ours.dtype == np.float32
        assert ours.shape == reference.shape
        # The criteria: per-image means, and sorted per-repetition norms.
        assert _max_relative_difference(ours.mean(axis=1), reference.mean(axis=1)) < 1e-5
        our_norms = np.sort(np.linalg.norm(ours, axis=(2, 3)), axis=1)
        ref_norms = np.sort(np.linalg.norm(reference, axis=(2, 3)), axis=1)
        assert _max_relative_difference(our_norms, ref_norms) < 1e-5
        # Stronger: the same repetition order too, element by element.
        assert _max_relative_difference(np.asarray(ours), reference) < 1e-5
    info = json.loads((tmp_path / "info.json").read_text())
    np.testing.assert_allclose(info["times"], ref_times[50:], atol=1e-9)
    assert len(info["times"]) == 250 and info["times"][0] == 0.0 and info["times"][-1] == 0.996
    assert info["ch_names"] == list(CHANNEL_NAMES)
    assert info["n_train_images"] == TINY_SPEC.n_train_images and info["n_train_reps"] == 4
    assert info["n_test_images"] == TINY_SPEC.n_test_concepts
    assert info["n_test_reps"] == TINY_SPEC.n_sessions * TINY_SPEC.test_reps_per_session
    assert info["options"]["mvnn_dim"] == mvnn_dim
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eeg_test.npy", "eeg_train.npy", "info.json"]
