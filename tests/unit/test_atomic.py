"""Atomic writes leave either the finished file or nothing."""

from __future__ import annotations

import numpy as np
import pytest

from necomimi.utils.atomic import atomic_path, save_pickled_dict_npy


def test_failed_write_leaves_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_path(target) as tmp:
        tmp.write_text("finished")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "finished"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_pickled_dict_reads_back_like_the_release(tmp_path):
    path = tmp_path / "sub" / "raw.npy"
    save_pickled_dict_npy(path, {"raw_eeg_data": np.ones((2, 3)), "sfreq": 1000})
    content = np.load(path, allow_pickle=True).item()
    assert content["sfreq"] == 1000
    np.testing.assert_array_equal(content["raw_eeg_data"], np.ones((2, 3)))
