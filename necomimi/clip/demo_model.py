"""The demo's tiny CLIP: an OpenCLIP model trained briefly on the synthetic images.

A real CLIP's image and text spaces are aligned; a randomly initialised one's are not.
So that the demo exercises the same code paths with meaningful targets, a tiny
OpenCLIP model is trained for a few seconds on the synthetic images and captions of
their generating factors, then saved in OpenCLIP's own formats (a model-config JSON and a weights
file) and loaded back exactly as real weights are (:func:`necomimi.clip.loading.load_clip`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import open_clip
import pandas as pd
import torch
from PIL import Image
from safetensors.torch import save_file

from necomimi.data.things_eeg2 import TEST_IMAGES_DIR, TRAINING_IMAGES_DIR, text_prompt
from necomimi.utils.atomic import atomic_path

logger = logging.getLogger(__name__)

TINY_CLIP_NAME = "necomimi-tiny-clip"
WEIGHTS_FILE = "open_clip_model.safetensors"


def tiny_clip_config(embed_dim: int, image_size: int) -> dict:
    """OpenCLIP model config of the tiny CLIP: 2-layer ViT and text transformer."""
    return {
        "embed_dim": embed_dim,
        "vision_cfg": {"image_size": image_size, "layers": 2, "width": 64, "head_width": 32,
                       "patch_size": max(4, image_size // 8)},  # fmt: skip
        "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
    }


#: Factor columns of image_factors.csv, each described by its own caption.
_FACTOR_CAPTIONS = {
    "shape_family": "a {} shape",
    "shape": "a {}",
    "colour_family": "something {}",
    "colour": "something {}",
    "texture": "a {} surface",
    "background": "on a {} background",
}


def image_captions(row) -> list[str]:
    """Captions an image matches: one per generating factor, and its concept's."""
    return [template.format(getattr(row, factor)) for factor, template in _FACTOR_CAPTIONS.items()] + [
        text_prompt(row.folder)
    ]


def _multi_positive_loss(image: torch.Tensor, text: torch.Tensor, scale: torch.Tensor, positives: torch.Tensor):
    """Cross-entropy of each image over all captions, its positives sharing the target.

    An image matching several captions (its factors) is pulled towards each, so its
    embedding becomes a composition of its factors, as a real CLIP's is of the
    concepts an image shows.
    """
    logits = scale * image @ text.T
    return torch.nn.functional.cross_entropy(logits, positives / positives.sum(dim=1, keepdim=True))


def train_demo_clip(
    image_dir: str | Path,
    factors_file: str | Path,
    out_dir: str | Path,
    *,
    embed_dim: int,
    image_size: int,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
) -> None:
    """Train and save the tiny CLIP on the synthetic images and captions of their factors.

    Like a real CLIP, which was pretrained on web images of every kind, it sees all
    images, test images included, each with a caption naming its generating factors;
    the EEG encoders' test concepts stay unseen by them.

    Parameters
    ----------
    image_dir : str or Path
        The synthetic ``image_set`` folder.
    factors_file : str or Path
        The generator's ``image_factors.csv``.
    out_dir : str or Path
        Receives ``necomimi-tiny-clip.json`` and ``open_clip_model.safetensors``.
    embed_dim, image_size : int
        Embedding size and input size of the tiny model.
    epochs, batch_size : int
        Passes over the training images, and images per step.
    lr : float
        AdamW learning rate.
    seed : int
        Seeds the initialisation and the batch order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config_path = out_dir / f"{TINY_CLIP_NAME}.json"
    with atomic_path(config_path) as tmp:
        tmp.write_text(json.dumps(tiny_clip_config(embed_dim, image_size), indent=2))
    open_clip.add_model_config(config_path)
    model, _, preprocess = open_clip.create_model_and_transforms(TINY_CLIP_NAME, pretrained=None)
    tokenizer = open_clip.get_tokenizer(TINY_CLIP_NAME)
    factors = pd.read_csv(factors_file)
    folders = {"training": TRAINING_IMAGES_DIR, "test": TEST_IMAGES_DIR}
    factors = factors[factors["partition"].isin(list(folders))]  # THINGS-MEG lists unshown images too
    images = torch.stack([
        preprocess(Image.open(Path(image_dir) / folders[row.partition] / row.folder / row.file).convert("RGB"))
        for row in factors.itertuples(index=False)
    ])  # fmt: skip
    per_image = [image_captions(row) for row in factors.itertuples(index=False)]
    vocabulary = sorted({caption for captions in per_image for caption in captions})
    positives = torch.zeros(len(per_image), len(vocabulary))
    for i, captions in enumerate(per_image):
        positives[i, [vocabulary.index(c) for c in captions]] = 1.0
    tokens = tokenizer(vocabulary)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            image = model.encode_image(images[batch], normalize=True)
            text = model.encode_text(tokens, normalize=True)
            loss = _multi_positive_loss(image, text, model.logit_scale.exp(), positives[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        if epoch % 10 == 0 or epoch == epochs - 1:
            logger.info("tiny CLIP epoch %d/%d: loss %.4f", epoch + 1, epochs, total / len(images))
    state = {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}
    with atomic_path(out_dir / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp))
