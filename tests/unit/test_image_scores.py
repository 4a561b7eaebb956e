"""Scoring generated images (a run's, the shared gt images): metrics, not-computed rows, CAT verdicts, ratings."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from necomimi.cat.judge import human_judgement
from necomimi.cat.tags import TAG_TYPES
from necomimi.data.things_eeg2 import image_paths
from necomimi.image_study.scores import (
    METRIC_COLUMNS,
    NETWORK_METRICS,
    judge_ground_truth,
    score_gt_images,
    score_run_images,
)
from necomimi.image_study.tables import GT_CAT_COLUMNS, GT_METRIC_COLUMNS

TEMPLATES = {"broad_1": "a {} shape", "broad_2": "something {}", "specific": "a {}",
             "concept": "This picture is {}", "background": "on a {} background"}  # fmt: skip
CAT = {"templates": TEMPLATES, "top_k": dict.fromkeys(TAG_TYPES, 1)}
RUN = {"protocol": "intra", "encoder": "nice", "subject": "01", "seed": 0}
NO_WEIGHTS = dict.fromkeys(["fid_inception", "alexnet", "inception_v3", "efficientnet_b1", "swav"])


def _folder(path, sources, concepts=None):
    """A folder of 'generated' images: copies of ``sources``, image i labelled concept i."""
    path.mkdir(parents=True)
    entries = []
    for index, source in enumerate(sources):
        name = f"{index:03d}_x.png"
        shutil.copy(source, path / name)
        concept = source.parent.name if concepts is None else concepts[index]
        entries.append({"index": index, "concept": concept, "file": name})
    (path / "images.json").write_text(json.dumps({"images": entries}))
    return path


@pytest.fixture
def scored(tiny_dataset, tiny_clip, tmp_path):
    """A run scored with perfect ("two_stage") and shuffled ("one_stage") images."""
    truth = image_paths(tiny_dataset / "image_set", "test")
    groups = [("original", "two_stage"), ("original", "one_stage")]
    folders = [_folder(tmp_path / "perfect", truth),
               _folder(tmp_path / "shuffled", truth[1:] + truth[:1], [t.parent.name for t in truth])]  # fmt: skip
    verdicts = [tmp_path / "cat" / f"{condition}_{mode}.csv" for condition, mode in groups]
    ratings = tmp_path / "ratings.csv"
    pd.DataFrame([{"index": i, "tag_type": kind, "match": int(i == 0)} for i in range(len(truth)) for kind in TAG_TYPES]
                 ).to_csv(ratings, index=False)  # fmt: skip
    score_run_images(groups=groups, image_folders=folders, ground_truth_files=truth,
                     tag_table=tiny_dataset / "concept_tags.csv", clip=tiny_clip, networks=NO_WEIGHTS, cat=CAT, run=RUN,
                     out_metrics=tmp_path / "metrics.csv", out_cat=tmp_path / "cat.csv", verdict_files=verdicts,
                     ratings_files={"original/one_stage": ratings})  # fmt: skip
    metrics = pd.read_csv(tmp_path / "metrics.csv", dtype={"subject": str}).set_index(["mode", "metric"])
    cat = pd.read_csv(tmp_path / "cat.csv", dtype={"subject": str})
    return metrics, cat, dict(zip(groups, verdicts, strict=True)), truth


def test_gt_images_are_scored_once_as_a_run_would_score_them(scored, tiny_dataset, tiny_clip, tmp_path):
    """score_gt_images: the run's rows and verdicts, without the run's columns, and human ratings."""
    metrics, cat, verdicts, truth = scored
    ratings = tmp_path / "gt_ratings.csv"
    shutil.copy(verdicts[("original", "two_stage")], ratings)
    score_gt_images(folder=tmp_path / "perfect", ground_truth_files=truth, tag_table=tiny_dataset / "concept_tags.csv",
                    clip=tiny_clip, networks=NO_WEIGHTS, cat=CAT, out_metrics=tmp_path / "gt_metrics.csv",
                    out_cat=tmp_path / "gt_cat.csv", verdict_file=tmp_path / "gt" / "gt.csv",
                    ratings_file=ratings)  # fmt: skip
    gt_metrics = pd.read_csv(tmp_path / "gt_metrics.csv")
    assert tuple(gt_metrics.columns) == GT_METRIC_COLUMNS and set(gt_metrics["mode"]) == {"gt"}
    run = metrics.loc["two_stage"].reset_index()
    pd.testing.assert_series_equal(gt_metrics["value"], run["value"])
    gt_cat = pd.read_csv(tmp_path / "gt_cat.csv")
    assert tuple(gt_cat.columns) == GT_CAT_COLUMNS and list(gt_cat["judge"]) == ["clip", "human"]
    assert (gt_cat["score"] == cat.set_index("mode").loc["two_stage", "score"]).all()  # ratings = the judge's verdicts
    assert (tmp_path / "gt" / "gt.csv").read_bytes() == verdicts[("original", "two_stage")].read_bytes()


def test_perfect_reconstructions_score_perfectly_and_shuffled_ones_do_not(scored):
    metrics, _, _, truth = scored
    perfect, shuffled = metrics.loc["two_stage"], metrics.loc["one_stage"]
    assert perfect.loc["ssim", "value"] == pytest.approx(1.0)
    assert perfect.loc["pixcorr", "value"] == pytest.approx(1.0)
    assert perfect.loc["clip_2way", "value"] == pytest.approx(1.0)
    assert perfect.loc["fid_clip", "value"] == pytest.approx(0.0, abs=1e-6)
    assert shuffled.loc["ssim", "value"] < 0.9 and shuffled.loc["clip_2way", "value"] < 1
    # a Fréchet distance compares sets: the same images in another order are at distance 0
    assert shuffled.loc["fid_clip", "value"] == pytest.approx(0.0, abs=1e-6)
    assert (metrics["n_images"] == len(truth)).all()


def test_metrics_without_weights_are_rows_with_the_reason(scored):
    metrics = scored[0].reset_index()
    assert list(metrics.columns) == ["mode", "metric", *[c for c in METRIC_COLUMNS if c not in ("mode", "metric")]]
    missing = metrics[~metrics["computed"]]
    assert set(missing["metric"]) == set(NETWORK_METRICS) and missing["value"].isna().all()
    alexnet = missing[missing["metric"] == "alexnet_5"]["note"].iloc[0]
    assert alexnet == "not computed: metrics.weights.alexnet is not set in the config"
    assert (metrics[metrics["computed"]]["metric"].unique().tolist() == ["ssim", "pixcorr", "clip_2way", "fid_clip"])
    note = metrics.set_index("metric").loc["fid_clip", "note"].iloc[0]
    assert "not comparable with the paper's InceptionV3 FID" in note


def test_cat_rows_match_the_ceiling_for_perfect_images_and_read_ratings(scored, tiny_dataset, tiny_clip, tmp_path):
    _, cat, verdicts, truth = scored
    judge_ground_truth(ground_truth_files=truth, tag_table=tiny_dataset / "concept_tags.csv", clip=tiny_clip, cat=CAT,
                       out_scores=tmp_path / "ceiling.csv", out_verdicts=tmp_path / "ceiling_verdicts.csv")  # fmt: skip
    ceiling = pd.read_csv(tmp_path / "ceiling.csv")
    assert ceiling["n_points"].item() == 5 * len(truth)
    clip_rows = cat[cat["judge"] == "clip"].set_index("mode")
    assert clip_rows.loc["two_stage", "score"] == ceiling["score"].item()  # that folder holds the ground truth itself
    assert 0 <= clip_rows.loc["one_stage", "chance"] <= 5 * len(truth)
    human = cat[cat["judge"] == "human"]
    assert human[["mode", "score", "n_points"]].values.tolist() == [["one_stage", 5, 5 * len(truth)]]
    assert np.isnan(human["chance"].item())
    again = human_judgement(verdicts[("original", "two_stage")], len(truth))
    assert again.score == clip_rows.loc["two_stage", "score"]


def test_network_metrics_use_the_configured_weights(tiny_dataset, tiny_clip, tmp_path, monkeypatch):
    import necomimi.metrics.networks as networks

    class MeanColour:
        """Stands in for a feature network: the mean colour of 4 image quadrants as features."""

        weights_sha256 = "ab" * 32

        def features(self, images, batch_size=32):
            arrays = [np.asarray(image.resize((2, 2))).reshape(-1).astype(float) for image in images]
            return dict.fromkeys(["pool3", "features.4", "features.11", "avgpool"], np.stack(arrays))

    loaded = []
    monkeypatch.setattr(networks, "load_feature_network",
                        lambda name, path, device: loaded.append((name, path)) or MeanColour())
    truth = image_paths(tiny_dataset / "image_set", "test")
    score_run_images(groups=[("original", "two_stage")], image_folders=[_folder(tmp_path / "perfect", truth)],
                     ground_truth_files=truth, tag_table=tiny_dataset / "concept_tags.csv", clip=tiny_clip,
                     networks={**NO_WEIGHTS, "alexnet": "alexnet.pth", "swav": "swav.tar"}, cat=CAT, run=RUN,
                     out_metrics=tmp_path / "metrics.csv", out_cat=tmp_path / "cat.csv",
                     verdict_files=[tmp_path / "v.csv"])  # fmt: skip
    assert sorted(loaded) == [("alexnet", "alexnet.pth"), ("swav", "swav.tar")]
    metrics = pd.read_csv(tmp_path / "metrics.csv").set_index("metric")
    assert metrics.loc["alexnet_2", "value"] == pytest.approx(1.0) and metrics.loc["alexnet_5", "computed"]
    assert metrics.loc["swav_distance", "value"] == pytest.approx(0.0, abs=1e-9)
    assert metrics.loc["swav_distance", "note"] == "weights sha256 " + "ab" * 6
    assert not metrics.loc["fid", "computed"] and not metrics.loc["effnet_2way", "computed"]


def test_incomplete_folders_are_refused_with_their_name(tiny_dataset, tiny_clip, tmp_path):
    truth = image_paths(tiny_dataset / "image_set", "test")
    short = _folder(tmp_path / "short", truth[:-1])
    kwargs = {"ground_truth_files": truth, "tag_table": tiny_dataset / "concept_tags.csv", "clip": tiny_clip,
              "networks": NO_WEIGHTS, "cat": CAT, "run": RUN, "out_metrics": tmp_path / "m.csv",
              "out_cat": tmp_path / "c.csv", "verdict_files": [tmp_path / "v.csv"],
              "groups": [("original", "one_stage")]}  # fmt: skip
    with pytest.raises(ValueError, match=rf"{short}: {len(truth) - 1} generated images for {len(truth)} ground-truth"):
        score_run_images(image_folders=[short], **kwargs)
    swapped = _folder(tmp_path / "swapped", truth[1:] + truth[:1])  # sidecar names the other concepts
    with pytest.raises(ValueError, match=rf"image 0 is index 0 of concept '{truth[1].parent.name}'; expected"):
        score_run_images(image_folders=[swapped], **kwargs)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty/images.json: missing"):
        score_run_images(image_folders=[tmp_path / "empty"], **kwargs)
    assert not (tmp_path / "m.csv").exists()
