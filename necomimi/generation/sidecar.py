"""The sidecar of a folder of generated images, ``images.json``: where it is and its image list.

:mod:`necomimi.generation.images` writes it; the scores, the image grids and the rating
page read its ``images`` entries (``index``, ``concept``, ``file``, ``sha256``, ...)
through :func:`sidecar_entries`, without importing the decoder's libraries.
"""

from __future__ import annotations

import json
from pathlib import Path

SIDECAR = "images.json"


def sidecar_entries(folder: str | Path) -> list[dict]:
    """The ``images`` entries of ``folder``'s ``images.json``, sorted by index.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the sidecar, if it is missing, not JSON, or has no list of entries with
        an ``index``.
    """
    sidecar = Path(folder) / SIDECAR
    if not sidecar.is_file():
        raise FileNotFoundError(f"{sidecar}: missing; {folder} is not a folder of generated images")
    try:
        return sorted(json.loads(sidecar.read_text(encoding="utf-8"))["images"], key=lambda entry: entry["index"])
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{sidecar}: not a sidecar of generated images ({type(error).__name__}: {error})") from error
