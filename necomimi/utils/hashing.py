"""Content hashes of files, for provenance records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from necomimi.utils.atomic import atomic_path

#: Where workflow jobs keep the SHA-256 of large weights files between jobs: beside
#: Snakemake's own metadata in the working directory, so that ``rm -rf .snakemake``
#: (or ``make clean``) drops it with the rest.
SHA256_CACHE_DIR = Path(".snakemake") / "necomimi" / "sha256"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_file_sha256(path: str | Path, cache_dir: str | Path = SHA256_CACHE_DIR) -> str:
    """SHA-256 of a file, remembered in ``cache_dir`` while the file is unchanged.

    Weights files are large (3.9 GB for CLIP ViT-H/14, about 7 GB for SDXL-Turbo) and
    read by many jobs; each is hashed once. An entry is reused only while the file's
    resolved path, size and modification time (in nanoseconds) are those it was made
    from; otherwise the file is hashed again and the entry replaced (atomically, so
    concurrent jobs never read half an entry).

    Parameters
    ----------
    path : str or Path
        The file.
    cache_dir : str or Path
        Folder of the cache entries (one small JSON file per hashed file).

    Returns
    -------
    str
        The hexadecimal SHA-256 of the file's content.
    """
    resolved = Path(path).resolve()
    stat = resolved.stat()
    stamp = {"path": str(resolved), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    entry_file = Path(cache_dir) / f"{hashlib.sha256(str(resolved).encode()).hexdigest()[:32]}.json"
    try:
        entry = json.loads(entry_file.read_text())
        if {key: entry.get(key) for key in stamp} == stamp and isinstance(entry.get("sha256"), str):
            return entry["sha256"]
    except (OSError, ValueError):
        pass  # no entry yet, or an unreadable one: hash again
    digest = file_sha256(resolved)
    with atomic_path(entry_file) as tmp:
        tmp.write_text(json.dumps({**stamp, "sha256": digest}) + "\n")
    return digest
