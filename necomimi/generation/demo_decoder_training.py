"""Training of the demo's tiny SDXL-Turbo-shaped decoder on the synthetic images.

A decoder with random weights renders noise whatever the embedding, so the demo could
not show that generated images carry the EEG's signal. This module trains the tiny
decoder of :mod:`necomimi.generation.demo_decoder`, in about two minutes on one CPU core,
so that an image rendered from a training image's demo-CLIP embedding resembles that
image (its colour, shape and background), and so do images of unseen concepts:

1. **The VAE** (:func:`train_vae`) learns a prescribed latent rather than finding one:
   the image's mean colour in every ``f x f`` cell (3 channels) and the spread of its
   luminance there (1 channel), ``f`` being the VAE's downsampling factor
   (:func:`thumbnail_latents`). Its decoder learns to turn that thumbnail back into the
   sharp image, and its encoder to produce it. An autoencoder that must find its own
   latent needs far longer on a CPU before it keeps the colours of small shapes.
2. **The UNet and the IP-Adapter** (:func:`train_unet`) learn to denoise those latents
   conditioned on the images' CLIP embeddings, passed exactly as the pipeline passes
   them (``added_cond_kwargs["image_embeds"]`` through the loaded IP-Adapter's
   projection and attention), at the timesteps of the few-step schedule the pipeline
   samples (SDXL-Turbo was likewise distilled for its 1-4 steps). The UNet predicts
   ``v`` and is trained on the error of the clean latent it implies: an
   epsilon-predicting UNet's error is amplified ``sigma``-fold (about 15 at the first
   of 4 steps) in the image, and does not become usable in the minute a demo can spend.
"""

from __future__ import annotations

import logging

import torch
from diffusers import AutoencoderKL, StableDiffusionXLPipeline

logger = logging.getLogger(__name__)

#: Channels of the prescribed latent: mean R, G, B of the cell, and luminance spread.
LATENT_CHANNELS = 4


def _one_cycle(optimiser: torch.optim.Optimizer, lr: float, steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    return torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps, pct_start=0.15)


def thumbnail_latents(images: torch.Tensor, factor: int) -> torch.Tensor:
    """The prescribed VAE latent of images: a colour thumbnail and its detail.

    Parameters
    ----------
    images : torch.Tensor
        (n, 3, H, W) in [-1, 1], H and W multiples of ``factor``.
    factor : int
        Side of the square cells (the VAE's downsampling factor).

    Returns
    -------
    torch.Tensor
        (n, 4, H / factor, W / factor): the mean R, G and B of every cell, and the
        standard deviation of the luminance within it, scaled to about [-1, 1].
    """
    pool = torch.nn.functional.avg_pool2d
    luminance = images.mean(dim=1, keepdim=True)
    spread = (pool(luminance**2, factor) - pool(luminance, factor) ** 2).clamp_min(0).sqrt()
    return torch.cat([pool(images, factor), 4 * spread - 1], dim=1)


