"""The demo's tiny SDXL-Turbo and IP-Adapter, trained and seeded, in the real on-disk formats.

The pipeline has every component of ``stabilityai/sdxl-turbo`` (UNet, VAE, two CLIP
text encoders with their tokenizers, the Euler-ancestral scheduler with sdxl-turbo's
settings, predicting ``v``) at a tiny size. The VAE, the UNet and the IP-Adapter are
trained on the synthetic training images and their demo-CLIP embeddings
(:mod:`necomimi.generation.demo_decoder_training`); the text encoders keep random
weights (the study's prompt is empty). The pipeline is written with ``save_pretrained``; the
IP-Adapter is a single ``.safetensors`` with the ``image_proj.*`` / ``ip_adapter.*``
keys of ``h94/IP-Adapter``'s ``ip-adapter_sdxl_vit-h.safetensors``. The workflow then
loads both through :func:`necomimi.generation.decoder.load_decoder`, exactly as it loads
the real weights.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from diffusers import AutoencoderKL, EulerAncestralDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
from diffusers.models.embeddings import ImageProjection
from open_clip.tokenizer import SimpleTokenizer
from PIL import Image
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

from necomimi.clip.targets import read_targets
from necomimi.data.things_eeg2 import TRAINING_IMAGES_DIR
from necomimi.generation.demo_decoder_training import (
    LATENT_CHANNELS,
    normalise_latents,
    thumbnail_latents,
    train_unet,
    train_vae,
)
from necomimi.utils.atomic import atomic_path

logger = logging.getLogger(__name__)

#: IP-Adapter tokens per image embedding, as in ip-adapter_sdxl_vit-h.
IP_ADAPTER_TOKENS = 4
_TEXT_WIDTH = 32
_VAE_CHANNELS = (8, 16, 16)
# 32 and 64 channels: the demo's gt images score CAT 62 and 59 of 100 (decoder seeds 0
# and 1; chance 18.5) against 54-59 with 16 and 32, for 1.6x the training time.
_UNET_CHANNELS = (32, 64)
_BOS, _EOS = 49406, 49407


def _tokenizer() -> CLIPTokenizer:
    """CLIP's BPE tokenizer, built offline from the vocabulary bundled with open_clip.

    transformers 5 takes the vocabulary and merges as objects (``vocab=``,
    ``merges=``); the older file keywords are silently ignored.
    """
    bpe = SimpleTokenizer()
    special = {"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}
    vocab = {special.get(token, token): index for token, index in bpe.encoder.items()}
    merges = [pair for pair, _ in sorted(bpe.bpe_ranks.items(), key=lambda item: item[1])]
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77,
                         bos_token="<|startoftext|>", eos_token="<|endoftext|>",
                         unk_token="<|endoftext|>", pad_token="<|endoftext|>")  # fmt: skip


def _text_config() -> CLIPTextConfig:
    return CLIPTextConfig(hidden_size=_TEXT_WIDTH, intermediate_size=37, num_attention_heads=4,
                          num_hidden_layers=2, vocab_size=49408, projection_dim=_TEXT_WIDTH,
                          bos_token_id=_BOS, eos_token_id=_EOS, pad_token_id=_EOS)  # fmt: skip


def _unet(latent_size: int) -> UNet2DConditionModel:
    """SDXL's UNet layout (text-time conditioning, two text encoders), tiny."""
    return UNet2DConditionModel(
        sample_size=latent_size,
        in_channels=LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS,
        block_out_channels=_UNET_CHANNELS,
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1),
        # 6 time ids x 8 + the pooled embedding of text_encoder_2
        projection_class_embeddings_input_dim=6 * 8 + _TEXT_WIDTH,
        # the two text encoders' hidden states, concatenated
        cross_attention_dim=2 * _TEXT_WIDTH,
        norm_num_groups=4,
    )


def _vae(image_size: int) -> AutoencoderKL:
    """SDXL's VAE layout, tiny, downsampling by 4; one normalisation group keeps the colours."""
    return AutoencoderKL(
        block_out_channels=_VAE_CHANNELS,
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * len(_VAE_CHANNELS),
        up_block_types=["UpDecoderBlock2D"] * len(_VAE_CHANNELS),
        latent_channels=LATENT_CHANNELS,
        layers_per_block=1,
        norm_num_groups=1,
        mid_block_add_attention=False,
        sample_size=image_size,
    )


