"""Render a synthetic stimulus image from its latent factors, and save it.

Both synthetic datasets (THINGS-EEG2 and THINGS-MEG) keep their images in an
``image_set`` folder and the generating factors of every image in
``image_factors.csv``, written by the helpers here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from necomimi.data.synthetic.factors import COLOUR_RGB, ImageFactors, concept_tags
from necomimi.utils.atomic import atomic_path

#: Folder of the stimulus images inside a synthetic dataset.
IMAGE_SET_DIR = "image_set"
#: The generating factors of every image, one row per image.
FACTORS_FILE = "image_factors.csv"
#: The CAT tag table of the test concepts (:mod:`necomimi.cat.tags`).
TAGS_FILE = "concept_tags.csv"
JPEG_QUALITY = 92
_SUPERSAMPLE = 2  # masks are drawn at twice the size, then downsampled (anti-aliasing)
_CIRCLE = 64  # vertices of a polygonal circle


def _regular_polygon(n_vertices: int, radius: float = 1.0) -> np.ndarray:
    angles = np.deg2rad(-90.0 + 360.0 * np.arange(n_vertices) / n_vertices)
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _star(n_points: int, inner: float) -> np.ndarray:
    outer = _regular_polygon(2 * n_points)
    outer[1::2] *= inner
    return outer


def _plus(half_width: float = 0.3) -> np.ndarray:
    w = half_width
    return np.array(
        [(-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1), (-w, 1),
         (-w, w), (-1, w), (-1, -w), (-w, -w)],
        dtype=float,
    )  # fmt: skip


def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    theta = np.deg2rad(degrees)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return points @ rotation.T


#: Each shape as polygons in unit-radius coordinates, drawn in order with a fill of
#: 1 (add) or 0 (cut out).
_SHAPE_POLYGONS: dict[str, list[tuple[np.ndarray, int]]] = {
    "triangle": [(_regular_polygon(3), 1)],
    "square": [(_regular_polygon(4) @ _rotate(np.eye(2), 45.0).T, 1)],
    "pentagon": [(_regular_polygon(5), 1)],
    "hexagon": [(_regular_polygon(6), 1)],
    "circle": [(_regular_polygon(_CIRCLE), 1)],
    "ellipse": [(_regular_polygon(_CIRCLE) * np.array([1.0, 0.6]), 1)],
    "crescent": [
        (_regular_polygon(_CIRCLE), 1),
        (_regular_polygon(_CIRCLE, 0.85) + np.array([0.45, -0.15]), 0),
    ],
    "ring": [(_regular_polygon(_CIRCLE), 1), (_regular_polygon(_CIRCLE, 0.55), 0)],
    "star4": [(_star(4, 0.38), 1)],
    "star5": [(_star(5, 0.45), 1)],
    "star6": [(_star(6, 0.5), 1)],
    "star8": [(_star(8, 0.55), 1)],
    "plus": [(_plus(), 1)],
    "saltire": [(_rotate(_plus(), 45.0), 1)],
    "arrow": [
        (
            np.array(
                [(-1, -0.25), (0.2, -0.25), (0.2, -0.65), (1, 0), (0.2, 0.65),
                 (0.2, 0.25), (-1, 0.25)],
                dtype=float,
            ),  # fmt: skip
            1,
        )
    ],
    "chevron": [
        (
            np.array(
                [(-0.9, -0.8), (-0.35, -0.8), (0.45, 0), (-0.35, 0.8), (-0.9, 0.8), (-0.1, 0)],
                dtype=float,
            ),
            1,
        )
    ],
}


def _shape_mask(factors: ImageFactors, size: int) -> np.ndarray:
    """Anti-aliased coverage of the shape, float in [0, 1], shape (size, size)."""
    big = size * _SUPERSAMPLE
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    centre = np.array([0.5 + factors.x, 0.5 + factors.y]) * big
    for polygon, fill in _SHAPE_POLYGONS[factors.concept.shape]:
        points = _rotate(polygon, factors.rotation) * factors.scale * big + centre
        draw.polygon([tuple(p) for p in points], fill=255 * fill)
    small = canvas.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.float32) / np.float32(255.0)


def _texture(factors: ImageFactors, size: int, rng: np.random.Generator) -> np.ndarray:
    """Texture intensity in [0, 1] over the image, in the shape's own frame."""
    grid = ((np.arange(size, dtype=np.float32) + 0.5) / size) - 0.5
    xx, yy = (grid - factors.x)[None, :], (grid - factors.y)[:, None]
    theta = np.deg2rad(-factors.rotation)
    cos, sin = np.float32(np.cos(theta)), np.float32(np.sin(theta))
    u = (cos * xx - sin * yy) / np.float32(factors.scale)
    v = (sin * xx + cos * yy) / np.float32(factors.scale)
    texture = factors.concept.texture
    if texture == "plain":
        return np.ones((size, size), dtype=np.float32)
    if texture == "hstriped":
        return (np.sin(2 * np.pi * 2.5 * v) > 0).astype(np.float32)
    if texture == "vstriped":
        return (np.sin(2 * np.pi * 2.5 * u) > 0).astype(np.float32)
    if texture == "dstriped":
        return (np.sin(2 * np.pi * 2.5 * (u + v) / np.sqrt(2)) > 0).astype(np.float32)
    if texture == "dotted":
        fu, fv = np.mod(u * 2.0, 1.0) - 0.5, np.mod(v * 2.0, 1.0) - 0.5
        return (fu**2 + fv**2 > 0.07).astype(np.float32)
    if texture == "checkered":
        return (np.mod(np.floor(u * 2.0) + np.floor(v * 2.0), 2) == 0).astype(np.float32)
    if texture == "gridded":
        fu, fv = np.abs(np.mod(u * 2.5, 1.0) - 0.5), np.abs(np.mod(v * 2.5, 1.0) - 0.5)
        return (np.minimum(fu, fv) < 0.32).astype(np.float32)
    if texture == "ringed":
        return (np.sin(2 * np.pi * 3.0 * np.hypot(u, v)) > 0).astype(np.float32)
    if texture == "speckled":
        return (rng.random((size, size)) > 0.35).astype(np.float32)
    if texture == "shaded":
        return np.clip((u + 1.0) / 2.0, 0.0, 1.0)
    raise ValueError(f"unknown synthetic texture {texture!r}")


