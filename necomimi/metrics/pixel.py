"""Pixel-level image metrics: SSIM as the NECOMIMI reference computes it, and PixCorr."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage import io
from skimage.color import rgb2gray, rgba2rgb
from skimage.metrics import structural_similarity
from skimage.transform import resize
from skimage.util import img_as_ubyte

#: Side of the grayscale images SSIM compares (SPEC.md 7.2).
SSIM_SIZE = 256
#: Side of the RGB images PixCorr compares (MindEye, ATM).
PIXCORR_SIZE = 425

ImageLike = str | Path | Image.Image | np.ndarray


def _as_array(image: ImageLike, as_gray: bool) -> np.ndarray:
    """Pixels of a file, PIL image or array; for ``as_gray`` as ``skimage.io.imread(as_gray=True)``."""
    if isinstance(image, str | Path):
        if not Path(image).is_file():
            raise FileNotFoundError(f"{image}: image file not found")
        return io.imread(image, as_gray=as_gray)
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {array.shape}")
    if array.ndim == 3 and as_gray:
        array = rgb2gray(rgba2rgb(array) if array.shape[-1] == 4 else array)
    return array


def ssim_input(image: ImageLike) -> np.ndarray:
    """What SSIM compares: 8-bit grayscale luminance resized to 256 x 256 with anti-aliasing, in [0, 1]."""
    gray = img_as_ubyte(_as_array(image, as_gray=True))
    return np.clip(resize(gray, (SSIM_SIZE, SSIM_SIZE), anti_aliasing=True), 0, 1)


def _ssim_of_inputs(generated: np.ndarray, ground_truth: np.ndarray) -> float:
    return float(structural_similarity(generated, ground_truth, data_range=1.0))


def ssim(generated: ImageLike, ground_truth: ImageLike) -> float:
    """Structural similarity of a generated image to its ground truth, as the paper.

    Follows the reference's ``calculate_metrics.py`` (SPEC.md 7.2): both images read as
    grayscale luminance (``skimage.io.imread(..., as_gray=True)``, then 8 bits),
    resized to 256 x 256 with anti-aliasing, clipped to [0, 1], then scikit-image's
    ``structural_similarity`` with ``data_range=1`` and its default 7 x 7 window.

    Parameters
    ----------
    generated, ground_truth : path, PIL.Image.Image or numpy.ndarray
        Image files, or (H, W[, 3 or 4]) arrays (uint8, or floats in [0, 1]).

    Returns
    -------
    float
        SSIM in [-1, 1]; 1 for identical images.
    """
    return _ssim_of_inputs(ssim_input(generated), ssim_input(ground_truth))


def pixcorr_input(image: ImageLike, size: int = PIXCORR_SIZE) -> np.ndarray:
    """What PixCorr compares: RGB in [0, 1] resized to ``size`` x ``size``, flattened.

    Resized bilinearly with anti-aliasing as torchvision's ``Resize`` does on tensors
    (MindEye's and ATM's evaluation code resize with it).
    """
    array = _as_array(image, as_gray=False)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    elif array.shape[-1] == 4:
        array = rgba2rgb(array)
    array = array.astype(np.float32) / 255.0 if array.dtype == np.uint8 else array.astype(np.float32)
    tensor = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None]
    resized = torch.nn.functional.interpolate(tensor, size=(size, size), mode="bilinear", align_corners=False,
                                              antialias=True)  # fmt: skip
    return resized.numpy().ravel()


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two flattened images (float64 sums); NaN if either is constant."""
    a, b = a - a.mean(dtype=np.float64), b - b.mean(dtype=np.float64)
    norm = np.sqrt(np.dot(a, a) * np.dot(b, b))
    if norm < 1e-6 * a.size:  # resizing leaves rounding noise on a constant image
        return float("nan")
    return float(np.dot(a, b) / norm)


def pixcorr(generated: ImageLike, ground_truth: ImageLike, size: int = PIXCORR_SIZE) -> float:
    """Pearson correlation of the pixels of a generated image and its ground truth.

    The low-level metric of MindEye (Scotti et al., NeurIPS 2023) and ATM (PAPER.md
    2.1): both images as RGB in [0, 1], resized bilinearly to ``size`` x ``size``
    (425; :func:`pixcorr_input`), flattened, correlated.

    Returns
    -------
    float
        Pearson r in [-1, 1]; NaN if either image is constant.
    """
    return _correlation(pixcorr_input(generated, size), pixcorr_input(ground_truth, size))


class PixelReference:
    """Ground-truth images prepared once, to score many sets of generated images.

    Scores equal :func:`ssim` and :func:`pixcorr` on each pair; each ground-truth image
    is read and resized once instead of once per set.

    Parameters
    ----------
    ground_truth : list of path, PIL.Image.Image or numpy.ndarray
        Image ``i`` is the ground truth of generated image ``i``.
    """

    def __init__(self, ground_truth: list[ImageLike]):
        self._ssim = [ssim_input(image) for image in ground_truth]
        self._pixcorr = [pixcorr_input(image) for image in ground_truth]

    def __len__(self) -> int:
        return len(self._ssim)

    def _check(self, generated: list[ImageLike]) -> None:
        if len(generated) != len(self):
            raise ValueError(f"{len(generated)} generated images for {len(self)} ground-truth images")

    def ssim(self, generated: list[ImageLike]) -> np.ndarray:
        """(n,) SSIM of generated image ``i`` to ground truth ``i``."""
        self._check(generated)
        return np.array([_ssim_of_inputs(ssim_input(g), t) for g, t in zip(generated, self._ssim, strict=True)])

    def pixcorr(self, generated: list[ImageLike]) -> np.ndarray:
        """(n,) PixCorr of generated image ``i`` to ground truth ``i``."""
        self._check(generated)
        return np.array([_correlation(pixcorr_input(g), t) for g, t in zip(generated, self._pixcorr, strict=True)])