def _scheduler() -> EulerAncestralDiscreteScheduler:
    """sdxl-turbo's scheduler settings (SPEC.md 6.3), predicting ``v`` (see :mod:`.demo_decoder_training`)."""
    return EulerAncestralDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                           timestep_spacing="trailing", steps_offset=1,
                                           prediction_type="v_prediction")  # fmt: skip


def _h94_layout(projection: dict, key_values: list[tuple[torch.Tensor, torch.Tensor]]) -> dict:
    """IP-Adapter weights in h94's flat key layout.

    ``projection`` is the state of an :class:`~diffusers.models.embeddings.ImageProjection`
    (diffusers names its linear layer ``image_embeds``, h94's files ``proj``);
    ``key_values`` the ``to_k_ip`` / ``to_v_ip`` weights of each cross-attention layer,
    in ``unet.attn_processors`` order, stored as ``ip_adapter.{k}.*`` for k = 1, 3, 5, ...,
    which is how diffusers reads them back.
    """
    weights = {f"image_proj.{key.replace('image_embeds', 'proj')}": value for key, value in projection.items()}
    for position, (key, value) in enumerate(key_values):
        weights[f"ip_adapter.{2 * position + 1}.to_k_ip.weight"] = key
        weights[f"ip_adapter.{2 * position + 1}.to_v_ip.weight"] = value
    return {key: value.detach().contiguous() for key, value in weights.items()}


def _cross_attention(unet: UNet2DConditionModel) -> list[str]:
    """Names of the UNet's cross-attention processors, in ``attn_processors`` order."""
    return [name for name in unet.attn_processors if not name.endswith("attn1.processor")]


def ip_adapter_state_dict(unet: UNet2DConditionModel, image_embed_dim: int, generator: torch.Generator) -> dict:
    """Random IP-Adapter weights for ``unet`` in h94's flat key layout.

    ``image_proj.proj.*`` and ``image_proj.norm.*`` are an
    :class:`~diffusers.models.embeddings.ImageProjection` from ``image_embed_dim`` to 4
    tokens of the UNet's cross-attention width; ``ip_adapter.{k}.to_k_ip.weight`` /
    ``to_v_ip.weight`` have the shape of the ``to_k`` / ``to_v`` of each
    cross-attention layer.
    """
    projection = ImageProjection(image_embed_dim=image_embed_dim,
                                 cross_attention_dim=unet.config.cross_attention_dim,
                                 num_image_text_embeds=IP_ADAPTER_TOKENS)  # fmt: skip
    key_values = []
    for name in _cross_attention(unet):
        attention = unet.get_submodule(name.removesuffix(".processor"))
        shapes = (attention.to_k.weight.shape, attention.to_v.weight.shape)
        key_values.append(tuple(torch.randn(shape, generator=generator) / shape[1] ** 0.5 for shape in shapes))
    return _h94_layout(projection.state_dict(), key_values)


def loaded_ip_adapter_state_dict(unet: UNet2DConditionModel) -> dict:
    """The IP-Adapter weights loaded into ``unet`` (``load_ip_adapter``), in h94's key layout."""
    projection = unet.encoder_hid_proj.image_projection_layers[0].state_dict()
    processors = unet.attn_processors
    key_values = [(processors[name].to_k_ip[0].weight, processors[name].to_v_ip[0].weight)
                  for name in _cross_attention(unet)]  # fmt: skip
    return _h94_layout(projection, key_values)