def train_vae(vae: AutoencoderKL, images: torch.Tensor, *, steps: int, batch_size: int, lr: float, crop: int,
              generator: torch.Generator) -> None:  # fmt: skip
    """Train ``vae`` to decode :func:`thumbnail_latents` into images and to encode them.

    Each step takes ``batch_size`` images and one random ``crop x crop`` window of them
    on the latent grid (the networks are convolutional: crops cost a fraction of whole
    images); the loss is the squared error of the decoded images plus that of the
    encoder's posterior mean against the prescribed latent. AdamW with a one-cycle
    learning-rate schedule peaking at ``lr``.
    """
    factor = 2 ** (len(vae.config.block_out_channels) - 1)
    size = images.shape[-1]
    crop = min(crop, size)
    optimiser = torch.optim.AdamW(vae.parameters(), lr=lr)
    schedule = _one_cycle(optimiser, lr, steps)
    vae.train()
    for step in range(steps):
        batch = images[torch.randint(len(images), (batch_size,), generator=generator)]
        top, left = (torch.randint(0, (size - crop) // factor + 1, (2,), generator=generator) * factor).tolist()
        batch = batch[:, :, top : top + crop, left : left + crop]
        latents = thumbnail_latents(batch, factor)
        loss = torch.nn.functional.mse_loss(vae.decode(latents).sample, batch) + torch.nn.functional.mse_loss(
            vae.encode(batch).latent_dist.mean, latents
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 100 == 0 or step == steps - 1:
            logger.info("demo VAE step %d/%d: loss %.4f", step + 1, steps, loss.item())
    vae.eval()


@torch.no_grad()
def normalise_latents(vae: AutoencoderKL, latents: torch.Tensor) -> torch.Tensor:
    """Record the latents' per-channel mean and spread in the VAE's config; return them standardised.

    The SDXL pipeline un-standardises with ``latents_mean`` and ``latents_std`` before
    decoding, so the UNet works on latents of unit variance, as SDXL's does.
    """
    mean, std = latents.mean(dim=(0, 2, 3)), latents.std(dim=(0, 2, 3))
    vae.register_to_config(scaling_factor=1.0, latents_mean=mean.tolist(), latents_std=std.tolist())
    return (latents - mean[None, :, None, None]) / std[None, :, None, None]


def train_unet(pipeline: StableDiffusionXLPipeline, latents: torch.Tensor, embeddings: torch.Tensor, *, steps: int,
               batch_size: int, lr: float, num_inference_steps: int, height: int, width: int,
               generator: torch.Generator) -> None:  # fmt: skip
    """Train the pipeline's UNet, IP-Adapter loaded, to denoise ``latents`` given ``embeddings``.

    Per step: ``batch_size`` training pairs, each at one of the timesteps the
    scheduler visits in ``num_inference_steps`` steps, noised as the scheduler's
    ``alphas_cumprod`` says; the UNet sees the encoded empty prompt, the time ids and
    the image embeddings exactly as :class:`~diffusers.StableDiffusionXLPipeline`
    passes them. The loss is the squared error of the clean latent implied by the
    predicted ``v`` (``sqrt(a) x_t - sqrt(1 - a) v``). AdamW, one-cycle schedule.

    Parameters
    ----------
    pipeline : StableDiffusionXLPipeline
        With its text encoders and the IP-Adapter loaded; its scheduler predicts ``v``.
    latents : torch.Tensor
        (n, 4, h, w) standardised latents of the training images.
    embeddings : torch.Tensor
        (n, D) their CLIP image embeddings.
    """
    unet, scheduler = pipeline.unet, pipeline.scheduler
    if scheduler.config.prediction_type != "v_prediction":
        raise ValueError(
            f"train_unet trains a v-predicting UNet; the scheduler predicts {scheduler.config.prediction_type}"
        )
    with torch.no_grad():
        prompt, _, pooled, _ = pipeline.encode_prompt("", device=torch.device("cpu"), do_classifier_free_guidance=False)
    # what the pipeline passes as time ids: original size, crop corner, target size
    time_ids = torch.tensor([[height, width, 0, 0, height, width]], dtype=prompt.dtype)
    scheduler.set_timesteps(num_inference_steps)
    timesteps = scheduler.timesteps.round().long()
    alphas = scheduler.alphas_cumprod
    optimiser = torch.optim.AdamW(unet.parameters(), lr=lr)
    schedule = _one_cycle(optimiser, lr, steps)
    unet.train()
    for step in range(steps):
        index = torch.randint(len(latents), (batch_size,), generator=generator)
        clean = latents[index]
        t = timesteps[torch.randint(len(timesteps), (batch_size,), generator=generator)]
        a = alphas[t].view(-1, 1, 1, 1)
        noisy = a.sqrt() * clean + (1 - a).sqrt() * torch.randn(clean.shape, generator=generator)
        v = unet(noisy, t, encoder_hidden_states=prompt.expand(batch_size, -1, -1),
                 added_cond_kwargs={"text_embeds": pooled.expand(batch_size, -1),
                                    "time_ids": time_ids.expand(batch_size, -1),
                                    "image_embeds": [embeddings[index][:, None, :]]}).sample  # fmt: skip
        loss = torch.nn.functional.mse_loss(a.sqrt() * noisy - (1 - a).sqrt() * v, clean)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 100 == 0 or step == steps - 1:
            logger.info("demo UNet step %d/%d: clean-latent error %.4f (latents of unit variance)", step + 1, steps,
                        loss.item())  # fmt: skip
    unet.eval()
