"""SSIM follows the paper's protocol (SPEC.md 7.2); PixCorr is a pixel correlation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image
from skimage import data, io
from skimage.metrics import structural_similarity
from skimage.transform import resize
from skimage.util import img_as_ubyte

from necomimi.metrics import pixcorr, ssim


def _reference_ssim(generated_path, ground_truth_path) -> float:
    """The reference's calculate_metrics.py, written out literally."""

    def load(path):
        image = img_as_ubyte(io.imread(path, as_gray=True))
        return np.clip(resize(image, (256, 256), anti_aliasing=True), 0, 1)

    return structural_similarity(load(generated_path), load(ground_truth_path), data_range=1.0)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("pixels")
    astronaut, coffee = data.astronaut(), data.coffee()  # 512 x 512 and 400 x 600 RGB, shipped offline
    Image.fromarray(astronaut).save(root / "astronaut.png")
    Image.fromarray(coffee).save(root / "coffee.jpg", quality=95)
    Image.fromarray(astronaut[::2, ::2]).save(root / "astronaut_small.png")
    return root


def test_ssim_matches_the_reference_protocol_on_files(images):
    for a, b in (("astronaut.png", "coffee.jpg"), ("astronaut_small.png", "astronaut.png")):
        assert ssim(images / a, images / b) == pytest.approx(_reference_ssim(images / a, images / b), abs=1e-12)
    assert ssim(images / "astronaut.png", images / "astronaut.png") == pytest.approx(1.0)
    # different sizes are compared at 256 x 256: a half-size copy is nearly identical
    assert ssim(images / "astronaut_small.png", images / "astronaut.png") > 0.9
    assert ssim(images / "astronaut.png", images / "coffee.jpg") < 0.5


def test_ssim_takes_arrays_and_pil_images_like_files(images):
    array = np.asarray(Image.open(images / "astronaut.png"))
    expected = ssim(images / "astronaut.png", images / "coffee.jpg")
    assert ssim(array, images / "coffee.jpg") == pytest.approx(expected, abs=1e-12)
    assert ssim(Image.open(images / "astronaut.png"), images / "coffee.jpg") == pytest.approx(expected, abs=1e-12)


def test_ssim_compares_luminance_only():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    rgb = np.stack([gray] * 3, axis=-1)
    assert ssim(rgb, gray) == pytest.approx(1.0)
    swapped = rgb.copy()
    swapped[..., 0], swapped[..., 2] = 255 - gray, gray  # other colours, other luminance
    assert ssim(swapped, rgb) < 0.9


def test_bad_images_are_refused_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"absent.png: image file not found"):
        ssim(tmp_path / "absent.png", tmp_path / "absent.png")
    with pytest.raises(ValueError, match=r"got shape \(4, 4, 2\)"):
        ssim(np.zeros((4, 4, 2)), np.zeros((4, 4)))


def test_pixcorr_is_the_pixel_correlation(images):
    astronaut = np.asarray(Image.open(images / "astronaut.png"))
    assert pixcorr(astronaut, astronaut) == pytest.approx(1.0)
    assert pixcorr(255 - astronaut, astronaut) == pytest.approx(-1.0)
    noise = np.random.default_rng(0).integers(0, 256, astronaut.shape, dtype=np.uint8)
    assert abs(pixcorr(noise, astronaut)) < 0.05
    assert pixcorr(images / "astronaut_small.png", images / "astronaut.png") > 0.95
    assert math.isnan(pixcorr(np.full((8, 8, 3), 7, np.uint8), astronaut))
