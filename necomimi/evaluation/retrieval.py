"""Zero-shot retrieval of one trained encoder on one subject's test set, per condition."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from necomimi.clip.targets import read_targets
from necomimi.evaluation.kway import kway_accuracy, kway_accuracy_monte_carlo
from necomimi.evaluation.perturbation import perturb_channels
from necomimi.training.loop import embed, load_encoder
from necomimi.utils.atomic import atomic_path

logger = logging.getLogger(__name__)

#: k values of the paper's tables (SPEC.md 5): top-1 for all, top-5 for the largest.
TOP1_KS = (2, 4, 10, 50, 100, 200)
TOP5_KS = (50, 100, 200)


def evaluate_retrieval(
    *,
    model_file: str | Path,
    test_file: str | Path,
    targets_file: str | Path,
    out_file: str | Path,
    condition: str,
    channels: list[str],
    labels: dict,
    monte_carlo_draws: int,
    seed: int,
) -> None:
    """Write k-way top-1/top-5 accuracies of one encoder on one subject's test set.

    The test EEG is the repetition average (SPEC.md 1.3); ``channels`` of it are
    replaced by noise first for a perturbed condition (empty for ``original``). The
    candidates are the test images' CLIP embeddings; similarities are cosines. Each
    row holds the exact expected accuracy over distractor draws and a seeded Monte
    Carlo estimate with its standard error; ``k`` is capped at the number of test
    images.

    Parameters
    ----------
    model_file, test_file, targets_file : path
        ``model.pt``, the subject's ``eeg_test.npy`` and the CLIP targets.
    out_file : path
        Tidy CSV to write.
    condition : str
        Condition name, written in every row.
    channels : list of str
        Channels perturbed in this condition.
    labels : dict
        Columns identifying the run (encoder, protocol, subject, seed).
    monte_carlo_draws : int
        Draws of the Monte Carlo check.
    seed : int
        Seeds the perturbation noise and the Monte Carlo draws.
    """
    model, checkpoint = load_encoder(model_file)
    eeg = np.load(test_file, mmap_mode="r").mean(axis=1, dtype=np.float32)
    if channels:
        eeg = perturb_channels(eeg, channels, np.random.default_rng([seed, 11]))
    images = torch.from_numpy(read_targets(targets_file, "test").image)
    similarity = (torch.nn.functional.normalize(embed(model, eeg), dim=-1) @ images.T).numpy()
    n = len(images)
    settings = sorted({(min(k, n), 1) for k in TOP1_KS} | {(min(k, n), 5) for k in TOP5_KS if min(k, n) >= 5})
    rows = []
    for k, top in settings:
        exact = kway_accuracy(similarity, k, top)
        estimate, error = kway_accuracy_monte_carlo(similarity, k, top, n_draws=monte_carlo_draws, seed=seed)
        rows.append({**labels, "condition": condition, "selection": checkpoint["selection"],
                     "k": k, "top": top, "accuracy": exact, "mc_accuracy": estimate,
                     "mc_stderr": error})  # fmt: skip
        logger.info("%s k=%d top-%d: %.4f (Monte Carlo %.4f +- %.4f)", condition, k, top, exact, estimate, error)
    with atomic_path(out_file) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.6f")
