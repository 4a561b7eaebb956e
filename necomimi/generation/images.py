"""Step 2c of the generation: the images in three modes (SPEC.md 6.4).

For every test image, in test order, one image per mode:

- ``gt``: the image's own CLIP embedding (the upper bound, "Pure Test Image"); it
  depends on no run or condition, so :func:`generate_gt_images` renders it once;
- ``one_stage``: the EEG feature fed directly to the IP-Adapter ("One-Stage");
- ``two_stage``: the diffusion prior's sample conditioned on the EEG feature
  (NECOMIMI's "Two-Stage"); :func:`generate_images` renders these two per run and
  condition.

Each mode gets a folder with ``NNN_<concept>.png`` (``NNN`` the 0-based test index),
``embeddings.pt`` (the exact embeddings rendered) and ``images.json`` (the sidecar:
seeds, settings, model paths and weight hashes). Image ``i`` is rendered from a
generator seeded with :func:`~necomimi.generation.seeds.image_seed` of
``(seed, i)``, so it can be regenerated alone (:func:`regenerate_image`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

import necomimi
from necomimi.clip.targets import read_targets
from necomimi.generation.decoder import Decoder, load_decoder
from necomimi.generation.features import load_features
from necomimi.generation.prior import load_prior, sample_prior
from necomimi.generation.seeds import generators, image_seed
from necomimi.generation.sidecar import SIDECAR
from necomimi.utils.atomic import atomic_folder, atomic_path
from necomimi.utils.device import resolve_device
from necomimi.utils.hashing import file_sha256
from necomimi.utils.provenance import package_versions

logger = logging.getLogger(__name__)

MODES = ("gt", "one_stage", "two_stage")
#: The modes rendered per run (from its EEG); ``gt`` is rendered once for all runs.
RUN_MODES = ("one_stage", "two_stage")
EMBEDDINGS = "embeddings.pt"
_DESCRIPTIONS = {
    "gt": "the test image's own CLIP embedding (upper bound; the paper's 'Pure Test Image')",
    "one_stage": "the EEG feature fed directly to the IP-Adapter (the paper's 'One-Stage')",
    "two_stage": "the diffusion prior's sample conditioned on the EEG feature (NECOMIMI, 'Two-Stage')",
}
#: Pipeline settings recorded in the sidecar and passed to Decoder.render.
RENDER_SETTINGS = ("num_inference_steps", "guidance_scale", "height", "width")


def image_file_name(index: int, concept_folder: str, n_images: int) -> str:
    """``NNN_<concept>.png``: the 0-based test index, zero-padded, and the concept name.

    ``00001_aircraft_carrier`` -> ``000_aircraft_carrier.png`` (of 200 images).
    """
    width = max(3, len(str(n_images - 1)))
    return f"{index:0{width}d}_{concept_folder.split('_', 1)[-1]}.png"


def render_batches(decoder: Decoder, embeddings: torch.Tensor, seeds: list[int], batch_size: int,
                   settings: Mapping) -> list:  # fmt: skip
    """Render all embeddings in consecutive batches of ``batch_size`` (in index order).

    The batch composition is part of the result (batched and single renders differ in
    the last bits), so regeneration uses the same batches. On the CPU, batches of a
    few images render faster than single images (1.5 vs 2.5 s for 20 demo images).
    """
    images = []
    for start in range(0, len(embeddings), batch_size):
        stop = start + batch_size
        images += decoder.render(embeddings[start:stop], seeds[start:stop], **{k: settings[k] for k in RENDER_SETTINGS})
    return images


def _write_mode_folder(out_dir: Path, images: list, embeddings: torch.Tensor, sidecar: dict, names: list[str]) -> None:
    """Write PNGs, embeddings and sidecar into a fresh folder, then move it into place."""
    with atomic_folder(out_dir) as tmp:
        for entry, image, name in zip(sidecar["images"], images, names, strict=True):
            image.save(tmp / name)
            entry["sha256"] = file_sha256(tmp / name)
        torch.save(embeddings.contiguous(), tmp / EMBEDDINGS)
        (tmp / SIDECAR).write_text(json.dumps(sidecar, indent=2) + "\n")


def _log_agreement(samples: torch.Tensor, truth: torch.Tensor) -> None:
    """Log how near the prior's samples lie to their own test image, in CLIP space."""
    similarity = torch.nn.functional.normalize(samples, dim=-1) @ torch.nn.functional.normalize(truth, dim=-1).T
    own = similarity.diag()
    others = (similarity.sum() - own.sum()) / max(similarity.numel() - len(own), 1)
    top1 = (similarity.argmax(dim=1) == torch.arange(len(own))).float().mean()
    logger.info("prior samples: mean cosine %.3f to their own test image, %.3f to the others; top-1 %.3f among %d",
                own.mean(), others, top1, len(own))  # fmt: skip


