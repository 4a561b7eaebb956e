"""Step 2b of the generation: SDXL-Turbo with an IP-Adapter renders image embeddings.

The stock diffusers ``StableDiffusionXLPipeline`` is loaded from a local SDXL-Turbo
folder and an IP-Adapter from a local ``.safetensors`` file (SPEC.md 6.3). Embeddings
are passed as ``ip_adapter_image_embeds``, so no IP-Adapter image encoder is loaded;
the empty prompt is encoded once and the text encoders are then dropped, so the
process holds only the UNet, the VAE and the adapter while it renders.
"""

from __future__ import annotations

import gc
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import StableDiffusionXLPipeline
from PIL import Image
from safetensors import safe_open

from necomimi.generation.seeds import generators
from necomimi.utils.atomic import atomic_path
from necomimi.utils.hashing import SHA256_CACHE_DIR, cached_file_sha256

logger = logging.getLogger(__name__)

#: Components of an SDXL pipeline folder, with the file each must hold.
_MODEL_COMPONENTS = {
    "unet": "diffusion_pytorch_model",
    "vae": "diffusion_pytorch_model",
    "text_encoder": "model",
    "text_encoder_2": "model",
}
_TOKENIZERS = ("tokenizer", "tokenizer_2")
_TEXT_ENCODERS = ("text_encoder", "text_encoder_2")


