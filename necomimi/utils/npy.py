"""Write and read ``.npy`` arrays in row blocks, without holding them in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _read_header(stream) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    if fortran or dtype.hasobject:
        raise ValueError(f"{stream.name}: expected a C-ordered numeric .npy array")
    return shape, dtype


def load_trials(path: str | Path) -> np.ndarray:
    """Memory-map a preprocessed array as (images, repetitions, channels, times).

    THINGS-EEG2 arrays are stored that way; a THINGS-MEG ``train.npy`` holds one
    single trial per image, (trials, channels, times), and is returned as the free
    view (trials, 1, channels, times).

    Raises
    ------
    ValueError
        If the array is neither 3-D nor 4-D; the message names the file.
    """
    array = np.load(path, mmap_mode="r")
    if array.ndim == 3:
        return array[:, None]
    if array.ndim != 4:
        raise ValueError(
            f"{path}: expected (images, repetitions, channels, times) or (trials, channels, times), "
            f"got shape {array.shape}"
        )
    return array


def read_rows(path: str | Path, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` (first axis) of an ``.npy`` array, read with plain file I/O."""
    with open(path, "rb") as stream:
        shape, dtype = _read_header(stream)
        row_items = int(np.prod(shape[1:], dtype=np.int64))
        stream.seek(start * row_items * dtype.itemsize, 1)
        count = (stop - start) * row_items
        rows = np.fromfile(stream, dtype=dtype, count=count)
    if rows.size != count:
        raise ValueError(f"{path}: truncated, expected {count} values from row {start}")
    return rows.reshape((stop - start, *shape[1:]))


class NpyWriter:
    """Write an ``.npy`` array of known shape block by block along its first axis.

    Use as a context manager; the file is complete only when every row was written,
    which :meth:`close` checks.
    """

    def __init__(self, path: str | Path, shape: tuple[int, ...], dtype) -> None:
        self.path = Path(path)
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self._rows = 0
        self._stream = open(self.path, "wb")
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
        np.lib.format.write_array_header_1_0(self._stream, header)

    def write(self, block: np.ndarray) -> None:
        """Append rows; ``block.shape[1:]`` must match the array's."""
        if block.shape[1:] != self.shape[1:]:
            raise ValueError(f"{self.path}: block of shape {block.shape} for rows of {self.shape[1:]}")
        np.ascontiguousarray(block, dtype=self.dtype).tofile(self._stream)
        self._rows += len(block)

    def close(self) -> None:
        """Close the file; raise if fewer or more rows were written than declared."""
        self._stream.close()
        if self._rows != self.shape[0]:
            raise ValueError(f"{self.path}: wrote {self._rows} rows of {self.shape[0]}")

    def __enter__(self) -> NpyWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self._stream.close()
