"""Run the CLIP judge of the CAT score on image files, and store verdicts like ratings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from necomimi.cat.judge import Judgement, Vocabulary, clip_judgement
from necomimi.cat.tags import TAG_TYPES
from necomimi.clip.loading import encode_images, encode_text
from necomimi.utils.atomic import atomic_path


def judge_image_files(image_files: list[Path], table: pd.DataFrame, clip, preprocess, tokenizer, *,
                      templates: Mapping[str, str], top_k: Mapping[str, int],
                      batch_size: int = 64) -> Judgement:  # fmt: skip
    """The CLIP judge on one image per test concept, in test order.

    Parameters
    ----------
    image_files : list of Path
        Image ``i`` is of test concept ``i`` (row ``i`` of ``table``): generated
        images, or the ground-truth test images for the judge's ceiling.
    table : pandas.DataFrame
        The tag table (:func:`necomimi.cat.tags.read_tag_table`).
    clip, preprocess, tokenizer
        From :func:`necomimi.clip.loading.load_clip`.
    templates : mapping
        Tag type -> prompt with one ``{}`` for the tag, e.g. ``"a photo of a {}"``.
    top_k : mapping
        Tag type -> k of the judge's top-k rule.
    batch_size : int
        Images per CLIP forward pass.
    """
    vocabulary, tags = embed_tags(table, clip, tokenizer, templates)
    images = encode_images(clip, preprocess, list(image_files), batch_size, label="CAT judge")
    return clip_judgement(images, tags, vocabulary, dict(top_k))


def embed_tags(table: pd.DataFrame, clip, tokenizer, templates: Mapping[str, str]) -> tuple[Vocabulary, dict]:
    """The tag vocabulary and the CLIP text embedding of each tag's prompt, per tag type.

    Returns
    -------
    vocabulary : Vocabulary
    tags : dict
        Tag type -> (n_tags, D) L2-normalised embeddings of ``vocabulary.tags[type]``
        written into ``templates[type]``.
    """
    missing = [kind for kind in TAG_TYPES if kind not in templates or "{}" not in templates[kind]]
    if missing:
        raise ValueError(f"CAT templates: tag type(s) {', '.join(missing)} need a prompt with one '{{}}' for the tag")
    vocabulary = Vocabulary.from_table(table)
    tags = {kind: encode_text(clip, tokenizer, [templates[kind].format(tag) for tag in vocabulary.tags[kind]]).numpy()
            for kind in TAG_TYPES}  # fmt: skip
    return vocabulary, tags


def write_verdicts(judgement: Judgement, out_file: str | Path) -> None:
    """Write per-image verdicts in the human ratings format (index, tag_type, match).

    A person can review such a file and hand it back as ratings
    (:func:`necomimi.cat.judge.human_judgement`).
    """
    rows = [{"index": i, "tag_type": kind, "match": int(judgement.matches[i, k])}
            for i in range(len(judgement.matches)) for k, kind in enumerate(TAG_TYPES)]  # fmt: skip
    with atomic_path(out_file) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
