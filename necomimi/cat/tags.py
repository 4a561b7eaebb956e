"""The CAT tag table: five tags per test concept (PAPER.md 1.3).

A CSV with one row per test concept, in test order: ``index`` (1-based), ``folder``
(the test-image folder, e.g. ``00001_aircraft_carrier``) and the tags ``broad_1``,
``broad_2`` (two broad categories), ``specific`` (a specific category), ``concept``
(the concept itself) and ``background`` (the scene). The synthetic generator writes
one for the demo (``concept_tags.csv``); ``necomimi/data/things_eeg2_cat_tags.csv`` is
ours for the 200 THINGS-EEG2 test concepts (the paper's is not published).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: The five tag types, in the paper's order.
TAG_TYPES = ("broad_1", "broad_2", "specific", "concept", "background")
COLUMNS = ("index", "folder", *TAG_TYPES)


def read_tag_table(path: str | Path, folders: list[str] | None = None) -> pd.DataFrame:
    """Read and check a tag table.

    Parameters
    ----------
    path : path
        The CSV.
    folders : list of str, optional
        The test-image folders in test order (e.g. from the CLIP targets); the table
        must list exactly these, in this order.

    Returns
    -------
    pandas.DataFrame
        One row per test concept, columns :data:`COLUMNS`, tags as strings.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file and the missing column, empty cell or mismatched folder.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: CAT tag table not found")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in COLUMNS if column not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    table = table[list(COLUMNS)]
    empty = [(row + 2, column) for column in TAG_TYPES
             for row in (table[column].str.strip() == "").to_numpy().nonzero()[0]]  # fmt: skip
    if empty:
        line, column = empty[0]
        raise ValueError(f"{path}: {len(empty)} empty tag(s), the first in column {column} on line {line}")
    if folders is not None and list(table["folder"]) != list(folders):
        mismatch = next((i for i, (a, b) in enumerate(zip(table["folder"], folders, strict=False)) if a != b),
                        min(len(table), len(folders)))  # fmt: skip
        raise ValueError(
            f"{path}: lists {len(table)} concepts, the test images {len(folders)}; first difference at "
            f"position {mismatch + 1}: {table['folder'].get(mismatch, '<none>')!r} vs "
            f"{folders[mismatch] if mismatch < len(folders) else '<none>'!r}"
        )
    return table.reset_index(drop=True)
