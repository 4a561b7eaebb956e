"""Benchmark: memory of the image decoder, necomimi vs the reference's process.

The reference (SPEC.md 6.3, 6.4) renders in one process holding the SDXL-Turbo pipeline
in float32 (text encoders included), the IP-Adapter *with* the image encoder diffusers
0.24 loads from ``sdxl_models/image_encoder`` (ViT-bigG, unused because embeddings are
passed), and a second OpenCLIP ViT-H-14 (unused); its README cites about 30 GB of GPU
memory. necomimi holds only the UNet, the VAE and the adapter while it renders: no image
encoder, no second CLIP, the text encoders released after encoding the empty prompt,
float16 on CUDA.

Two parts, both in one run:

1. **Measured** (CPU, the demo's tiny models): each side in a fresh process loads its
   decoder and renders the same images; recorded are the peak resident memory and the
   time. At the demo's size the Python and torch runtime dominate the memory.
2. **Counted** (the real architectures, built on PyTorch's ``meta`` device so that no
   memory is allocated): the weights each side keeps resident while rendering, at the
   real sizes, in the precision each uses on a GPU.

A GPU run measures part 1 on CUDA with ``--device cuda`` (peak from
``torch.cuda.max_memory_allocated``). Results go to ``perf/results/generation_memory.{csv,md}``.

Usage::

    python perf/generation_memory.py --images 20
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "perf" / "results"
EMBED_DIM, SIZE = 32, 64


def _build_tiny(root: Path) -> None:
    """The demo decoder plus what the reference also loads: an image encoder and a CLIP."""
    import necomimi  # noqa: F401  (first: its import hook lets transformers import on a CPU torch)

    # isort: split
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from necomimi.generation.demo_decoder import build_demo_decoder

    generator = torch.Generator().manual_seed(0)
    images = torch.rand(8, 3, SIZE, SIZE, generator=generator) * 2 - 1  # one training step: only the sizes count here
    build_demo_decoder(root / "sdxl", root / "ip" / "ip-adapter_tiny.safetensors", images=images,
                       embeddings=torch.randn(8, EMBED_DIM, generator=generator), seed=0, vae_steps=1, unet_steps=1,
                       batch_size=8, vae_lr=1e-3, unet_lr=1e-3, num_inference_steps=4)  # fmt: skip
    vision = CLIPVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                              image_size=64, patch_size=8, projection_dim=EMBED_DIM)  # fmt: skip
    CLIPVisionModelWithProjection(vision).save_pretrained(root / "ip" / "image_encoder")


def _child(side: str, root: Path, n_images: int, device_name: str, clip_weights: str | None) -> None:
    import torch

    import necomimi  # noqa: F401
    from necomimi.generation.decoder import load_decoder

    device = torch.device(device_name)
    generator = torch.Generator().manual_seed(0)
    embeddings = torch.nn.functional.normalize(torch.randn(n_images, EMBED_DIM, generator=generator), dim=-1)
    start = time.perf_counter()
    if side == "necomimi":
        decoder = load_decoder(root / "sdxl", root / "ip" / "ip-adapter_tiny.safetensors", device=device)

        def render(index):
            return decoder.render(embeddings[index : index + 1], [index], num_inference_steps=4, guidance_scale=0.0,
                                  height=SIZE, width=SIZE)  # fmt: skip

    else:
        from diffusers import StableDiffusionXLPipeline

        from necomimi.clip.loading import load_clip

        pipeline = StableDiffusionXLPipeline.from_pretrained(root / "sdxl", local_files_only=True).to(device)
        pipeline.load_ip_adapter(str(root / "ip"), subfolder="", weight_name="ip-adapter_tiny.safetensors",
                                 image_encoder_folder="image_encoder", local_files_only=True)  # fmt: skip
        pipeline.set_ip_adapter_scale(1.0)
        pipeline.to(device)
        pipeline.set_progress_bar_config(disable=True)
        if clip_weights:  # the second, unused CLIP of the step-2 scripts
            clip_config = Path(clip_weights).with_name("necomimi-tiny-clip.json")
            clip = load_clip("necomimi-tiny-clip", clip_weights, clip_config)[0].to(device)
            assert clip is not None

        def render(index):
            return pipeline(prompt="", ip_adapter_image_embeds=[embeddings[index : index + 1, None].to(device)],
                            num_inference_steps=4, guidance_scale=0.0, height=SIZE, width=SIZE,
                            generator=torch.Generator("cpu").manual_seed(index)).images  # fmt: skip

    load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for index in range(n_images):
        render(index)
    render_seconds = (time.perf_counter() - start) / n_images
    record = {"load_seconds": round(load_seconds, 2), "seconds_per_image": round(render_seconds, 3),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}  # fmt: skip
    if device.type == "cuda":
        record["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    print(json.dumps(record))


def _count(module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def _real_size_weights() -> list[dict]:
    """Parameters of every component at the real sizes, built on the meta device."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import (
        CLIPConfig,
        CLIPModel,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    with torch.device("meta"):
        unet = UNet2DConditionModel(  # stabilityai/sdxl-turbo unet/config.json
            sample_size=64, block_out_channels=(320, 640, 1280), layers_per_block=2,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=(5, 10, 20), transformer_layers_per_block=(1, 2, 10), cross_attention_dim=2048,
            use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
            projection_class_embeddings_input_dim=2816,
        )  # fmt: skip
        vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                            up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4,
                            layers_per_block=2)  # fmt: skip
        text_encoder = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                                    num_attention_heads=12, projection_dim=768))  # fmt: skip
        text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(hidden_size=1280, intermediate_size=5120,
                                                                    num_hidden_layers=32, num_attention_heads=20,
                                                                    projection_dim=1280))  # fmt: skip
        image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(  # h94 sdxl_models/image_encoder (ViT-bigG)
            hidden_size=1664, intermediate_size=8192, num_hidden_layers=48, num_attention_heads=16, patch_size=14,
            image_size=224, projection_dim=1280))  # fmt: skip
        vit_h = CLIPModel(CLIPConfig(  # OpenCLIP ViT-H-14 (laion2b_s32b_b79k)
            text_config={"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
                         "num_attention_heads": 16},
            vision_config={"hidden_size": 1280, "intermediate_size": 5120, "num_hidden_layers": 32,
                           "num_attention_heads": 16, "patch_size": 14, "image_size": 224},
            projection_dim=1024))  # fmt: skip
    # ip-adapter_sdxl_vit-h: ImageProjection 1024 -> 4 x 2048 plus to_k_ip/to_v_ip per cross-attention
    cross = [unet.get_submodule(name.removesuffix(".processor"))
             for name in unet.attn_processors if name.endswith("attn2.processor")]  # fmt: skip
    ip_adapter = 1024 * 4 * 2048 + 4 * 2048 + 2 * 2048 + sum(2 * attention.to_k.weight.numel() for attention in cross)
    return [
        {"component": "UNet", "parameters": _count(unet), "reference": "float32", "necomimi": "float16"},
        {"component": "VAE", "parameters": _count(vae), "reference": "float32", "necomimi": "float16"},
        {"component": "IP-Adapter (ViT-H)", "parameters": ip_adapter, "reference": "float32", "necomimi": "float16"},
        {"component": "text encoder 1 (CLIP ViT-L)", "parameters": _count(text_encoder), "reference": "float32",
         "necomimi": "released after the empty prompt"},
        {"component": "text encoder 2 (OpenCLIP bigG)", "parameters": _count(text_encoder_2), "reference": "float32",
         "necomimi": "released after the empty prompt"},
        {"component": "IP-Adapter image encoder (ViT-bigG, unused)", "parameters": _count(image_encoder),
         "reference": "float32", "necomimi": "not loaded"},
        {"component": "second OpenCLIP ViT-H-14 (unused)", "parameters": _count(vit_h), "reference": "float32",
         "necomimi": "not loaded"},
    ]  # fmt: skip


