"""Zero-shot retrieval of one trained encoder on one subject's test set, per condition."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch

from necomimi.clip.targets import read_targets
from necomimi.evaluation.kway import kway_accuracy, kway_accuracy_monte_carlo
from necomimi.utils.atomic import atomic_path

logger = logging.getLogger(__name__)

#: k values of the paper's tables (SPEC.md 5): top-1 for all, top-5 for the largest.
TOP1_KS = (2, 4, 10, 50, 100, 200)
TOP5_KS = (50, 100, 200)


def evaluate_retrieval(
    *,
    features_file: str | Path,
    model_file: str | Path,
    targets_file: str | Path,
    out_file: str | Path,
    condition: str,
    labels: dict,
    monte_carlo_draws: int,
    seed: int,
) -> None:
    """Write k-way top-1/top-5 accuracies of one encoder on one subject's test set.

    The EEG side is the condition's test features
    (:func:`necomimi.generation.features.extract_features`: the encoder's outputs on
    the repetition-averaged test EEG, SPEC.md 1.3, with the condition's channels
    replaced by noise), the very tensors the one-stage images are rendered from. The
    candidates are the test images' CLIP embeddings; similarities are cosines. Each
    row holds the exact expected accuracy over distractor draws and a seeded Monte
    Carlo estimate with its standard error; ``k`` is capped at the number of test
    images.

    Parameters
    ----------
    features_file : path
        The condition's ``eeg_test.pt`` (one row per test image).
    model_file : path
        The encoder's ``model.pt``: its epoch-selection label goes into every row.
    targets_file : path
        The CLIP targets.
    out_file : path
        Tidy CSV to write.
    condition : str
        Condition name, written in every row.
    labels : dict
        Columns identifying the run (encoder, protocol, subject, seed).
    monte_carlo_draws : int
        Draws of the Monte Carlo check.
    seed : int
        Seeds the Monte Carlo draws.
    """
    from necomimi.generation.features import load_features

    selection = torch.load(model_file, map_location="cpu", weights_only=True)["selection"]
    features = load_features(features_file)
    images = torch.from_numpy(read_targets(targets_file, "test").image)
    if len(features) != len(images):
        raise ValueError(
            f"{features_file}: {len(features)} test features for {len(images)} test images in {targets_file}"
        )
    similarity = (torch.nn.functional.normalize(features, dim=-1) @ images.T).numpy()
    n = len(images)
    settings = sorted({(min(k, n), 1) for k in TOP1_KS} | {(min(k, n), 5) for k in TOP5_KS if min(k, n) >= 5})
    rows = []
    for k, top in settings:
        exact = kway_accuracy(similarity, k, top)
        estimate, error = kway_accuracy_monte_carlo(similarity, k, top, n_draws=monte_carlo_draws, seed=seed)
        rows.append({**labels, "condition": condition, "selection": selection,
                     "k": k, "top": top, "accuracy": exact, "mc_accuracy": estimate,
                     "mc_stderr": error})  # fmt: skip
        logger.info("%s k=%d top-%d: %.4f (Monte Carlo %.4f +- %.4f)", condition, k, top, exact, estimate, error)
    with atomic_path(out_file) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.6f")


def evaluate_run_retrieval(
    *,
    conditions: Sequence[str],
    features_files: Sequence[str | Path],
    out_files: Sequence[str | Path],
    **options,
) -> None:
    """Write the retrieval of one run in every condition (:func:`evaluate_retrieval`).

    Parameters
    ----------
    conditions : sequence of str
        The run's conditions, in order.
    features_files : sequence of path
        Per condition, its ``eeg_test.pt``.
    out_files : sequence of path
        Per condition, the CSV to write.
    **options
        The other keyword arguments of :func:`evaluate_retrieval` (``model_file``,
        ``targets_file``, ``labels``, ``monte_carlo_draws``, ``seed``).
    """
    for condition, features, out_file in zip(conditions, features_files, out_files, strict=True):
        evaluate_retrieval(features_file=features, out_file=out_file, condition=condition, **options)
