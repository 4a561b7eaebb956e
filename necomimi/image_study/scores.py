"""Image metrics and CAT verdicts of one run's generated images (issue 7).

One job per run (encoder, subject, seed) scores every condition and mode folder of
generated images against the ground-truth test images (:func:`score_run_images`); the
``gt`` images, the same for every run, are scored once (:func:`score_gt_images`):

- pixel metrics: SSIM as the NECOMIMI reference computes it and PixCorr
  (:mod:`necomimi.metrics.pixel`);
- CLIP metrics in the study CLIP's image space: two-way identification
  (``clip_2way``) and a Fréchet distance (``fid_clip``, not the paper's FID);
- the field's feature metrics (PAPER.md 2.1), each from a local weights file
  (:mod:`necomimi.metrics.networks`): the FID with pytorch-fid's InceptionV3, two-way
  identification in AlexNet(2), AlexNet(5), InceptionV3 and EfficientNet-B1 spaces,
  and the EfficientNet-B1 and SwAV correlation distances. A metric whose weights are
  not configured is written as a row with ``computed`` False and the reason;
- the CAT score (PAPER.md 1.3): the CLIP judge's verdicts per image and tag type,
  and human ratings where given, aggregated alike (:mod:`necomimi.cat.judge`).

Every group compares its ``n`` generated images with the same ``n`` ground-truth
images, so Fréchet distances of all groups rest on equal sample sizes (the reference
mixed 200 and 1000, SPEC.md 7.1).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from necomimi.cat.judge import Judgement, clip_judgement, human_judgement
from necomimi.cat.tags import read_tag_table
from necomimi.generation.sidecar import SIDECAR, sidecar_entries
from necomimi.image_study.tables import (  # the score files' columns
    CAT_COLUMNS,
    CEILING_COLUMNS,
    GT_CAT_COLUMNS,
    GT_METRIC_COLUMNS,
    METRIC_COLUMNS,
)
from necomimi.metrics import PixelReference, correlation_distance, frechet_distance, two_way_identification
from necomimi.utils.atomic import atomic_path
from necomimi.utils.device import resolve_device

logger = logging.getLogger(__name__)

#: Metric -> (feature network of necomimi.metrics.networks, layer, statistic).
NETWORK_METRICS = {
    "fid": ("fid_inception", "pool3", "frechet"),
    "alexnet_2": ("alexnet", "features.4", "two_way"),
    "alexnet_5": ("alexnet", "features.11", "two_way"),
    "inception_2way": ("inception_v3", "avgpool", "two_way"),
    "effnet_2way": ("efficientnet_b1", "avgpool", "two_way"),
    "effnet_distance": ("efficientnet_b1", "avgpool", "distance"),
    "swav_distance": ("swav", "avgpool", "distance"),
}
_STATISTICS = {
    "frechet": frechet_distance,
    "two_way": two_way_identification,
    "distance": correlation_distance,
}


def folder_images(folder: str | Path, ground_truth: list[Path]) -> list[Path]:
    """The image files of a folder of generated images, image ``i`` of test concept ``i``.

    Read from the folder's ``images.json``: its entries must be the indices
    ``0 .. n - 1``, each of the concept whose ground truth is ``ground_truth[i]``.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the folder, if the sidecar or an image is missing or unreadable, the
        folder holds another number of images than there are test images, or an image
        is of another concept than its ground truth.
    """
    folder = Path(folder)
    sidecar = folder / SIDECAR
    entries = sidecar_entries(folder)
    if len(entries) != len(ground_truth):
        raise ValueError(f"{folder}: {len(entries)} generated images for {len(ground_truth)} ground-truth test images")
    for position, (entry, truth) in enumerate(zip(entries, ground_truth, strict=True)):
        if entry["index"] != position or entry["concept"] != truth.parent.name:
            raise ValueError(
                f"{sidecar}: image {position} is index {entry['index']} of concept {entry['concept']!r}; "
                f"expected index {position} of concept {truth.parent.name!r} ({truth})"
            )
    files = [folder / entry["file"] for entry in entries]
    absent = [path for path in files if not path.is_file()]
    if absent:
        raise FileNotFoundError(f"{absent[0]}: listed in {sidecar} but missing ({len(absent)} missing)")
    return files


class _Spaces:
    """Features of image sets in the study CLIP's and the configured networks' spaces."""

    def __init__(
        self,
        clip: Mapping,
        networks: Mapping[str, str | Path | None],
        device,
        batch_size: int,
    ):
        from necomimi.clip.loading import load_clip

        self.clip_name = clip["model"]
        self.clip, self.preprocess, self.tokenizer = load_clip(**clip)
        self.clip.to(device)
        self.batch_size = batch_size
        self.networks = {}
        self.missing = {}
        for name in sorted({network for network, _, _ in NETWORK_METRICS.values()}):
            weights = networks.get(name)
            if weights:
                from necomimi.metrics.networks import load_feature_network  # torchvision: only when used

                self.networks[name] = load_feature_network(name, weights, device)
            else:
                self.missing[name] = (
                    f"not computed: metrics.weights.{name} is not set in the config"
                )

    def clip_features(self, files: list[Path]) -> np.ndarray:
        from necomimi.clip.loading import encode_images

        return encode_images(
            self.clip, self.preprocess, files, self.batch_size, label="CLIP metrics"
        )

    def network_features(self, files: list[Path]) -> dict[str, dict[str, np.ndarray]]:
        images = [Image.open(path).convert("RGB") for path in files]
        return {
            name: network.features(images, self.batch_size)
            for name, network in self.networks.items()
        }


def _pixcorr_row(values: np.ndarray) -> dict:
    """PixCorr averaged over the images; constant images (no correlation) are counted out."""
    constant = int(np.isnan(values).sum())
    row = {"metric": "pixcorr", "space": "pixels (RGB, 425 px)",
           "value": float(np.nanmean(values)) if constant < len(values) else np.nan}  # fmt: skip
    if constant:
        row["note"] = f"{constant} constant image(s) left out of the mean"
    return row


def _metric_rows(generated: list[Path], pixels: PixelReference, features: dict, truth_features: dict,
                 spaces: _Spaces) -> list[dict]:  # fmt: skip
    """One row per metric for one group of generated images."""
    n = len(generated)
    clip_space = f"{spaces.clip_name} image embeddings"
    rows = [
        {"metric": "ssim", "space": "pixels (grayscale, 256 px)",
         "value": float(np.mean(pixels.ssim(generated)))},
        _pixcorr_row(pixels.pixcorr(generated)),
        {"metric": "clip_2way", "space": clip_space,
         "value": two_way_identification(features["clip"], truth_features["clip"])},
        {"metric": "fid_clip", "space": clip_space,
         "value": frechet_distance(features["clip"], truth_features["clip"]),
         "note": f"Fréchet distance in the {clip_space}, not comparable with the paper's InceptionV3 FID"},
    ]  # fmt: skip
    for metric, (network, layer, statistic) in NETWORK_METRICS.items():
        space = f"{network} {layer}"
        if network in spaces.missing:
            rows.append({"metric": metric, "space": space, "value": np.nan, "computed": False,
                         "note": spaces.missing[network]})  # fmt: skip
            continue
        value = _STATISTICS[statistic](
            features[network][layer], truth_features[network][layer]
        )
        note = f"weights sha256 {spaces.networks[network].weights_sha256[:12]}"
        rows.append({"metric": metric, "space": space, "value": value, "note": note})
    return [{"n_images": n, "computed": True, "note": ""} | row for row in rows]


def _cat_row(judge: str, judgement: Judgement) -> dict:
    return {"judge": judge, "score": judgement.score, "n_points": judgement.matches.size,
            "chance": judgement.chance_score if judge == "clip" else np.nan}  # fmt: skip


def _score_groups(groups: Sequence[tuple[dict, Path, Path, Path | None]], *, ground_truth_files, tag_table,
                  clip: Mapping, networks: Mapping, cat: Mapping, device: str,
                  batch_size: int) -> tuple[list[dict], list[dict]]:  # fmt: skip
    """Metric and CAT rows of groups of generated images; writes each group's verdicts.

    ``groups``: (labels written into the group's rows, image folder, verdicts CSV,
    human ratings CSV or None).
    """
    from necomimi.cat.clip_judge import embed_tags, write_verdicts

    truth = [Path(path) for path in ground_truth_files]
    table = read_tag_table(tag_table, folders=[path.parent.name for path in truth])
    spaces = _Spaces(clip, networks, resolve_device(device), batch_size)
    vocabulary, tag_embeddings = embed_tags(table, spaces.clip, spaces.tokenizer, cat["templates"])
    pixels = PixelReference(truth)
    truth_features = {"clip": spaces.clip_features(truth), **spaces.network_features(truth)}
    metric_rows, cat_rows = [], []
    for labels, folder, verdict_file, ratings in groups:
        generated = folder_images(folder, truth)
        features = {"clip": spaces.clip_features(generated), **spaces.network_features(generated)}
        rows = _metric_rows(generated, pixels, features, truth_features, spaces)
        metric_rows += [labels | row for row in rows]
        judgement = clip_judgement(features["clip"], tag_embeddings, vocabulary, dict(cat["top_k"]))
        write_verdicts(judgement, verdict_file)
        cat_rows.append(labels | _cat_row("clip", judgement))
        if ratings is not None:
            cat_rows.append(labels | _cat_row("human", human_judgement(ratings, len(truth))))
        logger.info("%s: CAT %d/%d (CLIP judge), SSIM %.4f", folder, judgement.score, judgement.matches.size,
                    rows[0]["value"])  # fmt: skip
    return metric_rows, cat_rows


def _write_rows(path: str | Path, rows: list[dict], columns: Sequence[str]) -> None:
    with atomic_path(path) as tmp:
        pd.DataFrame(rows, columns=list(columns)).to_csv(tmp, index=False, float_format="%.6g")


def score_run_images(
    *,
    groups: Sequence[Sequence[str]],
    image_folders: Sequence[str | Path],
    ground_truth_files: list[str | Path],
    tag_table: str | Path,
    clip: Mapping,
    networks: Mapping[str, str | Path | None],
    cat: Mapping,
    run: Mapping,
    out_metrics: str | Path,
    out_cat: str | Path,
    verdict_files: Sequence[str | Path],
    ratings_files: Mapping[str, str | Path] | None = None,
    device: str = "cpu",
    batch_size: int = 32,
) -> None:
    """Score every condition and mode folder of one run; write metrics, CAT rows and verdicts.

    Parameters
    ----------
    groups : sequence of (condition, mode)
        The run's groups of generated images, in order.
    image_folders : sequence of path
        Per group, its folder written by
        :func:`necomimi.generation.images.generate_images`.
    ground_truth_files : list of path
        The test images, in test order (image ``i`` is concept ``i``).
    tag_table : path
        The CAT tag table of the test concepts (:func:`necomimi.cat.tags.read_tag_table`).
    clip : mapping
        Keyword arguments of :func:`necomimi.clip.loading.load_clip`: the study's CLIP,
        the CAT judge and the ``clip_2way``/``fid_clip`` space.
    networks : mapping
        Feature network name -> local weights file, or None where not configured.
    cat : mapping
        ``templates`` and ``top_k`` of the CLIP judge (tag type -> prompt, k).
    run : mapping
        Protocol, encoder, subject and seed, written into every row.
    out_metrics : path
        Tidy CSV, one row per condition, mode and metric (:data:`METRIC_COLUMNS`).
    out_cat : path
        CSV, one row per condition, mode and judge (:data:`CAT_COLUMNS`).
    verdict_files : sequence of path
        Per group, the CSV of the CLIP judge's verdicts in the ratings format (index,
        tag_type, match): a person can correct one and hand it back as ratings.
    ratings_files : mapping, optional
        ``"condition/mode"`` -> human ratings CSV; each gives a ``human`` row.
    device : str
        ``auto``, ``cpu`` or ``cuda[:N]``.
    batch_size : int
        Images per forward pass of CLIP and the feature networks.
    """
    groups = [tuple(group) for group in groups]
    if not len(groups) == len(image_folders) == len(verdict_files):
        raise ValueError(f"score_run_images: {len(groups)} groups, {len(image_folders)} image folders and "
                         f"{len(verdict_files)} verdict files; expected one of each per group")  # fmt: skip
    labels = {key: run[key] for key in ("protocol", "encoder", "subject", "seed")}
    ratings = ratings_files or {}
    metric_rows, cat_rows = _score_groups(
        [({**labels, "condition": condition, "mode": mode}, Path(folder), Path(verdicts),
          ratings.get(f"{condition}/{mode}"))
         for (condition, mode), folder, verdicts in zip(groups, image_folders, verdict_files, strict=True)],
        ground_truth_files=ground_truth_files, tag_table=tag_table, clip=clip, networks=networks, cat=cat,
        device=device, batch_size=batch_size,
    )  # fmt: skip
    _write_rows(out_metrics, metric_rows, METRIC_COLUMNS)
    _write_rows(out_cat, cat_rows, CAT_COLUMNS)


def score_gt_images(
    *,
    folder: str | Path,
    ground_truth_files: list[str | Path],
    tag_table: str | Path,
    clip: Mapping,
    networks: Mapping[str, str | Path | None],
    cat: Mapping,
    out_metrics: str | Path,
    out_cat: str | Path,
    verdict_file: str | Path,
    ratings_file: str | Path | None = None,
    device: str = "cpu",
    batch_size: int = 32,
) -> None:
    """Score the ``gt`` images once (they are the same for every run and condition).

    The same metrics and CAT verdicts as :func:`score_run_images`, without the run's
    columns: :data:`GT_METRIC_COLUMNS` and :data:`GT_CAT_COLUMNS`, ``mode`` ``gt``.
    :func:`necomimi.image_study.tables.tabulate_images` repeats these rows for
    every run and condition.

    Parameters
    ----------
    folder : path
        The folder written by :func:`necomimi.generation.images.generate_gt_images`.
    out_metrics, out_cat : path
        The metric rows and the CAT rows.
    verdict_file : path
        The CLIP judge's verdicts, in the ratings format.
    ratings_file : path, optional
        Human ratings of the gt images; gives a ``human`` row.
    ground_truth_files, tag_table, clip, networks, cat, device, batch_size
        As for :func:`score_run_images`.
    """
    metric_rows, cat_rows = _score_groups(
        [({"mode": "gt"}, Path(folder), Path(verdict_file), ratings_file)], ground_truth_files=ground_truth_files,
        tag_table=tag_table, clip=clip, networks=networks, cat=cat, device=device, batch_size=batch_size,
    )  # fmt: skip
    _write_rows(out_metrics, metric_rows, GT_METRIC_COLUMNS)
    _write_rows(out_cat, cat_rows, GT_CAT_COLUMNS)


def judge_ground_truth(*, ground_truth_files: list[str | Path], tag_table: str | Path, clip: Mapping, cat: Mapping,
                       out_scores: str | Path, out_verdicts: str | Path, device: str = "cpu",
                       batch_size: int = 32) -> None:  # fmt: skip
    """The CLIP judge's ceiling: its CAT score on the ground-truth test images themselves.

    Writes ``out_scores`` (one row: judge, score, n_points, chance) and the verdicts
    (index, tag_type, match) in the ratings format. A score far below ``n_points``
    means the judge, not the images, limits the CAT score: read generated images'
    scores against this ceiling and the chance level.
    """
    from necomimi.cat.clip_judge import judge_image_files, write_verdicts
    from necomimi.clip.loading import load_clip

    truth = [Path(path) for path in ground_truth_files]
    table = read_tag_table(tag_table, folders=[path.parent.name for path in truth])
    model, preprocess, tokenizer = load_clip(**clip)
    model.to(resolve_device(device))
    judgement = judge_image_files(truth, table, model, preprocess, tokenizer, templates=cat["templates"],
                                  top_k=cat["top_k"], batch_size=batch_size)  # fmt: skip
    write_verdicts(judgement, out_verdicts)
    _write_rows(out_scores, [_cat_row("clip", judgement)], CEILING_COLUMNS)
    logger.info("CLIP judge on the ground-truth images: %d/%d (chance %.1f)", judgement.score, judgement.matches.size,
                judgement.chance_score)  # fmt: skip
