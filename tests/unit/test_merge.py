"""Merging sessions: repetitions in session order, one shuffle, inconsistencies refused."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils import shuffle

from necomimi.preprocessing.subject import merge_sessions


def _stage(tmp_path, name, conditions, reps, value_of):
    """A staged session file whose entries encode (session, condition, rep)."""
    data = np.zeros((len(conditions), reps, 2, 3), dtype=np.float32)
    for i, condition in enumerate(conditions):
        for rep in range(reps):
            data[i, rep] = value_of(condition, rep)
    path = tmp_path / f"{name}.npy"
    np.save(path, data)
    return path, np.asarray(conditions)


def test_each_image_gets_its_sessions_reps_in_order_then_one_shuffle(tmp_path):
    staged = [
        _stage(tmp_path, "s1", [1, 3], 2, lambda c, r: 100 + 10 * c + r),
        _stage(tmp_path, "s2", [2, 4], 2, lambda c, r: 200 + 10 * c + r),
        _stage(tmp_path, "s3", [1, 3], 2, lambda c, r: 300 + 10 * c + r),
        _stage(tmp_path, "s4", [2, 4], 2, lambda c, r: 400 + 10 * c + r),
    ]
    out = tmp_path / "merged.npy"
    assert merge_sessions(staged, out, seed=20200220, partition="training") == (4, 4)
    merged = np.load(out)[:, :, 0, 0]
    order = shuffle(np.arange(4), random_state=20200220)
    expected = np.array(
        [[100 + 10 * c, 101 + 10 * c, 300 + 10 * c, 301 + 10 * c] for c in (1, 3)]
        + [[200 + 10 * c, 201 + 10 * c, 400 + 10 * c, 401 + 10 * c] for c in (2, 4)]
    )[[0, 2, 1, 3]]
    np.testing.assert_array_equal(merged, expected[:, order])


def test_gaps_in_the_conditions_are_named(tmp_path):
    staged = [_stage(tmp_path, "s1", [1, 2, 4], 1, lambda c, r: c)]
    with pytest.raises(ValueError, match=r"training: image conditions are not 1\.\.4; absent: \[3\]"):
        merge_sessions(staged, tmp_path / "m.npy", seed=0, partition="training")


def test_unequal_repetitions_across_images_are_refused(tmp_path):
    staged = [
        _stage(tmp_path, "s1", [1, 2], 1, lambda c, r: c),
        _stage(tmp_path, "s2", [1, 2], 1, lambda c, r: c),
        _stage(tmp_path, "s3", [1], 1, lambda c, r: c),
    ]
    with pytest.raises(ValueError, match=r"test: images appear in different numbers of sessions"):
        merge_sessions(staged, tmp_path / "m.npy", seed=0, partition="test")