def _background(name: str, size: int) -> np.ndarray:
    """Background scene, float32 RGB in [0, 255], shape (size, size, 3)."""
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    if name == "dark":
        top = bottom = np.array([32.0, 30.0, 42.0], dtype=np.float32)
    elif name == "light":
        top = bottom = np.array([226.0, 224.0, 214.0], dtype=np.float32)
    elif name == "sky":
        top, bottom = np.array([85.0, 145.0, 230.0]), np.array([205.0, 228.0, 245.0])
    elif name == "grass":
        top, bottom = np.array([160.0, 205.0, 125.0]), np.array([55.0, 115.0, 40.0])
    else:
        raise ValueError(f"unknown synthetic background {name!r}")
    column = (1 - ramp) * top.astype(np.float32) + ramp * bottom.astype(np.float32)
    return np.broadcast_to(column, (size, size, 3))


def render_image(factors: ImageFactors, size: int, rng: np.random.Generator) -> np.ndarray:
    """Render one stimulus image.

    Parameters
    ----------
    factors : ImageFactors
        Concept (shape, colour, texture) and instance factors of the image.
    size : int
        Side of the square image, pixels.
    rng : numpy.random.Generator
        Source of the pixel noise and of the speckle texture.

    Returns
    -------
    numpy.ndarray
        uint8 RGB image of shape ``(size, size, 3)``.
    """
    colour = np.array(COLOUR_RGB[factors.concept.colour], dtype=np.float32)
    # Texture modulates between the colour and a contrasting shade of it.
    shade = colour * np.float32(0.45) if colour.mean() > 60 else colour + np.float32(95.0)
    pattern = _texture(factors, size, rng)[..., None]
    surface = shade + pattern * (colour - shade)
    mask = _shape_mask(factors, size)[..., None]
    background = _background(factors.background, size)
    image = background + mask * (surface - background)
    image += np.float32(4.0) * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def save_jpeg(pixels: np.ndarray, path: Path) -> None:
    """Save an RGB image as JPEG (quality :data:`JPEG_QUALITY`), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=JPEG_QUALITY)


def factor_columns(factors: ImageFactors) -> dict:
    """An image's columns of ``image_factors.csv``: the categorical factors, then the others."""
    return {**factors.categorical(),
            "x": factors.x, "y": factors.y, "scale": factors.scale, "rotation": factors.rotation}  # fmt: skip


def write_factors_table(out_dir: Path, rows: list[dict]) -> None:
    """Write ``out_dir/image_factors.csv`` atomically, floats to six decimals."""
    with atomic_path(out_dir / FACTORS_FILE) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.6f")


def write_tag_table(out_dir: Path, test_images: list[ImageFactors], folders: list[str]) -> None:
    """Write ``out_dir/concept_tags.csv`` atomically: the five CAT tags of each test concept.

    ``test_images`` and their concept ``folders`` in test order; the tags come from
    the generating factors (:func:`~necomimi.data.synthetic.factors.concept_tags`).
    """
    tags = [{"index": i, "folder": folder, **concept_tags(f)}
            for i, (f, folder) in enumerate(zip(test_images, folders, strict=True), 1)]  # fmt: skip
    with atomic_path(out_dir / TAGS_FILE) as tmp:
        pd.DataFrame(tags).to_csv(tmp, index=False)