def _gib(parameters: int, precision: str) -> float:
    return parameters * {"float32": 4, "float16": 2}.get(precision, 0) / 2**30


def main() -> None:
    """Run both parts and record the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20, help="images rendered per side")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--clip", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.root, args.images, args.device, args.clip)
        return
    sys.path.insert(0, str(REPO))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _build_tiny(root)
        clip = REPO / "resources" / "models" / "clip" / "open_clip_model.safetensors"
        for side in ("necomimi", "reference-style"):
            command = [sys.executable, __file__, "--child", side, "--root", str(root), "--images", str(args.images),
                       "--device", args.device] + (["--clip", str(clip)] if clip.is_file() else [])  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, check=True)
            rows.append({"side": side, "device": args.device, **json.loads(result.stdout.strip().splitlines()[-1])})
            print(rows[-1], flush=True)
    measured = pd.DataFrame(rows)
    counted = pd.DataFrame(_real_size_weights())
    parameters = counted["parameters"]
    counted["reference_gib"] = [round(_gib(n, p), 2) for n, p in zip(parameters, counted["reference"], strict=True)]
    counted["necomimi_gib"] = [round(_gib(n, p), 2) for n, p in zip(parameters, counted["necomimi"], strict=True)]
    RESULTS.mkdir(parents=True, exist_ok=True)
    measured.to_csv(RESULTS / "generation_memory.csv", index=False)
    counted.to_csv(RESULTS / "generation_memory_weights.csv", index=False)
    ours, ref = rows
    total_ref, total_ours = counted["reference_gib"].sum(), counted["necomimi_gib"].sum()
    text_encoders_gib = _gib(int(counted["parameters"][3:5].sum()), "float16")
    (RESULTS / "generation_memory.md").write_text(
        "# Image decoder memory: necomimi vs the reference's process\n\n"
        f"## Measured: the demo's tiny decoder on {args.device}, {args.images} images of {SIZE} x {SIZE}, "
        "each side a fresh process\n\n"
        + measured.to_markdown(index=False)
        + f"\n\nRatio (reference-style / necomimi): peak memory {ref['peak_rss_mb'] / ours['peak_rss_mb']:.2f}x, "
        f"load time {ref['load_seconds'] / ours['load_seconds']:.2f}x, time per image "
        f"{ref['seconds_per_image'] / ours['seconds_per_image']:.2f}x. At this size the Python and torch runtime "
        "(about 0.5 GB) dominate the peak; the tiny models weigh a few MB.\n\n"
        "## Counted: weights resident while rendering, at the real sizes (built on the meta device)\n\n"
        + counted.to_markdown(index=False)
        + f"\n\nTotal resident weights: reference {total_ref:.1f} GiB (float32, everything loaded), necomimi "
        f"{total_ours:.1f} GiB (float16 on CUDA; the text encoders, {text_encoders_gib:.1f} GiB "
        f"in float16, are on the GPU only while the empty prompt is encoded, before the UNet is moved there): "
        f"{total_ref / total_ours:.1f}x less. Activations come on top of both "
        "(a batch of 512 x 512 images at 4 steps)."
        + ("" if args.device.startswith("cuda")
           else " The GPU peak is measured by running this script with `--device cuda` on a GPU.")
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
