"""The CAT score's judges: a CLIP judge and human ratings, aggregated alike (PAPER.md 1.3).

For each generated image and each tag type, a judge decides whether the image shows
its ground-truth concept's tag: one point per matched tag, ``5 * n_test`` points per
subject (1000 on THINGS-EEG2). The paper's judge was a person; the CLIP judge makes the
score computable, and is reported with its ceiling (the judge on the ground-truth
images themselves) and its chance level (images paired with the other concepts' tags),
without which the number cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from necomimi.cat.tags import TAG_TYPES


@dataclass(frozen=True)
class Vocabulary:
    """The distinct tags of each type, and which one each test concept has."""

    tags: dict[str, list[str]]  # tag type -> sorted distinct tags
    index: dict[str, np.ndarray]  # tag type -> (n_concepts,) position of each concept's tag in ``tags``

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Vocabulary:
        """From a tag table (:func:`necomimi.cat.tags.read_tag_table`)."""
        tags = {kind: sorted(set(table[kind])) for kind in TAG_TYPES}
        index = {kind: np.array([tags[kind].index(tag) for tag in table[kind]]) for kind in TAG_TYPES}
        return cls(tags, index)


@dataclass(frozen=True)
class Judgement:
    """One judge's verdicts on one set of images.

    Attributes
    ----------
    matches : numpy.ndarray
        (n_images, 5) booleans: image ``i`` shows concept ``i``'s tag of each type.
    chance : numpy.ndarray
        (5,) expected match rate per tag type when image ``i`` is paired with the tags
        of every other concept ``j != i`` (NaN for human ratings).
    """

    matches: np.ndarray
    chance: np.ndarray

    @property
    def score(self) -> int:
        """Matched tags: the CAT score (out of ``5 * n_images``)."""
        return int(self.matches.sum())

    @property
    def chance_score(self) -> float:
        """The score expected from images unrelated to their concepts."""
        return float(self.chance.sum() * len(self.matches))


def clip_judgement(image_embeddings: np.ndarray, tag_embeddings: dict[str, np.ndarray], vocabulary: Vocabulary,
                   top_k: dict[str, int]) -> Judgement:  # fmt: skip
    """The CLIP judge: a tag matches if it ranks in the image's top ``k`` of its type.

    For each tag type, every distinct tag of that type is scored by the cosine between
    the image's and the tag prompt's CLIP embeddings; the image shows its concept's tag
    if fewer than ``top_k[type]`` tags score strictly higher.

    Parameters
    ----------
    image_embeddings : numpy.ndarray
        (n, D) embeddings of the images, image ``i`` being of test concept ``i``.
    tag_embeddings : dict
        Tag type -> (n_tags, D) embeddings of ``vocabulary.tags[type]``' prompts.
    vocabulary : Vocabulary
    top_k : dict
        Tag type -> k.

    Returns
    -------
    Judgement
    """
    n = len(image_embeddings)
    if n != len(vocabulary.index[TAG_TYPES[0]]):
        raise ValueError(f"{n} images for {len(vocabulary.index[TAG_TYPES[0]])} concepts in the tag table")
    images = image_embeddings / np.linalg.norm(image_embeddings, axis=1, keepdims=True)
    matches = np.zeros((n, len(TAG_TYPES)), dtype=bool)
    chance = np.zeros(len(TAG_TYPES))
    for column, kind in enumerate(TAG_TYPES):
        tags = tag_embeddings[kind] / np.linalg.norm(tag_embeddings[kind], axis=1, keepdims=True)
        similarity = images @ tags.T  # (n, n_tags)
        # rank[i, t]: how many tags score strictly higher than tag t for image i
        rank = (similarity[:, None, :] > similarity[:, :, None]).sum(axis=2)
        hit = rank < top_k[kind]  # (n, n_tags)
        own = vocabulary.index[kind]
        matches[:, column] = hit[np.arange(n), own]
        paired = hit[:, own]  # image i with concept j's tag
        chance[column] = (paired.sum() - np.trace(paired)) / max(n * (n - 1), 1)
    return Judgement(matches, chance)


def human_judgement(ratings_file: str | Path, n_images: int) -> Judgement:
    """Human ratings as a judgement: the paper's manual protocol.

    The CSV has one row per image and tag type: ``index`` (0-based test index, the
    ``NNN`` of the image file), ``tag_type`` (one of :data:`~necomimi.cat.tags.TAG_TYPES`)
    and ``match`` (1 if the image shows the tag, else 0); every image and tag type
    exactly once. ``necomimi rate`` (:mod:`necomimi.cat.rating`) writes such files.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file and the missing, repeated or invalid rating (with its line).
    """
    path = Path(ratings_file)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: ratings file not found")
    try:
        ratings = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a ratings CSV ({type(error).__name__}: {error})") from error
    missing = {"index", "tag_type", "match"} - set(ratings.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}; expected index, tag_type, match")
    _check_rating_values(path, ratings, n_images)
    ratings = ratings.assign(index=ratings["index"].astype(int), match=ratings["match"].astype(int))
    repeated = ratings[ratings.duplicated(["index", "tag_type"])]
    if len(repeated):
        row = repeated.iloc[0]
        line = repeated.index[0] + 2
        raise ValueError(f"{path}: image {row['index']} rated twice for {row['tag_type']} (line {line})")
    grid = ratings.pivot(index="index", columns="tag_type", values="match")
    grid = grid.reindex(index=range(n_images), columns=list(TAG_TYPES))
    if grid.isna().any().any():
        image, kind = next((i, k) for i in grid.index for k in grid.columns if pd.isna(grid.loc[i, k]))
        missing = int(grid.isna().sum().sum())
        raise ValueError(f"{path}: no rating for image {image}, tag type {kind} ({missing} missing)")
    return Judgement(grid.to_numpy(dtype=bool), np.full(len(TAG_TYPES), np.nan))


def _check_rating_values(path: Path, ratings: pd.DataFrame, n_images: int) -> None:
    """Every ``tag_type`` known, ``match`` 0 or 1, ``index`` an image index; else name the first bad line."""
    unknown = sorted(set(ratings["tag_type"]) - set(TAG_TYPES))
    if unknown:
        raise ValueError(f"{path}: unknown tag type(s) {unknown}; expected {', '.join(TAG_TYPES)}")
    integer = ratings["index"].str.fullmatch(r"\d+")
    index = pd.to_numeric(ratings["index"].where(integer), errors="coerce")
    checks = [
        ("match", ~ratings["match"].isin(["0", "1"]), "match must be 0 or 1"),
        ("index", ~integer, "index must be a non-negative integer"),
        ("index", index >= n_images, f"index must be an image of 0 .. {n_images - 1}"),
    ]
    for column, bad, rule in checks:
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise ValueError(f"{path}: {rule}; line {row + 2} has {column} {ratings[column].iloc[row]!r} "
                             f"({int(bad.sum())} such line(s))")  # fmt: skip