def _versions() -> dict:
    return package_versions(("torch", "diffusers", "transformers")) | {"necomimi": necomimi.__version__}


def _load_renderer(decoder: Mapping, device: str) -> Decoder:
    return load_decoder(decoder["sdxl_turbo"], decoder["ip_adapter"], device=resolve_device(device),
                        variant=decoder["variant"], ip_adapter_scale=decoder["ip_adapter_scale"])  # fmt: skip


def _write_mode(out_dir: str | Path, mode: str, embeddings: torch.Tensor, *, renderer: Decoder, targets,
                seed: int, decoder: Mapping, run: Mapping | None, inputs: dict, hashes: dict,
                prior_sampling: Mapping | None = None) -> None:  # fmt: skip
    """Render one mode's images of every test image and write its folder with the sidecar."""
    n = len(targets.folder)
    names = [image_file_name(i, folder, n) for i, folder in enumerate(targets.folder)]
    decoder_seeds = [image_seed(seed, i, "decoder") for i in range(n)]
    images = render_batches(renderer, embeddings, decoder_seeds, decoder["batch_size"], decoder)
    sidecar = {
        "mode": mode,
        "description": _DESCRIPTIONS[mode],
        "run": None if run is None else dict(run),
        "seed": seed,
        "device": str(renderer.device),
        "dtype": str(renderer.dtype).removeprefix("torch."),
        "batch_size": decoder["batch_size"],
        # like the batches, the CPU's thread count changes the last bits of the images
        "cpu_threads": torch.get_num_threads() if renderer.device.type == "cpu" else None,
        "decoder": {**dict(decoder), "sdxl_turbo": str(decoder["sdxl_turbo"]),
                    "ip_adapter": str(decoder["ip_adapter"]), "prompt": ""},  # fmt: skip
        "prior_sampling": None if prior_sampling is None else dict(prior_sampling),
        "inputs": inputs,
        "sha256": hashes,
        "versions": _versions(),
        "images": [
            {"index": i, "concept": targets.folder[i], "file": names[i], "seed": decoder_seeds[i]}
            | ({"prior_seed": image_seed(seed, i, "prior")} if mode == "two_stage" else {})
            for i in range(n)
        ],
    }
    _write_mode_folder(Path(out_dir), images, embeddings.float(), sidecar, names)
    logger.info("%s: %d %s images", out_dir, n, mode)


