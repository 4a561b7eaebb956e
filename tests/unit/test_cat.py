"""The CAT score: tag tables, the CLIP judge's verdicts and chance level, human ratings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necomimi.cat.judge import Vocabulary, clip_judgement, human_judgement
from necomimi.cat.tags import COLUMNS, TAG_TYPES, read_tag_table
from tests.cat_fixtures import TABLE


def _embeddings(vocabulary: Vocabulary, dim=64, seed=0):
    """Random nearly orthogonal tag embeddings, and images made of their own tags."""
    rng = np.random.default_rng(seed)
    tags = {kind: rng.standard_normal((len(vocabulary.tags[kind]), dim)) for kind in TAG_TYPES}
    tags = {kind: value / np.linalg.norm(value, axis=1, keepdims=True) for kind, value in tags.items()}
    images = sum(tags[kind][vocabulary.index[kind]] for kind in TAG_TYPES)
    return images, tags


def test_tag_tables_are_checked(tmp_path):
    TABLE.to_csv(tmp_path / "tags.csv", index=False)
    table = read_tag_table(tmp_path / "tags.csv", folders=list(TABLE["folder"]))
    assert list(table.columns) == list(COLUMNS) and len(table) == 4
    with pytest.raises(ValueError, match=r"first difference at position 2: '00002_bee' vs '00002_wasp'"):
        read_tag_table(tmp_path / "tags.csv", folders=["00001_ant", "00002_wasp", "00003_car", "00004_bus"])
    TABLE.drop(columns="background").to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(ValueError, match=r"short.csv: missing column\(s\) background"):
        read_tag_table(tmp_path / "short.csv")
    TABLE.assign(specific=["x", "", "y", "z"]).to_csv(tmp_path / "empty.csv", index=False)
    with pytest.raises(ValueError, match=r"empty.csv: 1 empty tag\(s\), the first in column specific on line 3"):
        read_tag_table(tmp_path / "empty.csv")
    with pytest.raises(FileNotFoundError, match="absent.csv: CAT tag table not found"):
        read_tag_table(tmp_path / "absent.csv")


def test_things_eeg2_table_covers_the_200_test_concepts():
    from necomimi.data.things_eeg2 import CAT_TAGS_FILE

    table = read_tag_table(CAT_TAGS_FILE)
    assert len(table) == 200 and table["folder"].iloc[0] == "00001_aircraft_carrier"
    assert table["index"].tolist() == [str(i) for i in range(1, 201)]
    assert (table["broad_1"] != table["broad_2"]).all()


def test_images_showing_their_tags_score_fully_and_chance_counts_shared_tags():
    vocabulary = Vocabulary.from_table(TABLE)
    images, tags = _embeddings(vocabulary)
    judgement = clip_judgement(images, tags, vocabulary, top_k=dict.fromkeys(TAG_TYPES, 1))
    assert judgement.matches.all() and judgement.score == 20
    # top-1: a wrong concept's tag matches only if it is the same tag (e.g. both "animal")
    shared = [np.mean([TABLE[kind][i] == TABLE[kind][j] for i in range(4) for j in range(4) if i != j])
              for kind in TAG_TYPES]  # fmt: skip
    np.testing.assert_allclose(judgement.chance, shared)
    assert judgement.chance_score == pytest.approx(sum(shared) * 4)


def test_unrelated_images_score_near_chance_and_top_k_widens_the_match():
    vocabulary = Vocabulary.from_table(TABLE)
    _, tags = _embeddings(vocabulary)
    unrelated = np.random.default_rng(5).standard_normal((4, 64))
    strict = clip_judgement(unrelated, tags, vocabulary, top_k=dict.fromkeys(TAG_TYPES, 1))
    assert strict.score < 20
    everything = clip_judgement(unrelated, tags, vocabulary, top_k=dict.fromkeys(TAG_TYPES, 4))
    assert everything.matches.all() and (everything.chance == 1).all()  # k >= tags of every type
    with pytest.raises(ValueError, match="3 images for 4 concepts"):
        clip_judgement(unrelated[:3], tags, vocabulary, top_k=dict.fromkeys(TAG_TYPES, 1))


def _ratings(n=4, skip=None):
    rows = [{"index": i, "tag_type": kind, "match": int((i + k) % 2 == 0)}
            for i in range(n) for k, kind in enumerate(TAG_TYPES) if (i, kind) != skip]  # fmt: skip
    return pd.DataFrame(rows)


def test_human_ratings_are_aggregated_like_the_clip_judge(tmp_path):
    _ratings().to_csv(tmp_path / "ratings.csv", index=False)
    judgement = human_judgement(tmp_path / "ratings.csv", n_images=4)
    assert judgement.matches.shape == (4, 5) and judgement.score == 10
    assert judgement.matches[0, 0] and not judgement.matches[0, 1]
    assert np.isnan(judgement.chance).all()


@pytest.mark.parametrize(
    ("ratings", "message"),
    [
        (_ratings(skip=(2, "specific")), "no rating for image 2, tag type specific"),
        (pd.concat([_ratings(), _ratings().iloc[:1]]), "image 0 rated twice for broad_1"),
        (_ratings().assign(match=2), "match must be 0 or 1"),
        (_ratings().replace({"tag_type": {"broad_1": "broad"}}), r"unknown tag type\(s\) \['broad'\]"),
        (_ratings().drop(columns="match"), r"missing column\(s\) match"),
        (_ratings().astype({"match": str}).replace({"match": {"1": "yes"}}),
         "match must be 0 or 1; line 2 has match 'yes' \\(10 such line"),
        (_ratings().astype({"index": float}), "index must be a non-negative integer; line 2 has index '0.0'"),
        (_ratings(n=5), r"index must be an image of 0 \.\. 3; line 22 has index '4' \(5 such line"),
        (_ratings().astype({"index": str}).replace({"index": {"3": "-3"}}), "line 17 has index '-3'"),
        (pd.DataFrame(), "not a ratings CSV"),
    ],
)  # fmt: skip
def test_bad_ratings_are_named(tmp_path, ratings, message):
    ratings.to_csv(tmp_path / "ratings.csv", index=False)
    with pytest.raises(ValueError, match=message) as refused:
        human_judgement(tmp_path / "ratings.csv", n_images=4)
    assert str(refused.value).startswith(f"{tmp_path / 'ratings.csv'}: ")


#: Prompts matching the demo CLIP's training captions (necomimi.clip.demo_model).
DEMO_TEMPLATES = {"broad_1": "a {} shape", "broad_2": "something {}", "specific": "a {}",
                  "concept": "This picture is {}", "background": "on a {} background"}  # fmt: skip


def test_the_clip_judge_runs_on_image_files_and_its_verdicts_read_back_as_ratings(tiny_dataset, tmp_path):
    from necomimi.cat.clip_judge import judge_image_files, write_verdicts
    from necomimi.clip.demo_model import train_demo_clip
    from necomimi.clip.loading import load_clip
    from necomimi.data.things_eeg2 import list_images

    image_dir = tiny_dataset / "image_set"
    train_demo_clip(image_dir, tiny_dataset / "image_factors.csv", tmp_path / "clip", embed_dim=16, image_size=32,
                    epochs=2, batch_size=8, lr=1e-3, seed=0)  # fmt: skip
    clip, preprocess, tokenizer = load_clip("necomimi-tiny-clip", tmp_path / "clip" / "open_clip_model.safetensors",
                                            tmp_path / "clip" / "necomimi-tiny-clip.json")  # fmt: skip
    concepts, files = list_images(image_dir, "test")
    table = read_tag_table(tiny_dataset / "concept_tags.csv", folders=concepts)
    paths = [image_dir / "test_images" / c / f for c, f in zip(concepts, files, strict=True)]
    judgement = judge_image_files(paths, table, clip, preprocess, tokenizer, templates=DEMO_TEMPLATES,
                                  top_k=dict.fromkeys(TAG_TYPES, 1))  # fmt: skip
    assert judgement.matches.shape == (len(paths), 5)
    assert ((0 <= judgement.chance) & (judgement.chance <= 1)).all()
    write_verdicts(judgement, tmp_path / "verdicts.csv")
    again = human_judgement(tmp_path / "verdicts.csv", n_images=len(paths))
    np.testing.assert_array_equal(again.matches, judgement.matches)
