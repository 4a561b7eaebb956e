"""Load an OpenCLIP model from a local weights file (never from a hub)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import open_clip
import torch
from PIL import Image
from tqdm import tqdm


def load_clip(model: str, pretrained: str | Path, model_config: str | Path | None = None):
    """Build an OpenCLIP model with weights from a local file.

    Parameters
    ----------
    model : str
        OpenCLIP model name, e.g. ``"ViT-H-14"``, or the name of ``model_config``.
    pretrained : str or Path
        Local weights file (``.bin``, ``.pt`` or ``.safetensors``), e.g. the
        ``open_clip_pytorch_model.bin`` of ``laion2b_s32b_b79k``. Loaded by OpenCLIP
        with ``weights_only=True`` and strict key matching.
    model_config : str or Path, optional
        An OpenCLIP model-config JSON to register first (a model OpenCLIP does not
        ship, such as the demo's tiny CLIP); its file stem must equal ``model``.

    Returns
    -------
    model, preprocess, tokenizer
        The model in eval mode, the deterministic evaluation transform, the tokenizer.
    """
    pretrained = Path(pretrained)
    if not pretrained.is_file():
        raise FileNotFoundError(f"{pretrained}: CLIP weights file not found (config clip.pretrained)")
    if model_config is not None:
        model_config = Path(model_config)
        if model_config.stem != model:
            raise ValueError(f"{model_config}: file name must be {model}.json to define model {model!r}")
        open_clip.add_model_config(model_config)
    clip, _, preprocess = open_clip.create_model_and_transforms(model, pretrained=str(pretrained))
    clip.eval()
    return clip, preprocess, open_clip.get_tokenizer(model)


@torch.no_grad()
def encode_text(clip, tokenizer, texts: list[str], batch_size: int = 256) -> torch.Tensor:
    """L2-normalised text embeddings, float32, on the CPU (computed on the model's device)."""
    device = next(clip.parameters()).device
    out = [clip.encode_text(tokenizer(texts[i : i + batch_size]).to(device)).cpu()
           for i in range(0, len(texts), batch_size)]  # fmt: skip
    return torch.nn.functional.normalize(torch.cat(out).float(), dim=-1)


@torch.no_grad()
def encode_images(clip, preprocess, paths: list[Path], batch_size: int = 64, label: str = "CLIP images") -> np.ndarray:
    """L2-normalised image embeddings of image files, float32, through ``preprocess``.

    Computed on the model's device; returned on the CPU.
    """
    device = next(clip.parameters()).device
    out = []
    for start in tqdm(range(0, len(paths), batch_size), desc=label, unit="batch"):
        batch = torch.stack([preprocess(Image.open(p).convert("RGB")) for p in paths[start : start + batch_size]])
        out.append(torch.nn.functional.normalize(clip.encode_image(batch.to(device)).float().cpu(), dim=-1))
    return torch.cat(out).numpy()
