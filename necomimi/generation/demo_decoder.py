"""The demo's tiny SDXL-Turbo and IP-Adapter, seeded, in the real on-disk formats.

The pipeline has every component of ``stabilityai/sdxl-turbo`` (UNet, VAE, two CLIP
text encoders with their tokenizers, the Euler-ancestral scheduler with sdxl-turbo's
settings) at a tiny size with random weights, written with ``save_pretrained``; the
IP-Adapter is a single ``.safetensors`` with the ``image_proj.*`` / ``ip_adapter.*``
keys of ``h94/IP-Adapter``'s ``ip-adapter_sdxl_vit-h.safetensors``. The workflow then
loads both through :func:`necomimi.generation.decoder.load_decoder`, exactly as it loads
the real weights.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import torch
from diffusers import AutoencoderKL, EulerAncestralDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
from diffusers.models.embeddings import ImageProjection
from open_clip.tokenizer import SimpleTokenizer
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

from necomimi.utils.atomic import atomic_path

logger = logging.getLogger(__name__)

#: IP-Adapter tokens per image embedding, as in ip-adapter_sdxl_vit-h.
IP_ADAPTER_TOKENS = 4
_TEXT_WIDTH = 32
_VAE_CHANNELS = (32, 64)
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


def _unet(image_size: int) -> UNet2DConditionModel:
    """SDXL's UNet layout (text-time conditioning, two text encoders), tiny."""
    return UNet2DConditionModel(
        sample_size=image_size // 2 ** (len(_VAE_CHANNELS) - 1),
        block_out_channels=(32, 64),
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
        norm_num_groups=1,
    )


def _vae(image_size: int) -> AutoencoderKL:
    return AutoencoderKL(
        block_out_channels=_VAE_CHANNELS,
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * len(_VAE_CHANNELS),
        up_block_types=["UpDecoderBlock2D"] * len(_VAE_CHANNELS),
        latent_channels=4,
        sample_size=image_size,
    )


def _scheduler() -> EulerAncestralDiscreteScheduler:
    """sdxl-turbo's scheduler settings (SPEC.md 6.3)."""
    return EulerAncestralDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                           timestep_spacing="trailing", steps_offset=1)  # fmt: skip


def ip_adapter_state_dict(unet: UNet2DConditionModel, image_embed_dim: int, generator: torch.Generator) -> dict:
    """Random IP-Adapter weights for ``unet`` in h94's flat key layout.

    ``image_proj.proj.*`` and ``image_proj.norm.*`` are an
    :class:`~diffusers.models.embeddings.ImageProjection` from
    ``image_embed_dim`` to 4 tokens of the UNet's cross-attention width;
    ``ip_adapter.{k}.to_k_ip.weight`` / ``to_v_ip.weight`` (k = 1, 3, 5, ...) have the
    shape of the ``to_k`` / ``to_v`` of each cross-attention layer, in
    ``unet.attn_processors`` order, which is how diffusers reads them back.
    """
    projection = ImageProjection(image_embed_dim=image_embed_dim,
                                 cross_attention_dim=unet.config.cross_attention_dim,
                                 num_image_text_embeds=IP_ADAPTER_TOKENS)  # fmt: skip
    # h94's files name the projection "proj"; diffusers renames it "image_embeds" on load
    weights = {f"image_proj.{key.replace('image_embeds', 'proj')}": value for key, value in projection.state_dict().items()}
    cross_attention = [name for name in unet.attn_processors if not name.endswith("attn1.processor")]
    for position, name in enumerate(cross_attention):
        attention = unet.get_submodule(name.removesuffix(".processor"))
        for key in ("to_k", "to_v"):
            shape = getattr(attention, key).weight.shape
            weights[f"ip_adapter.{2 * position + 1}.{key}_ip.weight"] = torch.randn(shape, generator=generator) / shape[1] ** 0.5
    return {key: value.contiguous() for key, value in weights.items()}


def build_demo_decoder(sdxl_dir: str | Path, ip_adapter_file: str | Path, *, image_embed_dim: int, image_size: int, seed: int) -> None:
    """Write a tiny SDXL-Turbo-shaped pipeline and matching IP-Adapter weights.

    Parameters
    ----------
    sdxl_dir : path
        Folder to write the pipeline into (``save_pretrained`` layout: model_index.json,
        unet/, vae/, text_encoder/, text_encoder_2/, tokenizer/, tokenizer_2/,
        scheduler/). Replaced if it exists.
    ip_adapter_file : path
        The IP-Adapter ``.safetensors`` to write.
    image_embed_dim : int
        Size of the image embeddings the IP-Adapter takes (the demo CLIP's).
    image_size : int
        Output height and width of the pipeline's default, in pixels.
    seed : int
        Seeds every weight.
    """
    torch.manual_seed(seed)
    tokenizer = _tokenizer()
    unet = _unet(image_size)
    pipeline = StableDiffusionXLPipeline(
        vae=_vae(image_size),
        text_encoder=CLIPTextModel(_text_config()),
        text_encoder_2=CLIPTextModelWithProjection(_text_config()),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=_scheduler(),
        add_watermarker=False,
    )
    sdxl_dir = Path(sdxl_dir)
    tmp = sdxl_dir.with_name(f".{sdxl_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    pipeline.save_pretrained(tmp, safe_serialization=True)
    shutil.rmtree(sdxl_dir, ignore_errors=True)
    tmp.rename(sdxl_dir)
    weights = ip_adapter_state_dict(unet, image_embed_dim, torch.Generator().manual_seed(seed))
    with atomic_path(ip_adapter_file) as path:
        save_file(weights, path)
    logger.info("tiny SDXL-Turbo in %s (UNet %d parameters); IP-Adapter for %d-d embeddings in %s",
                sdxl_dir, sum(p.numel() for p in unet.parameters()), image_embed_dim, ip_adapter_file)  # fmt: skip
