"""Train one encoder for one (subject or held-out subject, seed), resumably.

Follows SPEC.md 4.1: single trials for training, the repetition average for
evaluation, ``0.99 * CLIP(eeg, image) + 0.01 * CLIP(eeg, text)``, AdamW (lr 3e-4,
weight decay 0.01 on every parameter, the logit scale included), batches of 1024 with
``drop_last``, no scheduler. Corrected: every random step is seeded, and the epoch is
selected on held-out training concepts (``selection="validation"``) unless the paper's
test-set selection is asked for (``selection="test"``), by the exact k-way top-1 accuracy
of :func:`~necomimi.evaluation.kway.kway_accuracy` (``selection_k``: the reference's
top-1 over all candidates, or a smaller k for a small selection set). Training runs on
the config's ``device``; checkpoints always hold CPU tensors.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import necomimi
from necomimi.clip.targets import read_targets
from necomimi.evaluation.kway import kway_accuracy
from necomimi.models import create
from necomimi.training.losses import ContrastiveLoss
from necomimi.utils.atomic import atomic_path
from necomimi.utils.device import resolve_device
from necomimi.utils.npy import load_trials

logger = logging.getLogger(__name__)

SELECTIONS = ("validation", "test")
MODEL_FILE, LAST_FILE, HISTORY_FILE, RESUME_FILE = "model.pt", "last.pt", "history.csv", ".resume.pt"
_HISTORY_FIELDS = ("epoch", "train_loss", "selection_set", "selection_k", "selection_top1", "logit_scale", "best")
_EVAL_BATCH = 256


@dataclass
class _TrainingData:
    eeg: list[np.ndarray]  # memory-mapped (images, reps, chans, times) per training subject
    trials: np.ndarray  # (n_trials, 3): subject, image, repetition
    image: torch.Tensor  # (n_images, D) CLIP image targets
    text: torch.Tensor  # (n_images, D) CLIP text target of each image's concept
    selection_eeg: np.ndarray  # (n_selection_images, chans, times), repetition averages
    selection_image: torch.Tensor  # their CLIP image embeddings

    def targets_to(self, device: torch.device) -> None:
        """Move the CLIP targets (small next to the EEG, which stays memory-mapped) to ``device``."""
        self.image, self.text = self.image.to(device), self.text.to(device)
        self.selection_image = self.selection_image.to(device)


def _held_out_concepts(concept_of_image: np.ndarray, n_concepts: int, seed: int) -> np.ndarray:
    concepts = np.unique(concept_of_image)
    if not 2 <= n_concepts < len(concepts):
        raise ValueError(
            f"validation_concepts must lie in 2..{len(concepts) - 1} for {len(concepts)} training concepts, "
            f"got {n_concepts}"
        )
    return np.random.default_rng([seed, 7]).choice(concepts, size=n_concepts, replace=False)


def _load_data(train_files, test_file, targets_file, selection, validation_concepts, seed) -> _TrainingData:
    eeg = [load_trials(path) for path in train_files]
    train_targets = read_targets(targets_file, "training")
    for path, array in zip(train_files, eeg, strict=True):
        if array.shape[0] != len(train_targets.image):
            raise ValueError(
                f"{path}: {array.shape[0]} training images but {targets_file} has {len(train_targets.image)}"
            )
    image_ids = np.arange(len(train_targets.image))
    if selection == "validation":
        concept_of_image = train_targets.concept_of_image
        held_out = np.isin(concept_of_image, _held_out_concepts(concept_of_image, validation_concepts, seed))
        train_images, selection_images = image_ids[~held_out], image_ids[held_out]
        selection_eeg = np.mean([array[selection_images].mean(axis=1) for array in eeg], axis=0, dtype=np.float32)
        selection_image = torch.from_numpy(train_targets.image[selection_images])
    elif selection == "test":
        train_images = image_ids
        selection_eeg = np.load(test_file, mmap_mode="r").mean(axis=1, dtype=np.float32)
        selection_image = torch.from_numpy(read_targets(targets_file, "test").image)
    else:
        raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
    trials = np.array(
        [(s, i, r) for s, array in enumerate(eeg) for i in train_images for r in range(array.shape[1])],
        dtype=np.int64,
    )
    return _TrainingData(
        eeg=eeg,
        trials=trials,
        image=torch.from_numpy(train_targets.image),
        text=torch.from_numpy(train_targets.text[train_targets.concept_of_image]),
        selection_eeg=selection_eeg,
        selection_image=selection_image,
    )


def _batch_eeg(data: _TrainingData, trials: np.ndarray) -> torch.Tensor:
    """Gather single trials from the memory maps as one float32 CPU tensor.

    Each map is viewed as (images * repetitions, chans, times) and read with one
    sorted integer index: ten times faster than indexing images and repetitions as
    two arrays, which numpy does element by element on a memory map.
    """
    out = np.empty((len(trials), *data.eeg[0].shape[2:]), dtype=np.float32)
    for subject, array in enumerate(data.eeg):
        (where,) = np.nonzero(trials[:, 0] == subject)
        rows = trials[where, 1] * array.shape[1] + trials[where, 2]
        order = np.argsort(rows)
        out[where[order]] = array.reshape(-1, *array.shape[2:])[rows[order]]
    return torch.from_numpy(out)


@torch.no_grad()
def embed(model: torch.nn.Module, eeg: np.ndarray, device: torch.device | str = "cpu",
          batch_size: int = _EVAL_BATCH) -> torch.Tensor:  # fmt: skip
    """Encoder outputs for (n, chans, times) EEG, in eval mode and batches, on ``device``.

    The model must already be on ``device``; each batch is moved there before the
    forward pass and the outputs are returned there.
    """
    model.eval()
    parts = []
    for start in range(0, len(eeg), batch_size):
        # np.array copies: a read-only memory map cannot back a tensor
        batch = torch.from_numpy(np.array(eeg[start : start + batch_size], dtype=np.float32))
        parts.append(model(batch.to(device)))
    return torch.cat(parts)


def _selection_k(selection_k: int | str, n_candidates: int) -> int:
    """The k of the selection accuracy: ``"all"`` is every candidate of the selection set."""
    if selection_k == "all":
        return n_candidates
    if isinstance(selection_k, bool) or not isinstance(selection_k, int) or not 2 <= selection_k <= n_candidates:
        raise ValueError(
            f"training.selection_k must be 'all' or an integer in 2..{n_candidates} (the images of the selection "
            f"set), got {selection_k!r}"
        )
    return selection_k


def _top1(model, eeg, image, k: int, device: torch.device) -> float:
    """Exact zero-shot k-way top-1 accuracy; ``model`` and ``image`` on ``device``."""
    similarity = torch.nn.functional.normalize(embed(model, eeg, device), dim=-1) @ image.T
    return kway_accuracy(similarity.cpu().numpy(), k, 1)


def _on_cpu(value):
    """``value`` with every tensor in it (nested in dicts, lists, tuples) on the CPU.

    Tensors already there are returned as they are (no copy); mappings keep their type
    and a state dict its ``_metadata``.
    """
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        out = type(value)((key, _on_cpu(item)) for key, item in value.items())
        if hasattr(value, "_metadata"):
            out._metadata = value._metadata
        return out
    if isinstance(value, list | tuple):
        return type(value)(_on_cpu(item) for item in value)
    return value


def _cpu_copy(state: dict) -> dict:
    """Copy a state dict to the CPU, detached (a clone where it is already there)."""
    return {key: value.detach().to("cpu", copy=True) for key, value in state.items()}


def _save(path: Path, content: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(_on_cpu(content), tmp)


def train_encoder(
    *,
    encoder: str,
    encoder_kwargs: dict,
    train_files: list[str | Path],
    test_file: str | Path,
    targets_file: str | Path,
    out_dir: str | Path,
    seed: int,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    loss: str,
    image_weight: float,
    selection: str,
    validation_concepts: int,
    selection_k: int | str = "all",
    device: str = "cpu",
) -> None:
    """Train ``encoder`` contrastively and keep the best epoch.

    Parameters
    ----------
    encoder : str
        Registry name (:data:`necomimi.models.ENCODERS`).
    encoder_kwargs : dict
        Extra constructor arguments; ``n_chans``, ``n_times`` and ``n_outputs`` come
        from the data.
    train_files : list of path
        ``eeg_train.npy`` of the training subject(s): one for the ``intra`` protocol,
        all others for ``loso``; a THINGS-MEG ``train.npy`` (one trial per image) is
        read as one repetition (:func:`~necomimi.utils.npy.load_trials`).
    test_file : path
        ``eeg_test.npy`` of the evaluated subject (used only for ``selection="test"``).
    targets_file : path
        CLIP targets (:func:`necomimi.clip.targets.embed_targets`).
    out_dir : path
        Receives ``model.pt`` (the selected epoch), ``last.pt`` (the last epoch) and
        ``history.csv``; ``.resume.pt`` is kept there while training runs.
    seed : int
        Seeds the initialisation, the held-out concepts, the batch order and dropout.
    epochs, batch_size : int
        200 and 1024 in the paper; batches use ``drop_last``.
    lr, weight_decay : float
        AdamW settings (3e-4 and 0.01).
    loss : {"reference", "openclip"}
        See :class:`~necomimi.training.losses.ContrastiveLoss`.
    image_weight : float
        Weight of the image term (0.99).
    selection : {"validation", "test"}
        Epoch selection on held-out training concepts, or on the test set (the
        paper's choice; recorded as such in every output).
    validation_concepts : int
        Training concepts held out when ``selection="validation"``.
    selection_k : int or "all"
        The epoch with the best exact k-way top-1 accuracy on the selection set is
        kept. ``"all"`` takes every image of the set as a candidate (the reference's
        choice, 200-way on the test set); on a small set (the demo holds out 12 images)
        that top-1 moves in steps of 1/12 and picks an early epoch by chance, while
        the 2-way accuracy (the mean rank of the true image) moves smoothly.
    device : str
        ``auto``, ``cpu`` or ``cuda[:N]`` (:func:`necomimi.utils.device.resolve_device`):
        where the encoder, the loss, the batches and the CLIP targets live. The EEG is
        read from the memory maps on the CPU, one batch at a time, and each batch is
        copied to the device.

    Raises
    ------
    ValueError
        If ``device`` is not one of these, or names a CUDA device this machine lacks;
        if ``selection_k`` is neither ``"all"`` nor an integer in 2..(selection images).

    Notes
    -----
    Killed and rerun, training resumes from ``.resume.pt`` (model, optimiser, random
    state, history, best epoch) and ends with exactly the weights of an uninterrupted
    run on the same device.

    The encoder is initialised on the CPU, so its initial weights are the same on every
    device, and the trial order comes from a seeded NumPy generator on the CPU, so the
    same seed gives the same batches everywhere. On the CPU, a rerun with the same seed
    gives bit-identical weights. On CUDA, dropout draws from the CUDA generator (seeded
    by :func:`torch.manual_seed`, its state kept in ``.resume.pt``) and cuDNN may pick
    non-deterministic kernels (deterministic algorithms are not forced: they slow
    training down), so CUDA results are close to, not bit-identical with, a rerun's or
    the CPU's. Every checkpoint holds CPU tensors and loads on any machine.
    """
    device = resolve_device(device)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    logger.info("%s: training on %s; selection on the %s set; device %s", encoder, ", ".join(map(str, train_files)),
                selection, device)  # fmt: skip
    data = _load_data(train_files, test_file, targets_file, selection, validation_concepts, seed)
    data.targets_to(device)
    k = _selection_k(selection_k, len(data.selection_image))
    n_chans, n_times = data.eeg[0].shape[2:]
    if len(data.trials) < batch_size:
        raise ValueError(f"{len(data.trials)} training trials are fewer than batch_size={batch_size} (drop_last)")
    torch.manual_seed(seed)
    model = create(encoder, n_outputs=data.image.shape[1], n_chans=n_chans, n_times=n_times, **encoder_kwargs)
    model.to(device)  # after initialising on the CPU: the same initial weights on any device
    criterion = ContrastiveLoss(loss, image_weight).to(device)
    parameters = [*model.parameters(), *criterion.parameters()]
    optimiser = torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)
    history, best = [], {"score": -1.0, "epoch": 0, "state": None}
    start_epoch = 1
    resume_path = out_dir / RESUME_FILE
    if resume_path.is_file():
        state = torch.load(resume_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])  # copied into the parameters, on the device
        criterion.load_state_dict(state["criterion"])
        optimiser.load_state_dict(state["optimiser"])  # moves its state to the parameters' device
        torch.set_rng_state(state["rng"])
        if device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        history, best, start_epoch = state["history"], state["best"], state["epoch"] + 1
        logger.info("resuming %s from epoch %d (%s)", encoder, state["epoch"], resume_path)
    steps = len(data.trials) // batch_size
    for epoch in range(start_epoch, epochs + 1):
        model.train()
        order = np.random.default_rng([seed, epoch]).permutation(len(data.trials))
        total = 0.0
        for step in range(steps):
            batch = data.trials[order[step * batch_size : (step + 1) * batch_size]]
            images = torch.from_numpy(batch[:, 1]).to(device)
            value = criterion(model(_batch_eeg(data, batch).to(device)), data.image[images], data.text[images])
            optimiser.zero_grad()
            value.backward()
            optimiser.step()
            total += value.item()
        score = _top1(model, data.selection_eeg, data.selection_image, k, device)
        improved = score > best["score"]
        if improved:  # kept on the CPU, as it is saved
            best = {"score": score, "epoch": epoch, "state": _cpu_copy(model.state_dict())}
        history.append(
            {"epoch": epoch, "train_loss": round(total / steps, 6), "selection_set": selection,
             "selection_k": k, "selection_top1": round(score, 6), "logit_scale": round(criterion.logit_scale.item(), 6),
             "best": int(improved)}  # fmt: skip
        )
        logger.info("%s | epoch %d/%d | loss %.4f | %s %d-way top-1 %.3f",
                    encoder, epoch, epochs, total / steps, selection, k, score)  # fmt: skip
        random_state = {"rng": torch.get_rng_state()}
        if device.type == "cuda":  # dropout on CUDA draws from the device's generator
            random_state["cuda_rng"] = torch.cuda.get_rng_state(device)
        _save(resume_path, {"model": model.state_dict(), "criterion": criterion.state_dict(),
                            "optimiser": optimiser.state_dict(), **random_state,
                            "history": history, "best": best, "epoch": epoch})  # fmt: skip
    common = {
        "encoder": encoder,
        "config": model.get_config(),
        "selection": selection,
        "selection_k": k,
        "loss": loss,
        "seed": seed,
        "necomimi_version": necomimi.__version__,
        "torch_version": str(torch.__version__),
    }
    _save(out_dir / LAST_FILE, {**common, "state_dict": model.state_dict(), "epoch": epochs})
    _save(out_dir / MODEL_FILE, {**common, "state_dict": best["state"], "epoch": best["epoch"],
                                 "selection_top1": best["score"]})  # fmt: skip
    with atomic_path(out_dir / HISTORY_FILE) as tmp, open(tmp, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=_HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows(history)
    resume_path.unlink()


def load_encoder(path: str | Path) -> tuple[torch.nn.Module, dict]:
    """Rebuild a trained encoder from ``model.pt`` (weights-only load), on the CPU, in eval mode.

    Loads on the CPU whatever device trained it (``map_location="cpu"``); move the
    model where it should run.
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = create(checkpoint["encoder"], **checkpoint["config"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval(), checkpoint
