"""Step 1 of the generation: EEG features of a trained encoder (SPEC.md 6.1 and 6.5)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from necomimi.evaluation.perturbation import perturb_channels
from necomimi.training.loop import embed, load_encoder
from necomimi.utils.atomic import atomic_path
from necomimi.utils.device import resolve_device

logger = logging.getLogger(__name__)

TRAIN_FILE, TEST_FILE = "eeg_train.pt", "eeg_test.pt"
# Independent noise streams of the perturbation, per split.
_STREAM = {"train": 0, "test": 1}


def _features(model, eeg: np.ndarray, channels, rng, batch_size: int, device) -> torch.Tensor:
    """Encoder outputs of (n, chans, times) EEG, perturbed batch by batch if asked.

    The noise is drawn in sample order from one generator, so it does not depend on
    ``batch_size``.
    """
    parts = []
    for start in range(0, len(eeg), batch_size):
        batch = np.asarray(eeg[start : start + batch_size], dtype=np.float32)
        if channels:
            batch = perturb_channels(batch, channels, rng)
        parts.append(embed(model, batch, device=device))
    return torch.cat(parts)


def extract_features(
    *,
    model_file: str | Path,
    train_file: str | Path,
    test_file: str | Path,
    out_dir: str | Path,
    channels: list[str],
    seed: int,
    batch_size: int,
    device: str = "cpu",
) -> None:
    """Write the EEG features of one subject under one condition.

    ``eeg_train.pt`` holds one row per training trial (single trials, in the order
    image-major then repetition: row ``i * n_reps + r`` is repetition ``r`` of
    training image ``i``), ``eeg_test.pt`` one row per test image (the repetition
    average). Both are plain float32 tensors of raw encoder outputs (not normalised,
    as in the reference) that load with ``torch.load(path, weights_only=True)``.

    For a perturbed condition, ``channels`` of every sample (every single trial; every
    test average, after averaging) are replaced by Gaussian noise with that channel's
    own mean and standard deviation (SPEC.md 6.5), seeded; the encoder is the one
    trained on unperturbed EEG.

    Parameters
    ----------
    model_file : path
        The trained encoder's ``model.pt``.
    train_file, test_file : path
        The subject's ``eeg_train.npy`` (images, reps, chans, times) and
        ``eeg_test.npy``.
    out_dir : path
        Folder receiving ``eeg_train.pt`` and ``eeg_test.pt``.
    channels : list of str
        Channels replaced by noise (empty for the unperturbed condition).
    seed : int
        Seeds the noise.
    batch_size : int
        Samples per forward pass.
    device : str
        ``auto``, ``cpu`` or ``cuda[:N]``.
    """
    device = resolve_device(device)
    model, checkpoint = load_encoder(model_file)
    model.to(device)
    train = np.load(train_file, mmap_mode="r")
    test = np.load(test_file, mmap_mode="r")
    expected = (checkpoint["config"]["n_chans"], checkpoint["config"]["n_times"])
    for path, array in ((train_file, train), (test_file, test)):
        if array.ndim != 4 or array.shape[2:] != expected:
            raise ValueError(
                f"{path}: expected (images, repetitions, {expected[0]}, {expected[1]}) EEG for {model_file}, got {array.shape}"
            )
    out_dir = Path(out_dir)
    splits = {
        TRAIN_FILE: (train.reshape(-1, *expected), "train"),
        TEST_FILE: (test.mean(axis=1, dtype=np.float32), "test"),
    }
    for name, (eeg, split) in splits.items():
        rng = np.random.default_rng([seed, _STREAM[split]])
        features = _features(model, eeg, channels, rng, batch_size, device).cpu().float()
        with atomic_path(out_dir / name) as tmp:
            torch.save(features.contiguous(), tmp)
        logger.info("%s: %s features %s%s", out_dir, split, tuple(features.shape),
                    f", channels {', '.join(channels)} replaced by noise" if channels else "")  # fmt: skip


def load_features(path: str | Path) -> torch.Tensor:
    """Read a features file (weights-only load), checking it is a 2-D float tensor."""
    features = torch.load(path, weights_only=True)
    if not isinstance(features, torch.Tensor) or features.ndim != 2:
        raise ValueError(f"{path}: expected a (samples, features) tensor, got {type(features).__name__}")
    return features.float()
