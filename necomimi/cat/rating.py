"""A person's CAT ratings, blinded: the rating session behind ``necomimi rate`` (PAPER.md 1.3).

The paper's CAT score was judged by hand: does each generated image show each of its
ground-truth concept's five tags? A :class:`RatingSession` gathers the image groups
under an images folder (``<protocol>/<encoder>/sub-XX/seed-N/<condition>/<mode>`` and
``gt``, as ``results/images`` holds them), puts all their images in one seeded random
order and names each by an opaque id, so the rater sees neither encoder, condition,
mode nor file name. Each answered image is appended as one line to the rater's answers
log; once every image of a group is answered, the group's ratings file is written in
the format :func:`necomimi.cat.judge.human_judgement` reads, where the workflow looks
for it (``cat.human_ratings``). Everything of one rater lives in one folder::

    <out>/<rater>/answers.csv                     one line per answered image
    <out>/<rater>/<protocol>/<encoder>/sub-XX/seed-N/<condition>/<mode>.csv
    <out>/<rater>/gt/gt.csv

An image's id hashes its group, index and the SHA-256 its sidecar records: the same
image keeps its id across sessions (so a session resumes where the rater left off,
whatever the seed or the groups chosen), and a regenerated image is a new image to rate.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from necomimi.cat.tags import TAG_TYPES, read_tag_table
from necomimi.generation.sidecar import SIDECAR, sidecar_entries
from necomimi.utils.atomic import atomic_path

logger = logging.getLogger(__name__)

#: The question asked of each tag type (PAPER.md 1.3: two broad categories, a specific
#: category, the concept and the background).
QUESTIONS = {"broad_1": "Broad category", "broad_2": "Broad category", "specific": "Specific category",
             "concept": "Object", "background": "Background"}  # fmt: skip
ANSWER_COLUMNS = ("rater", "item", *TAG_TYPES, "answered_at")
ANSWERS_FILE = "answers.csv"
#: A group folder relative to the images folder: a run's condition and mode, or ``gt``.
GROUP_PATTERN = re.compile(r"gt|[^/]+/[^/]+/sub-[^/]+/seed-\d+/[^/]+/[^/]+")
RATER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
ITEM_PATTERN = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class Item:
    """One image to rate.

    Attributes
    ----------
    id : str
        Opaque: what the page and the answers log name the image by.
    group : str
        Its folder relative to the images folder (``gt`` or ``<protocol>/.../<mode>``).
    index : int
        0-based test index (the ``NNN`` of the image file).
    image : Path
    tags : dict
        Tag type -> its concept's tag.
    """

    id: str
    group: str
    index: int
    image: Path
    tags: dict[str, str]


def item_id(group: str, index: int, image_sha256: str) -> str:
    """The opaque id of image ``index`` of ``group`` whose file has ``image_sha256``."""
    return hashlib.sha256(f"{group}\n{index}\n{image_sha256}".encode()).hexdigest()[:16]


def rater_folder(out_dir: str | Path, rater: str) -> Path:
    """The folder of ``rater``'s files, ``out_dir/rater``; refuses an id that is not a plain folder name."""
    if not RATER_PATTERN.fullmatch(rater):
        raise ValueError(f"rater id {rater!r}: use letters, digits, '_', '-' and '.' (it names a folder)")
    return Path(out_dir) / rater


def ratings_file(rater_dir: str | Path, group: str) -> Path:
    """Where a group's ratings go: ``<group>.csv``, the gt images' ``gt/gt.csv``."""
    return Path(rater_dir) / (f"{group}/gt.csv" if group == "gt" else f"{group}.csv")


def find_groups(images_dir: str | Path, patterns: Sequence[str] = ("*",)) -> dict[str, Path]:
    """The image groups under ``images_dir`` (folders with an ``images.json``) matching a pattern.

    Parameters
    ----------
    images_dir : path
        ``results/images`` or a folder laid out like it.
    patterns : sequence of str
        Shell patterns on the group path (``*`` matches ``/`` too), e.g.
        ``intra/nerv/sub-01/*`` or ``*/two_stage``.

    Returns
    -------
    dict
        Group path -> folder, sorted by path.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the folder if it holds no image group, a pattern matches none, or a group
        is not where the workflow would read its ratings from.
    """
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise FileNotFoundError(f"{images_dir}: images folder not found")
    found = (sidecar.parent.relative_to(images_dir) for sidecar in sorted(images_dir.rglob(SIDECAR)))
    # hidden folders are a generation job's staging folders, not groups yet
    groups = {group.as_posix(): images_dir / group for group in found
              if not any(part.startswith(".") for part in group.parts)}  # fmt: skip
    if not groups:
        raise ValueError(f"{images_dir}: no generated images (no {SIDECAR} below it); expected results/images")
    misplaced = [group for group in groups if not GROUP_PATTERN.fullmatch(group)]
    if misplaced:
        raise ValueError(
            f"{images_dir / misplaced[0]}: not a group of results/images "
            "(<protocol>/<encoder>/sub-XX/seed-N/<condition>/<mode> or gt); pass the images folder itself"
        )
    unmatched = [pattern for pattern in patterns if not any(fnmatch.fnmatchcase(group, pattern) for group in groups)]
    if unmatched:
        listed = ", ".join(list(groups)[:4]) + (f" ... ({len(groups)} groups)" if len(groups) > 4 else "")
        raise ValueError(f"{images_dir}: no image group matches {unmatched[0]!r}; the groups: {listed}")
    return {group: folder for group, folder in groups.items()
            if any(fnmatch.fnmatchcase(group, pattern) for pattern in patterns)}  # fmt: skip


