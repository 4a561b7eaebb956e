"""Pixel-level image metrics: SSIM as the NECOMIMI reference computes it, and PixCorr."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def _ssim_input(image: ImageLike) -> np.ndarray:
    """Grayscale luminance as 8 bits, resized to 256 x 256 with anti-aliasing, in [0, 1]."""
    gray = img_as_ubyte(_as_array(image, as_gray=True))
    return np.clip(resize(gray, (SSIM_SIZE, SSIM_SIZE), anti_aliasing=True), 0, 1)


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
    return float(structural_similarity(_ssim_input(generated), _ssim_input(ground_truth), data_range=1.0))


def _rgb(image: ImageLike, size: int) -> np.ndarray:
    array = _as_array(image, as_gray=False)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    elif array.shape[-1] == 4:
        array = rgba2rgb(array)
    array = array.astype(np.float64) / 255.0 if array.dtype == np.uint8 else array.astype(np.float64)
    return resize(array, (size, size), order=1, anti_aliasing=True)


def pixcorr(generated: ImageLike, ground_truth: ImageLike, size: int = PIXCORR_SIZE) -> float:
    """Pearson correlation of the pixels of a generated image and its ground truth.

    The low-level metric of MindEye (Scotti et al., NeurIPS 2023) and ATM (PAPER.md
    2.1): both images as RGB in [0, 1], resized bilinearly to ``size`` x ``size``
    (425), flattened, correlated.

    Returns
    -------
    float
        Pearson r in [-1, 1]; NaN if either image is constant.
    """
    a, b = _rgb(generated, size).ravel(), _rgb(ground_truth, size).ravel()
    if a.std() < 1e-12 or b.std() < 1e-12:  # resizing leaves rounding noise on a constant image
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])
