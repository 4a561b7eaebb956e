"""necomimi's CAT tag table for the 200 THINGS-MEG test concepts."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from necomimi.cat.tags import COLUMNS, TAG_TYPES, read_tag_table
from necomimi.data import things_eeg2, things_meg

#: Copied from the shared ``things_meg_test_images.csv`` (not available in CI).
FIRST_FOLDERS = ["00010_aircraft_carrier", "00013_alligator", "00017_altar"]
LAST_FOLDER = "01817_wig"
N_SHARED_WITH_EEG2 = 28


@pytest.fixture(scope="module")
def table():
    """Read the MEG tag table with the CAT reader's checks."""
    return read_tag_table(things_meg.CAT_TAGS_FILE)


def _name(folder: str) -> str:
    """Concept name of a folder: ``00320_chest1`` -> ``chest1``."""
    return folder.split("_", 1)[1]


def test_table_lists_the_200_test_folders_in_test_order(table):
    """One row per test image folder, in THINGS image-number order."""
    assert things_meg.CAT_TAGS_FILE.parent == things_eeg2.CAT_TAGS_FILE.parent
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == 200
    assert table["index"].tolist() == [str(i) for i in range(1, 201)]
    folders = table["folder"].tolist()
    assert all(re.fullmatch(r"\d{5}_[a-z0-9_-]+", f) for f in folders)
    numbers = [int(f[:5]) for f in folders]
    assert all(a < b for a, b in pairwise(numbers))  # THINGS image order
    assert len(set(folders)) == 200 and len({_name(f) for f in folders}) == 200
    assert folders[:3] == FIRST_FOLDERS and folders[-1] == LAST_FOLDER
    # the reader's folder check passes with the test order
    read_tag_table(things_meg.CAT_TAGS_FILE, folders=folders)


def test_concepts_shared_with_things_eeg2_keep_their_tags(table):
    """Same concept, same tags: the 28 shared concepts copy the EEG2 rows."""
    eeg2 = read_tag_table(things_eeg2.CAT_TAGS_FILE)
    eeg2 = eeg2.set_index(eeg2["folder"].map(_name))
    meg = table.set_index(table["folder"].map(_name))
    shared = sorted(set(meg.index) & set(eeg2.index))
    assert len(shared) == N_SHARED_WITH_EEG2
    assert {"aircraft_carrier", "banana", "t-shirt", "wallpaper"} <= set(shared)
    assert "chest1" not in shared  # THINGS-EEG2 has chest2, a different concept
    for name in shared:
        meg_tags = meg.loc[name, list(TAG_TYPES)].tolist()
        assert meg_tags == eeg2.loc[name, list(TAG_TYPES)].tolist(), name


def test_tags_are_plain_lower_case_words(table):
    """Tags are non-empty, stripped, lower-case words, distinct within a row."""
    for column in TAG_TYPES:
        for tag in table[column]:
            assert tag and tag == tag.strip() and tag == tag.lower(), (column, tag)
            assert "  " not in tag and "_" not in tag, (column, tag)
    for row in table.itertuples():
        tags = [getattr(row, column) for column in TAG_TYPES]
        assert len(set(tags)) == len(tags), row.folder


def test_concept_tag_names_the_concept(table):
    """The concept tag is the folder's concept name in words."""
    for folder, concept in zip(table["folder"], table["concept"], strict=True):
        name = _name(folder)
        base = re.sub(r"\d+$", "", name).replace("_", " ")
        if base == name.replace("_", " "):
            assert concept == base, folder
        else:  # a THINGS disambiguation suffix (chest1, shell2) resolved into words
            assert base in concept.split() and concept != base, folder