def group_items(group: str, folder: Path, table: pd.DataFrame, table_file: str | Path) -> list[Item]:
    """The images of one group, in test order, with their concepts' tags.

    Parameters
    ----------
    group : str
        The group's path (:func:`find_groups`).
    folder : Path
        Its folder, with the ``images.json`` sidecar.
    table : pandas.DataFrame
        The tag table (:func:`necomimi.cat.tags.read_tag_table`), read from ``table_file``.
    table_file : path
        Named in errors.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the sidecar if it is unreadable, its images are not one per concept of
        the tag table, in its order, or an image file is missing.
    """
    sidecar = folder / SIDECAR
    try:
        listed = [(entry["index"], entry["concept"], entry["file"], entry["sha256"])
                  for entry in sidecar_entries(folder)]  # fmt: skip
    except KeyError as error:
        raise ValueError(f"{sidecar}: an image entry without {error}") from error
    shown = [(index, concept) for index, concept, _, _ in listed]
    expected = list(enumerate(table["folder"]))
    if shown != expected:
        i = next((i for i, (got, want) in enumerate(zip(shown, expected, strict=False)) if got != want),
                 min(len(shown), len(expected)))  # fmt: skip
        raise ValueError(
            f"{sidecar}: images of {len(shown)} concepts, {table_file} has tags of {len(expected)}; the first "
            f"difference: image {shown[i] if i < len(shown) else '<none>'} (index, concept), tag table row "
            f"{expected[i] if i < len(expected) else '<none>'}"
        )
    items = []
    for (index, _, name, sha256), tags in zip(listed, table[list(TAG_TYPES)].to_dict("records"), strict=True):
        image = folder / name
        if not image.is_file():
            raise FileNotFoundError(f"{image}: listed in {sidecar} but missing")
        items.append(Item(item_id(group, index, sha256), group, index, image, tags))
    return items


def blinded_order(items: Sequence[Item], seed: int) -> list[Item]:
    """``items`` in a random order fixed by ``seed`` (and the set of items)."""
    canonical = sorted(items, key=lambda item: (item.group, item.index))
    return [canonical[i] for i in np.random.default_rng(seed).permutation(len(canonical))]


def read_answers(path: str | Path, rater: str) -> dict[str, dict[str, int]]:
    """The answers log of ``rater``: item id -> tag type -> 0/1 (empty if there is no log yet).

    Raises
    ------
    ValueError
        Naming the file and line of a malformed header or answer, another rater's
        answer, or an image answered twice.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return {}
    answers: dict[str, dict[str, int]] = {}
    with open(path, newline="", encoding="utf-8") as stream:
        rows = csv.reader(stream)
        header = next(rows, None)
        if header != list(ANSWER_COLUMNS):
            raise ValueError(f"{path}: line 1 is {header}, not the answers header {','.join(ANSWER_COLUMNS)}")
        for line, row in enumerate(rows, start=2):
            problem = _answer_problem(row, rater, answers)
            if problem:
                raise ValueError(f"{path}: line {line}: {problem}")
            answers[row[1]] = {kind: int(value) for kind, value in zip(TAG_TYPES, row[2:-1], strict=True)}
    return answers


def _answer_problem(row: list[str], rater: str, answers: Mapping[str, dict]) -> str | None:
    """What is wrong with one line of an answers log, or None."""
    if len(row) != len(ANSWER_COLUMNS):
        return f"{len(row)} fields, expected {len(ANSWER_COLUMNS)} ({','.join(ANSWER_COLUMNS)})"
    if row[0] != rater:
        return f"rater {row[0]!r}, but this is the answers log of {rater!r}"
    if not ITEM_PATTERN.fullmatch(row[1]):
        return f"item {row[1]!r} is not an image id (16 hexadecimal digits)"
    if row[1] in answers:
        return f"image {row[1]} answered twice"
    bad = [kind for kind, value in zip(TAG_TYPES, row[2:-1], strict=True) if value not in ("0", "1")]
    return f"{bad[0]} is {row[2 + TAG_TYPES.index(bad[0])]!r}, not 0 or 1" if bad else None


def append_answer(path: str | Path, rater: str, item: str, answer: Mapping[str, int]) -> None:
    """Append one image's answers to the log as one line, in one write, flushed to disk."""
    path = Path(path)
    fresh = not path.exists() or path.stat().st_size == 0
    values = [rater, item, *(str(answer[kind]) for kind in TAG_TYPES),
              datetime.now(UTC).isoformat(timespec="seconds")]  # fmt: skip
    text = ",".join(ANSWER_COLUMNS) + "\n" if fresh else ""
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(text + ",".join(values) + "\n")
        stream.flush()
        os.fsync(stream.fileno())