def demo_training_set(image_dir: str | Path, targets_file: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The demo decoder's training pairs: every training image and its CLIP image embedding.

    Parameters
    ----------
    image_dir : path
        The ``image_set`` folder (``training_images/<concept>/<file>``).
    targets_file : path
        The CLIP targets (:func:`necomimi.clip.targets.embed_targets`): which images,
        in which order, and their embeddings.

    Returns
    -------
    images : torch.Tensor
        (n, 3, H, W) float32 in [-1, 1].
    embeddings : torch.Tensor
        (n, D) float32.
    """
    targets = read_targets(targets_file, "training")
    folder = Path(image_dir) / TRAINING_IMAGES_DIR
    pixels = [np.asarray(Image.open(folder / concept / name).convert("RGB"))
              for concept, name in zip(targets.folder, targets.file, strict=True)]  # fmt: skip
    images = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).float() / 127.5 - 1
    return images, torch.from_numpy(targets.image).float()


def build_demo_decoder(sdxl_dir: str | Path, ip_adapter_file: str | Path, *, images: torch.Tensor,
                       embeddings: torch.Tensor, seed: int, vae_steps: int, unet_steps: int, batch_size: int,
                       vae_lr: float, unet_lr: float, num_inference_steps: int) -> None:  # fmt: skip
    """Train a tiny SDXL-Turbo-shaped pipeline and its IP-Adapter on images and their embeddings; save both.

    The VAE, then the UNet with the IP-Adapter, are trained as
    :mod:`necomimi.generation.demo_decoder_training` describes; the pipeline is then
    written with ``save_pretrained`` and the adapter in h94's layout, to be loaded by
    :func:`necomimi.generation.decoder.load_decoder` like the real weights.

    Parameters
    ----------
    sdxl_dir : path
        Folder to write the pipeline into (``save_pretrained`` layout: model_index.json,
        unet/, vae/, text_encoder/, text_encoder_2/, tokenizer/, tokenizer_2/,
        scheduler/). Replaced if it exists.
    ip_adapter_file : path
        The IP-Adapter ``.safetensors`` to write.
    images : torch.Tensor
        (n, 3, H, W) training images in [-1, 1], square, H a multiple of 4: the
        pipeline's default size (:func:`demo_training_set`).
    embeddings : torch.Tensor
        (n, D) their CLIP image embeddings: the IP-Adapter takes D-dimensional ones.
    seed : int
        Seeds every weight and every training draw.
    vae_steps, unet_steps : int
        Optimiser steps of the VAE and of the UNet with the IP-Adapter.
    batch_size : int
        Images per step.
    vae_lr, unet_lr : float
        Peak learning rates.
    num_inference_steps : int
        The generation's sampling steps, whose timesteps the UNet is trained at.
    """
    if images.ndim != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3] or images.shape[2] % 4:
        raise ValueError(
            f"the demo decoder trains on (n, 3, H, H) images with H a multiple of 4, got {tuple(images.shape)}"
        )
    if embeddings.ndim != 2 or len(embeddings) != len(images):
        raise ValueError(f"{len(images)} training images need (n, D) embeddings, got {tuple(embeddings.shape)}")
    image_size, image_embed_dim = images.shape[-1], embeddings.shape[1]
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    tokenizer = _tokenizer()
    vae = _vae(image_size)
    train_vae(vae, images, steps=vae_steps, batch_size=batch_size, lr=vae_lr, crop=32, generator=generator)
    factor = 2 ** (len(_VAE_CHANNELS) - 1)
    latents = normalise_latents(vae, thumbnail_latents(images, factor))
    unet = _unet(image_size // factor)
    pipeline = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(_text_config()),
        text_encoder_2=CLIPTextModelWithProjection(_text_config()),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=_scheduler(),
        add_watermarker=False,
    )
    with tempfile.TemporaryDirectory() as scratch:
        initial = Path(scratch) / "ip-adapter_initial.safetensors"
        save_file(ip_adapter_state_dict(unet, image_embed_dim, generator), initial)
        pipeline.load_ip_adapter(scratch, subfolder="", weight_name=initial.name, image_encoder_folder=None,
                                 local_files_only=True)  # fmt: skip
    train_unet(pipeline, latents, embeddings, steps=unet_steps, batch_size=batch_size, lr=unet_lr,
               num_inference_steps=num_inference_steps, height=image_size, width=image_size,
               generator=generator)  # fmt: skip
    weights = loaded_ip_adapter_state_dict(unet)
    pipeline.unload_ip_adapter()
    sdxl_dir = Path(sdxl_dir)
    tmp = sdxl_dir.with_name(f".{sdxl_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    pipeline.save_pretrained(tmp, safe_serialization=True)
    shutil.rmtree(sdxl_dir, ignore_errors=True)
    tmp.rename(sdxl_dir)
    with atomic_path(ip_adapter_file) as path:
        save_file(weights, path)
    logger.info("tiny SDXL-Turbo in %s (UNet %d parameters); IP-Adapter for %d-d embeddings in %s",
                sdxl_dir, sum(p.numel() for p in unet.parameters()), image_embed_dim, ip_adapter_file)  # fmt: skip


def train_demo_decoder(sdxl_dir: str | Path, ip_adapter_file: str | Path, *, image_dir: str | Path,
                       targets_file: str | Path, **training) -> None:  # fmt: skip
    """:func:`build_demo_decoder` on the training images of ``image_dir`` and their targets.

    ``training`` holds the keyword arguments of :func:`build_demo_decoder` after the
    images and embeddings (``seed``, ``vae_steps``, ...); the pairs come from
    :func:`demo_training_set`.
    """
    images, embeddings = demo_training_set(image_dir, targets_file)
    build_demo_decoder(sdxl_dir, ip_adapter_file, images=images, embeddings=embeddings, **training)
