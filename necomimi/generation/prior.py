"""Step 2a of the generation: train the diffusion prior and sample from it (SPEC.md 6.2).

The prior learns to denoise CLIP image embeddings conditioned on EEG features, with
diffusers' ``DDPMScheduler`` at its defaults (1000 steps, linear betas, epsilon
prediction, ``clip_sample=True``). Sampling runs the reverse process from Gaussian
noise with classifier-free guidance.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import torch
from diffusers import DDPMScheduler
from diffusers.optimization import get_cosine_schedule_with_warmup
from diffusers.utils.torch_utils import randn_tensor

import necomimi
from necomimi.clip.targets import read_targets
from necomimi.generation.features import load_features
from necomimi.models.prior import DiffusionPriorUNet
from necomimi.utils.atomic import atomic_path
from necomimi.utils.device import resolve_device

logger = logging.getLogger(__name__)

_HISTORY_FIELDS = ("epoch", "loss", "lr", "unconditional_batches")


def training_pairs(features_file: str | Path, targets_file: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The prior's training pairs: each trial's EEG feature and its image's CLIP embedding.

    Row ``i * n + k`` of the features is trial ``k`` of training image ``i``
    (:func:`necomimi.generation.features.extract_features`), so the targets are the
    image embeddings each repeated ``n`` times, as the reference's
    ``view(1654, 10, 1, 1024).repeat(1, 1, 4, 1)``.

    Returns
    -------
    condition, target : torch.Tensor
        (n_trials, cond_dim) and (n_trials, embed_dim), float32.
    """
    condition = load_features(features_file)
    image = torch.from_numpy(read_targets(targets_file, "training").image)
    if len(condition) % len(image):
        raise ValueError(
            f"{features_file}: {len(condition)} feature rows are not a whole number of trials "
            f"per training image for the {len(image)} training images in {targets_file}"
        )
    return condition, image.repeat_interleave(len(condition) // len(image), dim=0)


def train_prior(
    *,
    features_file: str | Path,
    targets_file: str | Path,
    out_file: str | Path,
    history_file: str | Path,
    hidden_dim: list[int],
    time_embed_dim: int,
    dropout: float,
    epochs: int,
    batch_size: int,
    lr: float,
    warmup_steps: int,
    condition_drop: float,
    grad_clip: float,
    seed: int,
    device: str = "cpu",
) -> None:
    """Train one diffusion prior on one (encoder, subject, seed, condition)'s features.

    As the reference's ``Pipe.train`` (SPEC.md 6.2): Adam with a cosine schedule and
    linear warm-up, per batch the condition dropped for the whole batch with
    probability ``condition_drop``, ``t ~ U{0..999}``, MSE between predicted and true
    noise, gradient norm clipped; batches shuffled, the last one kept. Corrected: every
    random step is seeded, and the schedule advances after the optimiser step (the
    reference steps it before, which shifts the schedule by one step).

    Parameters
    ----------
    features_file : path
        ``eeg_train.pt`` of the key.
    targets_file : path
        CLIP targets; the training images' embeddings are the diffused variable.
    out_file : path
        ``prior.pt``: ``config``, ``state_dict``, the scheduler config and provenance.
    history_file : path
        CSV with one row per epoch: mean loss, learning rate at the epoch's end and
        the number of unconditional batches.
    hidden_dim, time_embed_dim, dropout
        :class:`~necomimi.models.prior.DiffusionPriorUNet` sizes (paper:
        [1024, 512, 256, 128, 64], 512, 0.1).
    epochs, batch_size, lr, warmup_steps : int or float
        Paper: 150, 1024, 1e-3, 500.
    condition_drop : float
        Probability of dropping a batch's condition (paper: 0.1).
    grad_clip : float
        Maximum gradient norm (paper: 1.0).
    seed : int
        Seeds the initialisation, batch order, condition drops, noise and timesteps.
    device : str
        ``auto``, ``cpu`` or ``cuda[:N]``.
    """
    device = resolve_device(device)
    condition, target = training_pairs(features_file, targets_file)
    torch.manual_seed(seed)
    prior = DiffusionPriorUNet(target.shape[1], condition.shape[1], hidden_dim, time_embed_dim, dropout).to(device)
    scheduler = DDPMScheduler()
    optimiser = torch.optim.Adam(prior.parameters(), lr=lr)
    steps_per_epoch = math.ceil(len(target) / batch_size)
    lr_schedule = get_cosine_schedule_with_warmup(optimiser, warmup_steps, steps_per_epoch * epochs)
    generator = torch.Generator().manual_seed(seed)
    condition, target = condition.to(device), target.to(device)
    history = []
    prior.train()
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(target), generator=generator)
        total, unconditional = 0.0, 0
        for start in range(0, len(target), batch_size):
            rows = order[start : start + batch_size].to(device)
            h, c = target[rows], condition[rows]
            if torch.rand(1, generator=generator).item() < condition_drop:
                c, unconditional = None, unconditional + 1
            noise = torch.randn(h.shape, generator=generator).to(device)
            t = torch.randint(0, scheduler.config.num_train_timesteps, (len(h),), generator=generator).to(device)
            loss = torch.nn.functional.mse_loss(prior(scheduler.add_noise(h, noise, t), t, c), noise)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(prior.parameters(), grad_clip)
            optimiser.step()
            lr_schedule.step()
            total += loss.item() * len(h)
        history.append({"epoch": epoch, "loss": round(total / len(target), 6),
                        "lr": lr_schedule.get_last_lr()[0], "unconditional_batches": unconditional})  # fmt: skip
        logger.info("prior | epoch %d/%d | loss %.5f", epoch, epochs, total / len(target))
    with atomic_path(out_file) as tmp:
        torch.save({"config": prior.config, "state_dict": prior.cpu().state_dict(),
                    "scheduler": dict(scheduler.config), "seed": seed,
                    "necomimi_version": necomimi.__version__}, tmp)  # fmt: skip
    with atomic_path(history_file) as tmp, open(tmp, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=_HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows(history)


def train_run_priors(
    *,
    features_files: Sequence[str | Path],
    out_files: Sequence[str | Path],
    history_files: Sequence[str | Path],
    **options,
) -> None:
    """Train the diffusion prior of every condition of one run (:func:`train_prior`).

    Parameters
    ----------
    features_files : sequence of path
        Per condition, its ``eeg_train.pt``.
    out_files, history_files : sequence of path
        Per condition, its ``prior.pt`` and ``history.csv``.
    **options
        The other keyword arguments of :func:`train_prior` (``targets_file``, the
        sizes, the optimisation settings, ``seed``, ``device``).
    """
    for features, out_file, history in zip(features_files, out_files, history_files, strict=True):
        train_prior(features_file=features, out_file=out_file, history_file=history, **options)


def load_prior(path: str | Path) -> tuple[DiffusionPriorUNet, DDPMScheduler]:
    """Rebuild a trained prior (weights-only load) in eval mode, and its noise scheduler."""
    checkpoint = torch.load(path, weights_only=True)
    prior = DiffusionPriorUNet(**checkpoint["config"])
    prior.load_state_dict(checkpoint["state_dict"])
    return prior.eval(), DDPMScheduler.from_config(checkpoint["scheduler"])


@torch.no_grad()
def sample_prior(
    prior: DiffusionPriorUNet,
    scheduler: DDPMScheduler,
    condition: torch.Tensor,
    generators: list[torch.Generator],
    *,
    num_inference_steps: int = 50,
    guidance_scale: float = 5.0,
) -> torch.Tensor:
    """Sample CLIP image embeddings for EEG features, with classifier-free guidance.

    As the reference's ``Pipe.generate`` (SPEC.md 6.2): start from ``N(0, I)``, and at
    each of ``num_inference_steps`` steps use
    ``eps_u + guidance_scale * (eps_c - eps_u)``: ``eps_u`` alone (unconditional
    sampling) at scale 0, as the reference, and ``eps_c`` alone at scale 1.
    Sample ``i`` draws all its noise from ``generators[i]`` (CPU generators: the
    same noise on every device), so it does not depend on the rest of the batch.

    Parameters
    ----------
    prior, scheduler
        From :func:`load_prior`; the prior's device is used.
    condition : torch.Tensor
        (n, cond_dim) EEG features.
    generators : list of torch.Generator
        One per sample.
    num_inference_steps : int
        Reverse-process steps (paper: 50).
    guidance_scale : float
        Classifier-free guidance weight (paper: 5.0; 0 ignores the condition).

    Returns
    -------
    torch.Tensor
        (n, embed_dim) samples, float32, on the CPU.
    """
    if len(generators) != len(condition):
        raise ValueError(f"{len(generators)} generators for {len(condition)} conditions")
    device = next(prior.parameters()).device
    condition = condition.to(device)
    scheduler.set_timesteps(num_inference_steps, device=device)
    sample = randn_tensor((len(condition), prior.config["embed_dim"]), generator=generators, device=device)
    for t in scheduler.timesteps:
        timesteps = torch.full((len(condition),), int(t), device=device, dtype=torch.long)
        if guidance_scale == 0:  # the formula's value, without the unused conditional pass
            noise = prior(sample, timesteps)
        else:
            noise = prior(sample, timesteps, condition)
            if guidance_scale != 1:
                unconditional = prior(sample, timesteps)
                noise = unconditional + guidance_scale * (noise - unconditional)
        sample = scheduler.step(noise, t, sample, generator=generators).prev_sample
    return sample.float().cpu()

