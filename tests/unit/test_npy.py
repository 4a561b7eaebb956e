"""Block-wise .npy writing and row reading give plain, complete arrays."""

from __future__ import annotations

import numpy as np
import pytest

from necomimi.utils.npy import NpyWriter, read_rows


def test_blocks_make_a_plain_npy_and_rows_read_back(tmp_path):
    data = np.arange(5 * 3 * 4, dtype=np.float64).reshape(5, 3, 4)
    path = tmp_path / "a.npy"
    with NpyWriter(path, data.shape, np.float32) as writer:
        writer.write(data[:2])
        writer.write(data[2:])
    loaded = np.load(path, mmap_mode="r")
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, data.astype(np.float32))
    np.testing.assert_array_equal(read_rows(path, 1, 4), data[1:4].astype(np.float32))


def test_missing_rows_and_wrong_blocks_are_refused(tmp_path):
    path = tmp_path / "b.npy"
    with pytest.raises(ValueError, match="wrote 1 rows of 2"), NpyWriter(path, (2, 3), np.float32) as writer:
        writer.write(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"block of shape \(1, 4\)"):
        NpyWriter(tmp_path / "c.npy", (2, 3), np.float32).write(np.zeros((1, 4)))


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "d.npy"
    np.save(path, np.zeros((4, 10), dtype=np.float32))
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match=r"d\.npy: truncated"):
        read_rows(path, 2, 4)