def generate_gt_images(*, targets_file: str | Path, weights_record: str | Path, out_dir: str | Path, seed: int,
                       decoder: Mapping, device: str = "cpu") -> None:  # fmt: skip
    """Render every test image's own CLIP embedding once: the ``gt`` mode, shared by all runs.

    ``gt`` images depend on neither the encoder, the subject, the run's seed nor the
    condition: only on the CLIP targets, the decoder and ``seed``. The workflow renders
    them once (``results/images/gt``); the sidecar's ``run`` is None.

    Parameters
    ----------
    targets_file : path
        CLIP targets; the test images' embeddings are rendered.
    weights_record : path
        JSON of the decoder weights' SHA-256 (:func:`record_decoder_weights`).
    out_dir : path
        The mode folder to write (``NNN_<concept>.png``, ``embeddings.pt``, ``images.json``).
    seed : int
        Seed of the per-image generators, the same as the runs' images.
    decoder : mapping
        As for :func:`generate_images`.
    device : str
        ``auto``, ``cpu`` or ``cuda[:N]``.
    """
    targets = read_targets(targets_file, "test")
    inputs = {"targets": str(targets_file)}
    hashes = {**json.loads(Path(weights_record).read_text()), "targets": file_sha256(targets_file)}
    _write_mode(out_dir, "gt", torch.from_numpy(targets.image), renderer=_load_renderer(decoder, device),
                targets=targets, seed=seed, decoder=decoder, run=None, inputs=inputs, hashes=hashes)  # fmt: skip


def generate_images(
    *,
    targets_file: str | Path,
    weights_record: str | Path,
    conditions: Sequence[str],
    modes: Sequence[str],
    features_files: Sequence[str | Path],
    prior_files: Sequence[str | Path] | None,
    out_dirs: Sequence[str | Path],
    run: Mapping,
    seed: int,
    decoder: Mapping,
    prior_sampling: Mapping,
    device: str = "cpu",
) -> None:
    """Render every test image of one (encoder, subject, seed) in each condition and EEG mode.

    The decoder is loaded once for all conditions. The ``gt`` mode depends on no run:
    :func:`generate_gt_images` renders it once.

    Parameters
    ----------
    targets_file : path
        CLIP targets (the test images, their order and the prior's agreement check).
    weights_record : path
        JSON of the decoder weights' SHA-256 (:func:`record_decoder_weights`),
        copied into every sidecar.
    conditions : sequence of str
        The run's conditions, in order.
    modes : sequence of str
        ``one_stage`` and/or ``two_stage``.
    features_files : sequence of path
        Per condition, its ``eeg_test.pt`` (one row per test image).
    prior_files : sequence of path or None
        Per condition, its ``prior.pt``; needed for ``two_stage`` only.
    out_dirs : sequence of path
        The folders to write, condition-major, then mode (``len(conditions) *
        len(modes)``).
    run : mapping
        What identifies the run (protocol, encoder, subject, seed), recorded with the
        condition in the sidecars.
    seed : int
        Seed of the per-image generators (the reference: 42, 5757 for NERV).
    decoder : mapping
        ``sdxl_turbo``, ``ip_adapter``, ``variant``, ``ip_adapter_scale``,
        ``num_inference_steps``, ``guidance_scale``, ``height``, ``width`` and
        ``batch_size`` (images rendered together, on any device).
    prior_sampling : mapping
        ``num_inference_steps`` and ``guidance_scale`` of the prior (50, 5.0).
    device : str
        ``auto``, ``cpu`` or ``cuda[:N]``.
    """
    unknown = sorted(set(modes) - set(RUN_MODES))
    if unknown:
        raise ValueError(f"unknown generation mode(s) {unknown} of a run; a run's modes are {', '.join(RUN_MODES)} "
                         "(gt images are rendered once, by generate_gt_images)")  # fmt: skip
    if "two_stage" in modes and prior_files is None:
        raise ValueError("mode two_stage needs a prior file per condition")
    if len(out_dirs) != len(conditions) * len(modes):
        raise ValueError(f"{len(out_dirs)} output folders for {len(conditions)} conditions x {len(modes)} modes")
    priors = [None] * len(conditions) if prior_files is None else list(prior_files)
    targets = read_targets(targets_file, "test")
    n = len(targets.image)
    renderer = _load_renderer(decoder, device)
    weight_hashes = json.loads(Path(weights_record).read_text())
    folders = iter(out_dirs)
    for condition, features_file, prior_file in zip(conditions, features_files, priors, strict=True):
        features = load_features(features_file)
        if len(features) != n:
            raise ValueError(f"{features_file}: {len(features)} test features for {n} test images in {targets_file}")
        inputs = {"targets": str(targets_file), "features": str(features_file)}
        embeddings = {"one_stage": features}
        if "two_stage" in modes:
            prior, scheduler = load_prior(prior_file)
            prior.to(renderer.device)
            prior_seeds = [image_seed(seed, i, "prior") for i in range(n)]
            embeddings["two_stage"] = sample_prior(prior, scheduler, features, generators(prior_seeds),
                                                   **prior_sampling)  # fmt: skip
            inputs["prior"] = str(prior_file)
            _log_agreement(embeddings["two_stage"], torch.from_numpy(targets.image))
        hashes = {**weight_hashes, **{key: file_sha256(path) for key, path in inputs.items()}}
        for mode in modes:
            _write_mode(next(folders), mode, embeddings[mode], renderer=renderer, targets=targets, seed=seed,
                        decoder=decoder, run={**run, "condition": condition}, inputs=inputs, hashes=hashes,
                        prior_sampling=prior_sampling if mode == "two_stage" else None)  # fmt: skip