def check_sdxl_dir(path: str | Path, variant: str | None = None) -> None:
    """Check that ``path`` is a complete local SDXL(-Turbo) folder before loading it.

    Expected: ``model_index.json``, ``scheduler/scheduler_config.json``, both tokenizer
    folders, and for ``unet``, ``vae``, ``text_encoder`` and ``text_encoder_2`` a
    ``config.json`` and safetensors weights (``<name>[.<variant>].safetensors``, or the
    index ``<name>.safetensors.index[.<variant>].json`` of sharded weights).

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the folder or file that is missing or malformed.
    """
    path = Path(path)
    hint = "(config generation.sdxl_turbo: a local copy of stabilityai/sdxl-turbo)"
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: SDXL-Turbo folder not found {hint}")
    index_file = path / "model_index.json"
    if not index_file.is_file():
        raise FileNotFoundError(f"{index_file}: missing; {path} is not a diffusers pipeline folder {hint}")
    try:
        index = json.loads(index_file.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{index_file}: not valid JSON ({error})") from error
    missing = [name for name in (*_MODEL_COMPONENTS, *_TOKENIZERS, "scheduler") if name not in index]
    if missing:
        raise ValueError(f"{index_file}: no entry for {', '.join(missing)}; expected an SDXL pipeline {hint}")
    required = [path / "scheduler" / "scheduler_config.json"]
    required += [path / name / "tokenizer_config.json" for name in _TOKENIZERS]
    required += [path / name / "config.json" for name in _MODEL_COMPONENTS]
    absent = [str(file) for file in required if not file.is_file()]
    tag = f".{variant}" if variant else ""
    for name, stem in _MODEL_COMPONENTS.items():
        # single file, or diffusers' index of a sharded one
        candidates = [path / name / f"{stem}{tag}.safetensors", path / name / f"{stem}.safetensors.index{tag}.json"]
        if not any(file.is_file() for file in candidates):
            absent.append(f"{candidates[0]} (weights)")
    if absent:
        raise FileNotFoundError(f"{path}: incomplete SDXL-Turbo folder, missing {', '.join(absent)}")


def check_ip_adapter_file(path: str | Path) -> int:
    """Check an IP-Adapter weights file and return the image embedding size it takes.

    Expected: a ``.safetensors`` file with the keys of ``ip-adapter_sdxl_vit-h``:
    ``image_proj.proj.weight`` (tokens x width, embedding size) and
    ``ip_adapter.{k}.to_k_ip.weight`` / ``to_v_ip.weight``.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file and what is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: IP-Adapter file not found (config generation.ip_adapter: a local copy of "
            "h94/IP-Adapter's sdxl_models/ip-adapter_sdxl_vit-h.safetensors)"
        )
    if path.suffix != ".safetensors":
        raise ValueError(f"{path}: expected a .safetensors IP-Adapter file")
    try:
        with safe_open(path, framework="pt") as weights:
            keys = set(weights.keys())
            projection = "image_proj.proj.weight"
            shape = weights.get_slice(projection).get_shape() if projection in keys else None
    except Exception as error:  # safetensors raises its own error types for corrupt files
        raise ValueError(f"{path}: not a readable safetensors file ({error})") from error
    if shape is None or not any(key.startswith("ip_adapter.") and key.endswith(".to_k_ip.weight") for key in keys):
        raise ValueError(
            f"{path}: not an IP-Adapter; expected keys image_proj.proj.weight and ip_adapter.<k>.to_k_ip.weight"
        )
    return int(shape[1])


def _ip_adapter_embeds_per_image(ip_adapter_image, ip_adapter_image_embeds, device, batch_size: int,
                                 do_classifier_free_guidance: bool) -> list[torch.Tensor]:  # fmt: skip
    """Pass precomputed IP-Adapter embeddings to the UNet as given: one row per image.

    Stands in for ``StableDiffusionXLPipeline.prepare_ip_adapter_image_embeds``, which
    tiles the given ``(n, 1, D)`` embeddings ``batch_size`` times (diffusers issue
    #9813, open in 0.42): the IP-Adapter's attention then reshapes the ``n * n`` rows
    so that every image of a batch attends to the embeddings of *all* images of the
    batch. With it, a batch of embeddings renders the images those embeddings render
    one at a time (``tests/unit/test_decoder.py``). The arguments are the pipeline's.

    Raises
    ------
    ValueError
        For an image instead of embeddings, classifier-free guidance (the negative
        embeddings would have to be stacked first; SDXL-Turbo runs without it), or
        embeddings whose rows do not match the batch.
    """
    if ip_adapter_image_embeds is None or do_classifier_free_guidance:
        raise ValueError("the decoder renders precomputed image embeddings without classifier-free guidance")
    for embeds in ip_adapter_image_embeds:
        if len(embeds) != batch_size:
            raise ValueError(f"{len(embeds)} IP-Adapter embeddings for a batch of {batch_size} images")
    return [embeds.to(device) for embeds in ip_adapter_image_embeds]


@dataclass
class Decoder:
    """A loaded SDXL-Turbo + IP-Adapter, ready to render image embeddings.

    Attributes
    ----------
    pipeline : StableDiffusionXLPipeline
        The stock pipeline, text encoders removed.
    prompt_embeds, pooled_prompt_embeds : torch.Tensor
        The encoded empty prompt (1, 77, width) and (1, pooled width).
    embed_dim : int
        Image embedding size the IP-Adapter takes.
    device : torch.device
    dtype : torch.dtype
        float16 on CUDA, float32 on the CPU.
    """

    pipeline: StableDiffusionXLPipeline
    prompt_embeds: torch.Tensor
    pooled_prompt_embeds: torch.Tensor
    embed_dim: int
    device: torch.device
    dtype: torch.dtype

    @torch.no_grad()
    def render(self, embeddings: torch.Tensor, seeds: list[int], *, num_inference_steps: int,
               guidance_scale: float, height: int, width: int) -> list[Image.Image]:  # fmt: skip
        """Render one image per embedding, image ``i`` from a generator seeded ``seeds[i]``.

        Parameters
        ----------
        embeddings : torch.Tensor
            (n, embed_dim) image embeddings (CLIP, EEG features or prior samples).
        seeds : list of int
            One seed per image.
        num_inference_steps, guidance_scale, height, width
            Pipeline settings (paper: 4, 0.0, 512, 512).

        Returns
        -------
        list of PIL.Image.Image
        """
        if embeddings.ndim != 2 or embeddings.shape[1] != self.embed_dim:
            raise ValueError(f"the IP-Adapter takes (n, {self.embed_dim}) embeddings, got {tuple(embeddings.shape)}")
        if len(seeds) != len(embeddings):
            raise ValueError(f"{len(seeds)} seeds for {len(embeddings)} embeddings")
        n = len(embeddings)
        result = self.pipeline(
            prompt_embeds=self.prompt_embeds.expand(n, -1, -1),
            pooled_prompt_embeds=self.pooled_prompt_embeds.expand(n, -1),
            ip_adapter_image_embeds=[embeddings[:, None, :].to(self.device, self.dtype)],
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            height=height,
            width=width,
            generator=generators(seeds),
            output_type="pil",
        )
        return result.images


@torch.no_grad()
def load_decoder(sdxl_dir: str | Path, ip_adapter_file: str | Path, *, device: torch.device,
                 variant: str | None = None, ip_adapter_scale: float = 1.0) -> Decoder:  # fmt: skip
    """Load SDXL-Turbo and the IP-Adapter from local files; encode the empty prompt.

    fp16 on CUDA, fp32 on the CPU. Nothing is fetched from a hub
    (``local_files_only``); the IP-Adapter's image encoder is not loaded
    (``image_encoder_folder=None``) because embeddings are passed directly. The text
    encoders run once, on ``device``, for the empty prompt of the reference and are
    then released.

    Parameters
    ----------
    sdxl_dir : path
        Local SDXL-Turbo folder (see :func:`check_sdxl_dir`).
    ip_adapter_file : path
        Local IP-Adapter ``.safetensors`` (see :func:`check_ip_adapter_file`).
    device : torch.device
    variant : str, optional
        Weights variant to load, e.g. ``"fp16"`` for ``*.fp16.safetensors``.
    ip_adapter_scale : float
        Weight of the image tokens (paper: 1.0).
    """
    check_sdxl_dir(sdxl_dir, variant)
    embed_dim = check_ip_adapter_file(ip_adapter_file)
    ip_adapter_file = Path(ip_adapter_file)
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    pipeline = StableDiffusionXLPipeline.from_pretrained(
        sdxl_dir, dtype=dtype, variant=variant, use_safetensors=True, local_files_only=True, add_watermarker=False
    )
    pipeline.load_ip_adapter(str(ip_adapter_file.parent), subfolder="", weight_name=ip_adapter_file.name,
                             image_encoder_folder=None, local_files_only=True)  # fmt: skip
    pipeline.set_ip_adapter_scale(ip_adapter_scale)
    pipeline.prepare_ip_adapter_image_embeds = _ip_adapter_embeds_per_image  # one embedding per image of a batch
    for name in _TEXT_ENCODERS:
        getattr(pipeline, name).to(device)
    prompt_embeds, _, pooled_prompt_embeds, _ = pipeline.encode_prompt("", device=device,
                                                                       do_classifier_free_guidance=False)  # fmt: skip
    # the image processor load_ip_adapter adds is unused too: embeddings are passed
    for name in (*_TEXT_ENCODERS, *_TOKENIZERS, "feature_extractor"):
        setattr(pipeline, name, None)
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    pipeline.to(device)
    pipeline.set_progress_bar_config(disable=True)
    logger.info("SDXL-Turbo from %s, IP-Adapter %s (%d-d embeddings, scale %s) on %s, %s",
                sdxl_dir, ip_adapter_file, embed_dim, ip_adapter_scale, device, dtype)  # fmt: skip
    return Decoder(pipeline, prompt_embeds, pooled_prompt_embeds, embed_dim, device, dtype)


def record_decoder_weights(sdxl_dir: str | Path, ip_adapter_file: str | Path, out_file: str | Path,
                           variant: str | None = None, cache_dir: str | Path = SHA256_CACHE_DIR) -> None:  # fmt: skip
    """Write the SHA-256 of every weights file of the decoder, as JSON.

    Every ``*.safetensors`` file of the SDXL-Turbo component folders is hashed (all
    variants and shards: whichever diffusers picks is among them) and the IP-Adapter
    file. Hashing SDXL-Turbo takes about a minute, so it is done once per workflow and
    copied into the sidecars, and remembered in ``cache_dir`` while the files are
    unchanged (:func:`~necomimi.utils.hashing.cached_file_sha256`). Keys are
    ``sdxl_turbo/<component>/<file>`` and ``ip_adapter``.
    """
    check_sdxl_dir(sdxl_dir, variant)
    check_ip_adapter_file(ip_adapter_file)
    sdxl_dir = Path(sdxl_dir)
    weights = sorted(sdxl_dir.glob("*/*.safetensors"))
    record = {f"sdxl_turbo/{p.relative_to(sdxl_dir)}": cached_file_sha256(p, cache_dir) for p in weights}
    record["ip_adapter"] = cached_file_sha256(ip_adapter_file, cache_dir)
    with atomic_path(out_file) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")
