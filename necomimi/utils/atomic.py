"""Atomic writes: a finished file or folder is either complete or absent, never half-written."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
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


@contextlib.contextmanager
def staging_folder(parent: str | Path, prefix: str) -> Iterator[Path]:
    """Yield a fresh hidden folder inside ``parent``; remove it, and what is left in it, on exit.

    The block writes its files there and moves them out with :func:`os.replace`
    (atomic on one file system, which the staging folder shares with ``parent``);
    whatever it did not move, after success or failure, is deleted.
    """
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a staging folder beside ``path``; on success it replaces ``path`` whole.

    On an exception ``path`` is untouched. An existing ``path`` is removed just before
    the staging folder is renamed to it, so a crash between the two leaves no folder
    (but never a partial one).
    """
    path = Path(path)
    with staging_folder(path.parent, prefix=f".{path.name}.") as staging:
        yield staging
        if path.exists():
            shutil.rmtree(path)
        os.replace(staging, path)


@contextlib.contextmanager
def staged_files(out_dir: str | Path, names: Iterable[str], *, prefix: str = ".staging-") -> Iterator[Path]:
    """Yield a staging folder inside ``out_dir``; move ``names`` from it into ``out_dir``.

    On success every named file is moved with :func:`os.replace` (atomic per file);
    on an exception nothing is moved and the staging folder is removed, so a failed
    job leaves no partial output behind.

    Parameters
    ----------
    out_dir : str or Path
        Final folder; created if absent.
    names : iterable of str
        The files the block must leave in the staging folder.
    prefix : str
        Name prefix of the staging folder.

    Raises
    ------
    RuntimeError
        If the block did not write one of ``names`` (nothing is moved then).
    """
    out_dir = Path(out_dir)
    names = list(names)
    with staging_folder(out_dir, prefix) as staging:
        yield staging
        missing = [name for name in names if not (staging / name).is_file()]
        if missing:
            raise RuntimeError(f"{out_dir}: the job did not write {missing}")
        for name in names:
            os.replace(staging / name, out_dir / name)


def save_pickled_dict_npy(path: str | Path, content: dict) -> None:
    """Write ``content`` with :func:`numpy.save`, as the THINGS-EEG2 release does.

    The release stores dicts in ``.npy`` files (a pickled 0-d object array), which
    readers open with ``np.load(path, allow_pickle=True).item()``.
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as stream:
        np.save(stream, content, allow_pickle=True)
