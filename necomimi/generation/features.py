"""Step 1 of the generation: EEG features of a trained encoder (SPEC.md 6.1 and 6.5)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from necomimi.conditions.condition import Condition, as_condition, parse_conditions
from necomimi.conditions.perturb import perturb
from necomimi.data.things_eeg2 import CHANNEL_NAMES
from necomimi.preprocessing.outputs import read_channel_names, read_times
from necomimi.training.loop import embed, load_encoder
from necomimi.utils.atomic import atomic_path
from necomimi.utils.device import resolve_device
from necomimi.utils.npy import load_trials

logger = logging.getLogger(__name__)

TRAIN_FILE, TEST_FILE = "eeg_train.pt", "eeg_test.pt"
# Independent noise streams of the perturbation, per split.
_STREAM = {"train": 0, "test": 1}


def _features(model, batches, condition: Condition, ch_names, times, rng, device, batch_size: int) -> torch.Tensor:
    """Encoder outputs of (n, chans, times) EEG batches, each under ``condition`` first.

    The noise is drawn in sample order from one generator, so it depends on the
    order of the samples, not on how they are batched.
    """
    parts = []
    for batch in batches:
        batch = np.asarray(batch, dtype=np.float32)
        if not condition.is_reference:
            batch = perturb(batch, condition, rng, ch_names, times)
        parts.append(embed(model, batch, device=device, batch_size=batch_size))
    return torch.cat(parts)


def _train_batches(arrays: list[np.ndarray], batch_size: int):
    """Single trials image by image: every subject's repetitions of an image, in turn.

    Yields (n, chans, times) arrays of about ``batch_size`` trials (whole images),
    read from the memory maps.
    """
    per_image = sum(array.shape[1] for array in arrays)
    step = max(1, batch_size // per_image)
    for start in range(0, arrays[0].shape[0], step):
        block = np.concatenate([array[start : start + step] for array in arrays], axis=1)
        yield block.reshape(-1, *block.shape[2:])


def extract_features(
    *,
    model_file: str | Path,
    train_files: list[str | Path],
    test_file: str | Path,
    out_dir: str | Path,
    condition: Condition | str | Sequence[str],
    seed: int,
    batch_size: int,
    device: str = "cpu",
    ch_names: Sequence[str] = CHANNEL_NAMES,
    times: Sequence[float] | None = None,
) -> None:
    """Write the EEG features of one subject under one condition.

    ``eeg_train.pt`` holds one row per training trial, image by image: row
    ``i * n + k`` is trial ``k`` of training image ``i``, the ``n`` trials being the
    training subjects' repetitions in turn (one subject, 4 repetitions, in the ``intra``
    protocol; for ``loso`` the other subjects, so that nothing of the held-out subject
    trains the prior). ``eeg_test.pt`` holds one row per test image of the evaluated
    subject (the repetition average). Both are plain float32 tensors of raw encoder
    outputs (not normalised, as in the reference) that load with
    ``torch.load(path, weights_only=True)``.

    Under a condition other than the original data, every sample (every single trial;
    every test average, after averaging) goes through
    :func:`~necomimi.conditions.perturb.perturb` first: its channels (and time window)
    are replaced by Gaussian noise with the channel's own mean and standard deviation
    (SPEC.md 6.5), or cropped, seeded; the encoder is the one trained on the original
    EEG.

    Parameters
    ----------
    model_file : path
        The trained encoder's ``model.pt``.
    train_files : list of path
        ``eeg_train.npy`` (images, reps, chans, times) of the training subject(s), or
        THINGS-MEG ``train.npy`` (trials, chans, times), one trial per image.
    test_file : path
        ``eeg_test.npy`` (THINGS-MEG: ``test.npy``) of the evaluated subject.
    out_dir : path
        Folder receiving ``eeg_train.pt`` and ``eeg_test.pt``.
    condition : Condition, str or sequence of str
        The condition (:mod:`necomimi.conditions.condition`), or its channels replaced
        by noise over the epoch: a list (empty for the original data) or a set's name
        (:data:`~necomimi.conditions.regions.CHANNEL_SETS`, e.g. ``occipital``).
    seed : int
        Seeds the noise.
    batch_size : int
        Samples per forward pass (1024 in the reference).
    device : str
        ``auto``, ``cpu`` or ``cuda[:N]``.
    ch_names : sequence of str
        The channels of the arrays, in order (the preprocessed ``info.json``'s
        ``ch_names``); THINGS-EEG2's 63 by default.
    times : sequence of float, optional
        The arrays' times, seconds (the ``info.json``'s ``times``); needed by a
        condition with a time window.
    """
    condition = as_condition(condition)
    device = resolve_device(device)
    model, checkpoint = load_encoder(model_file)
    model.to(device)
    expected = (checkpoint["config"]["n_chans"], checkpoint["config"]["n_times"])
    if not condition.is_reference:  # unknown channels or too small a window: refused before any work
        condition.channel_names(ch_names)
        condition.replaced_times(times)
    trains = [load_trials(path) for path in train_files]
    test = np.load(test_file, mmap_mode="r")
    for path, array in (*zip(train_files, trains, strict=True), (test_file, test)):
        if array.ndim != 4 or array.shape[2:] != expected:
            raise ValueError(
                f"{path}: expected (images, repetitions, {expected[0]}, {expected[1]}) EEG for {model_file}, "
                f"got {array.shape}"
            )
    if len({array.shape[0] for array in trains}) != 1:
        raise ValueError(f"{', '.join(map(str, train_files))}: different numbers of training images")
    test_average = test.mean(axis=1, dtype=np.float32)
    splits = {
        TRAIN_FILE: (_train_batches(trains, batch_size), "train"),
        TEST_FILE: ((test_average[i : i + batch_size] for i in range(0, len(test_average), batch_size)), "test"),
    }
    out_dir = Path(out_dir)
    for name, (batches, split) in splits.items():
        rng = np.random.default_rng([seed, _STREAM[split]])
        features = _features(model, batches, condition, ch_names, times, rng, device, batch_size).cpu().float()
        with atomic_path(out_dir / name) as tmp:
            torch.save(features.contiguous(), tmp)
        logger.info("%s: %s features %s, condition %s: %s", out_dir, split, tuple(features.shape), condition.name,
                    condition.describe(ch_names))  # fmt: skip


def extract_run_features(
    *,
    conditions: Mapping[str, object],
    out_test_files: Sequence[str | Path],
    info_file: str | Path,
    **options,
) -> None:
    """Write the EEG features of one run in every condition (:func:`extract_features`).

    Parameters
    ----------
    conditions : mapping
        The config's conditions, name -> value (:mod:`necomimi.conditions.condition`),
        in order.
    out_test_files : sequence of path
        Per condition, its ``eeg_test.pt``; ``eeg_train.pt`` is written beside it.
    info_file : path
        The evaluated subject's preprocessed ``info.json`` (the arrays' channel names and
        times).
    **options
        The other keyword arguments of :func:`extract_features` (``model_file``,
        ``train_files``, ``test_file``, ``seed``, ``batch_size``, ``device``).
    """
    ch_names, times = read_channel_names(info_file), read_times(info_file)
    for condition, out_file in zip(parse_conditions(conditions).values(), out_test_files, strict=True):
        if Path(out_file).name != TEST_FILE:
            raise ValueError(f"{out_file}: condition {condition.name}'s test features must be named {TEST_FILE}")
        extract_features(out_dir=Path(out_file).parent, condition=condition, ch_names=ch_names, times=times, **options)


def load_features(path: str | Path) -> torch.Tensor:
    """Read a features file (weights-only load), checking it is a 2-D float tensor."""
    features = torch.load(path, weights_only=True)
    if not isinstance(features, torch.Tensor) or features.ndim != 2:
        raise ValueError(f"{path}: expected a (samples, features) tensor, got {type(features).__name__}")
    return features.float()