def regenerate_image(folder: str | Path, index: int, out_file: str | Path | None = None) -> tuple[Path, bool]:
    """Render image ``index`` of a mode folder again, from its sidecar and embeddings.

    The decoder, settings, device, seed, batch (the batch that held the image) and,
    on a CPU, the number of threads are those recorded in ``images.json``; the embedding is the
    one recorded in ``embeddings.pt``. Relative weights paths in the sidecar (the
    workflow's) are relative to the workflow's working directory.

    Parameters
    ----------
    folder : path
        A mode folder written by :func:`generate_images` or :func:`generate_gt_images`.
    index : int
        0-based test index (the ``NNN`` of the file name).
    out_file : path, optional
        PNG to write; by default the image's own file name in the current folder.

    Returns
    -------
    out_file : Path
        The file written.
    identical : bool
        Whether it is byte-identical to the recorded image (its SHA-256).
    """
    folder = Path(folder)
    sidecar_file = folder / SIDECAR
    if not sidecar_file.is_file():
        raise FileNotFoundError(f"{sidecar_file}: missing; {folder} is not a folder of generated images")
    sidecar = json.loads(sidecar_file.read_text())
    entries = sidecar["images"]
    if not 0 <= index < len(entries):
        raise ValueError(f"{folder}: index {index} out of range; the folder holds images 0..{len(entries) - 1}")
    out_file = Path(entries[index]["file"] if out_file is None else out_file)
    settings, batch_size = sidecar["decoder"], sidecar["batch_size"]
    for key in ("sdxl_turbo", "ip_adapter"):
        path = Path(settings[key])
        if not path.is_absolute() and not path.exists():
            raise FileNotFoundError(
                f"{sidecar_file}: {key} {path} not found from {Path.cwd()}; the paths it records are "
                "relative to the workflow's working directory: run the command there"
            )
    embeddings = load_features(folder / EMBEDDINGS)
    decoder = _load_renderer(settings, sidecar["device"])
    if decoder.device.type == "cpu" and sidecar.get("cpu_threads"):
        torch.set_num_threads(sidecar["cpu_threads"])
    start = index - index % batch_size
    batch = range(start, min(start + batch_size, len(entries)))
    images = decoder.render(embeddings[batch.start : batch.stop], [entries[i]["seed"] for i in batch],
                            **{k: settings[k] for k in RENDER_SETTINGS})  # fmt: skip
    with atomic_path(out_file) as tmp:
        images[index - start].save(tmp, format="PNG")
    identical = file_sha256(out_file) == entries[index]["sha256"]
    logger.info("%s: image %d regenerated as %s (%s the recorded file)", folder, index, out_file,
                "identical to" if identical else "differs from")  # fmt: skip
    return out_file, identical
