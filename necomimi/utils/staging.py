"""Stage a job's output files in a hidden folder and move them in together on success."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path


@contextlib.contextmanager
def staged_files(out_dir: str | Path, names: Iterable[str], *, prefix: str = ".staging-") -> Iterator[Path]:
    """Yield a staging folder inside ``out_dir``; move ``names`` from it into ``out_dir``.

    The same scheme as :func:`necomimi.preprocessing.outputs.staged_outputs`, for any
    list of names: on success every named file is moved with :func:`os.replace`
    (atomic per file, same file system); on an exception nothing is moved and the
    staging folder is removed, so a failed run leaves no partial output behind.

    Parameters
    ----------
    out_dir : str or Path
        Final folder; created if absent.
    names : iterable of str
        The files the block must leave in the staging folder.
    prefix : str
        Name prefix of the staging folder.
    """
    out_dir = Path(out_dir)
    names = list(names)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=out_dir))
    try:
        yield staging
        missing = [name for name in names if not (staging / name).is_file()]
        if missing:
            raise RuntimeError(f"{out_dir}: the job did not write {missing}")
        for name in names:
            os.replace(staging / name, out_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
