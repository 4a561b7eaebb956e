"""Atomic writes: a finished file is either complete or absent, never half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place on success.

    The temporary file lives in the same folder, so the final :func:`os.replace` is
    atomic. On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_pickled_dict_npy(path: str | Path, content: dict) -> None:
    """Write ``content`` with :func:`numpy.save`, as the THINGS-EEG2 release does.

    The release stores dicts in ``.npy`` files (a pickled 0-d object array), which
    readers open with ``np.load(path, allow_pickle=True).item()``.
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as stream:
        np.save(stream, content, allow_pickle=True)