def _is_answer(answer) -> bool:
    """Whether ``answer`` maps each tag type, and nothing else, to the integer 0 or 1."""
    return (isinstance(answer, Mapping) and set(answer) == set(TAG_TYPES)
            and all(type(answer[kind]) is int and answer[kind] in (0, 1) for kind in TAG_TYPES))  # fmt: skip


def write_group_ratings(path: str | Path, items: Iterable[Item], answers: Mapping[str, Mapping[str, int]]) -> None:
    """Write one group's ratings (index, tag_type, match; by index, in tag type order)."""
    rows = [(item.index, kind, answers[item.id][kind])
            for item in sorted(items, key=lambda item: item.index) for kind in TAG_TYPES]  # fmt: skip
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["index", "tag_type", "match"])
        writer.writerows(rows)


class RatingSession:
    """One rater's session: the blinded images, the answers so far, the files they make.

    Parameters
    ----------
    images_dir : path
        ``results/images`` (or a folder laid out like it).
    tag_table : path
        The CAT tag table of the test concepts (:func:`necomimi.cat.tags.read_tag_table`).
    rater : str
        The rater's id: letters, digits, ``_``, ``-``, ``.``; names the rater's folder.
    out_dir : path
        The raters' folder; this rater's files go to ``out_dir/rater``.
    seed : int
        Seed of the order the images are shown in.
    groups : sequence of str
        Shell patterns choosing the groups to rate (default: all).
    """

    def __init__(self, images_dir: str | Path, tag_table: str | Path, rater: str, out_dir: str | Path, *,
                 seed: int = 0, groups: Sequence[str] = ("*",)) -> None:  # fmt: skip
        self.folder = rater_folder(out_dir, rater)
        table = read_tag_table(tag_table)
        folders = find_groups(images_dir, groups)
        items = [item for group, folder in folders.items() for item in group_items(group, folder, table, tag_table)]
        self.rater = rater
        self.answers_file = self.folder / ANSWERS_FILE
        self.items = blinded_order(items, seed)
        self._by_id = {item.id: item for item in self.items}
        self.answers = read_answers(self.answers_file, rater)
        kept = len(set(self.answers) - set(self._by_id))
        if kept:
            logger.info("%s: %d answered image(s) not among this session's images; kept", self.answers_file, kept)
        for group in folders:
            self._write_if_complete(group)

    @property
    def n_answered(self) -> int:
        """Images of this session answered so far."""
        return sum(item.id in self.answers for item in self.items)

    def next_item(self) -> Item | None:
        """The first image, in the blinded order, not answered yet; None when all are."""
        return next((item for item in self.items if item.id not in self.answers), None)

    def item(self, item: str) -> Item:
        """The image of id ``item``; KeyError if it is not one of this session's."""
        return self._by_id[item]

    def record(self, item: str, answer: Mapping[str, int]) -> Path | None:
        """Record the answers to one image; returns its group's ratings file once the group is complete.

        Raises
        ------
        KeyError
            If ``item`` is not one of this session's images.
        ValueError
            If the image is answered already, or ``answer`` is not 0 or 1 for each tag type.
        """
        image = self._by_id[item]
        if item in self.answers:
            raise ValueError(f"image {item} is answered already")
        if not _is_answer(answer):
            raise ValueError(f"answers must be 0 or 1 for each of {', '.join(TAG_TYPES)}; got {answer!r}")
        self.folder.mkdir(parents=True, exist_ok=True)
        append_answer(self.answers_file, self.rater, item, answer)
        self.answers[item] = {kind: answer[kind] for kind in TAG_TYPES}
        return self._write_if_complete(image.group)

    def _write_if_complete(self, group: str) -> Path | None:
        items = [item for item in self.items if item.group == group]
        if not all(item.id in self.answers for item in items):
            return None
        path = ratings_file(self.folder, group)
        write_group_ratings(path, items, self.answers)
        logger.info("%s: all %d images rated; wrote %s", group, len(items), path)
        return path
