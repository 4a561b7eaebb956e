"""CLIP targets: image and text embeddings of every stimulus, stored in HDF5.

Unlike the reference, which embedded the images through OpenCLIP's *training*
transform (a random crop, so different on every run; SPEC.md 1.3), the images go
through the deterministic evaluation transform.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from necomimi.data.things_eeg2 import TEST_IMAGES_DIR, TRAINING_IMAGES_DIR, list_images, text_prompt
from necomimi.utils.atomic import atomic_path
from necomimi.utils.hashing import file_sha256

logger = logging.getLogger(__name__)
_FOLDERS = {"training": TRAINING_IMAGES_DIR, "test": TEST_IMAGES_DIR}


def embed_targets(
    image_dir: str | Path,
    out_path: str | Path,
    *,
    model: str,
    pretrained: str | Path,
    model_config: str | Path | None,
    batch_size: int,
    device: str = "cpu",
    image_lists: dict[str, tuple[list[str], list[str]]] | None = None,
) -> None:
    """Embed every training and test image and every concept caption with CLIP.

    Writes, for each partition ``training`` and ``test``: ``image`` (n_images, D),
    ``text`` (n_concepts, D), ``concept_of_image`` (n_images,) indices into ``text``,
    ``folder`` and ``file`` names; all embeddings float32 and L2-normalised, images in
    EEG condition order. Attributes record the model, the weights file and its
    SHA-256, the transform and the caption template.

    Parameters
    ----------
    image_dir : str or Path
        The ``image_set`` folder.
    out_path : str or Path
        HDF5 file to write (atomically).
    model, pretrained, model_config
        As :func:`necomimi.clip.loading.load_clip`.
    batch_size : int
        Images per forward pass.
    device : str
        ``auto``, ``cpu`` or ``cuda[:N]`` (:func:`necomimi.utils.device.resolve_device`):
        where CLIP runs. The images are decoded and transformed on the CPU; the stored
        embeddings are float32 whatever the device. On CUDA they may differ from the
        CPU's in the last bits (different kernels).
    image_lists : dict, optional
        ``partition -> (concept folders, files)``: the images in the order of the
        brain data's rows, e.g. THINGS-MEG's image-number order
        (:func:`necomimi.data.things_meg.image_set_lists`). By default
        every image of the folders, in THINGS-EEG2 condition order
        (:func:`necomimi.data.things_eeg2.list_images`). The test images must be
        listed in folder order all the same: the later stages find a test image's
        ground truth by it.

    Raises
    ------
    ValueError
        If ``device`` is none of these, or names a CUDA device this machine lacks; if
        a listed image is missing or the listed test images are not those of the
        folder, in its order.
    """
    # open_clip (~2 s) and torch are imported here: the many jobs that only read targets skip them
    from necomimi.clip.loading import encode_images, encode_text, load_clip
    from necomimi.utils.device import resolve_device

    device = resolve_device(device)
    clip, preprocess, tokenizer = load_clip(model, pretrained, model_config)
    clip.to(device)  # encode_images and encode_text compute on the model's device
    logger.info("CLIP %s on %s", model, device)
    with atomic_path(out_path) as tmp, h5py.File(tmp, "w") as store:
        store.attrs.update(
            model=model,
            pretrained=str(pretrained),
            pretrained_sha256=file_sha256(pretrained),
            transform=repr(preprocess),
            caption_template="This picture is <concept>",
        )
        for partition, folder in _FOLDERS.items():
            concepts, files = _listed_images(image_dir, partition, image_lists)
            paths = [Path(image_dir) / folder / c / f for c, f in zip(concepts, files, strict=True)]
            unique = sorted(set(concepts))
            group = store.create_group(partition)
            group["image"] = encode_images(clip, preprocess, paths, batch_size, label=f"CLIP {partition} images")
            group["text"] = encode_text(clip, tokenizer, [text_prompt(c) for c in unique]).numpy()
            group["concept_of_image"] = np.array([unique.index(c) for c in concepts], dtype=np.int64)
            group["folder"] = np.array(concepts, dtype=h5py.string_dtype())
            group["file"] = np.array(files, dtype=h5py.string_dtype())
            logger.info("%s: %d images, %d concepts embedded", partition, len(paths), len(unique))


def _listed_images(image_dir, partition: str, image_lists: dict | None) -> tuple[list[str], list[str]]:
    """A partition's (concept folders, files): the folder's listing or ``image_lists``', checked."""
    listed = list_images(image_dir, partition)
    if image_lists is None:
        return listed
    concepts, files = (list(names) for names in image_lists[partition])
    folder = Path(image_dir) / _FOLDERS[partition]
    missing = [f"{c}/{f}" for c, f in zip(concepts, files, strict=True) if not (folder / c / f).is_file()]
    if missing:
        raise ValueError(f"{folder}: {len(missing)} image(s) of the brain data missing, e.g. {missing[:3]}")
    if partition == "test" and (concepts, files) != listed:
        raise ValueError(
            f"{folder}: holds {len(listed[1])} test images, the brain data {len(files)} in another order or "
            "others; the test images must be exactly those of the brain data, one folder per concept"
        )
    return concepts, files


@dataclass(frozen=True)
class Targets:
    """One partition's CLIP targets."""

    image: np.ndarray  # (n_images, D)
    text: np.ndarray  # (n_concepts, D)
    concept_of_image: np.ndarray  # (n_images,)
    folder: list[str]  # (n_images,) concept folder of each image, e.g. "00001_aircraft_carrier"
    file: list[str]  # (n_images,) file name of each image inside its concept folder


def read_targets(path: str | Path, partition: str) -> Targets:
    """Read one partition of a targets file written by :func:`embed_targets`."""
    with h5py.File(path, "r") as store:
        group = store[partition]
        folder, file = ([name.decode() for name in group[key][()]] for key in ("folder", "file"))
        return Targets(group["image"][()], group["text"][()], group["concept_of_image"][()], folder, file)
