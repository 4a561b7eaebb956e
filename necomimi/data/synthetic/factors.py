"""The latent factors behind every synthetic image, and the concepts built from them.

A concept is a (shape, colour, texture) combination, e.g. ``red_dotted_triangle``.
Each image of a concept adds instance factors: a background, a position, a size and a
rotation. The factors are grouped the way the CAT score groups tags (PAPER.md 1.3):
two broad categories (the shape family and the colour family), a specific category
(the shape), the concept itself and the background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Shape families (broad category 1) and their shapes (the specific category).
SHAPE_FAMILIES: dict[str, tuple[str, ...]] = {
    "polygon": ("triangle", "square", "pentagon", "hexagon"),
    "round": ("circle", "ellipse", "crescent", "ring"),
    "star": ("star4", "star5", "star6", "star8"),
    "cross": ("plus", "saltire", "arrow", "chevron"),
}
#: Colour families (broad category 2) and their colours, as RGB.
COLOUR_FAMILIES: dict[str, dict[str, tuple[int, int, int]]] = {
    "warm": {
        "red": (215, 35, 35),
        "orange": (240, 135, 25),
        "yellow": (235, 215, 45),
        "pink": (235, 120, 175),
    },
    "cool": {
        "blue": (35, 65, 215),
        "cyan": (45, 195, 215),
        "green": (45, 165, 65),
        "purple": (125, 55, 175),
    },
    "neutral": {
        "white": (240, 240, 240),
        "grey": (128, 128, 128),
        "black": (25, 25, 25),
        "brown": (120, 72, 35),
    },
}
#: Surface textures drawn inside the shape.
TEXTURES: tuple[str, ...] = (
    "plain",
    "hstriped",
    "vstriped",
    "dstriped",
    "dotted",
    "checkered",
    "gridded",
    "ringed",
    "speckled",
    "shaded",
)
#: Background scenes (the CAT background tag).
BACKGROUNDS: tuple[str, ...] = ("dark", "light", "sky", "grass")

SHAPES: tuple[str, ...] = tuple(s for family in SHAPE_FAMILIES.values() for s in family)
COLOURS: tuple[str, ...] = tuple(c for family in COLOUR_FAMILIES.values() for c in family)
SHAPE_FAMILY = {shape: family for family, shapes in SHAPE_FAMILIES.items() for shape in shapes}
COLOUR_FAMILY = {colour: family for family, cols in COLOUR_FAMILIES.items() for colour in cols}
COLOUR_RGB = {colour: rgb for cols in COLOUR_FAMILIES.values() for colour, rgb in cols.items()}

#: Number of distinct concepts the vocabulary can express (1920 >= 1854 THINGS concepts).
N_POSSIBLE_CONCEPTS = len(SHAPES) * len(COLOURS) * len(TEXTURES)

#: The categorical factors whose values drive the EEG, in a fixed order.
CATEGORICAL_FACTORS: dict[str, tuple[str, ...]] = {
    "shape_family": tuple(SHAPE_FAMILIES),
    "shape": SHAPES,
    "colour_family": tuple(COLOUR_FAMILIES),
    "colour": COLOURS,
    "texture": TEXTURES,
    "background": BACKGROUNDS,
}


@dataclass(frozen=True)
class Concept:
    """A synthetic object concept: a shape with a colour and a texture."""

    shape: str
    colour: str
    texture: str

    @property
    def name(self) -> str:
        """Concept name as it appears in folder and file names, e.g. ``red_dotted_star5``."""
        return f"{self.colour}_{self.texture}_{self.shape}"


@dataclass(frozen=True)
class ImageFactors:
    """All factors of one image: its concept plus the instance factors."""

    concept: Concept
    background: str
    x: float  # horizontal offset of the shape centre, fraction of the image side
    y: float  # vertical offset, fraction of the image side
    scale: float  # shape radius, fraction of the image side
    rotation: float  # degrees

    def categorical(self) -> dict[str, str]:
        """Values of the categorical factors (keys of :data:`CATEGORICAL_FACTORS`)."""
        return {
            "shape_family": SHAPE_FAMILY[self.concept.shape],
            "shape": self.concept.shape,
            "colour_family": COLOUR_FAMILY[self.concept.colour],
            "colour": self.concept.colour,
            "texture": self.concept.texture,
            "background": self.background,
        }


def sample_concepts(n_concepts: int, rng: np.random.Generator) -> list[Concept]:
    """Draw ``n_concepts`` distinct concepts, sorted by name.

    Sorting mirrors THINGS, whose concept folders are numbered in sorted order.
    """
    if n_concepts > N_POSSIBLE_CONCEPTS:
        raise ValueError(
            f"at most {N_POSSIBLE_CONCEPTS} synthetic concepts exist, {n_concepts} were asked for"
        )
    codes = rng.choice(N_POSSIBLE_CONCEPTS, size=n_concepts, replace=False)
    shape_idx, rest = np.divmod(codes, len(COLOURS) * len(TEXTURES))
    colour_idx, texture_idx = np.divmod(rest, len(TEXTURES))
    concepts = [
        Concept(SHAPES[s], COLOURS[c], TEXTURES[t])
        for s, c, t in zip(shape_idx, colour_idx, texture_idx, strict=True)
    ]
    return sorted(concepts, key=lambda concept: concept.name)


def sample_image_factors(concept: Concept, rng: np.random.Generator) -> ImageFactors:
    """Draw the instance factors of one image of ``concept``."""
    return ImageFactors(
        concept=concept,
        background=BACKGROUNDS[rng.integers(len(BACKGROUNDS))],
        x=float(rng.uniform(-0.12, 0.12)),
        y=float(rng.uniform(-0.12, 0.12)),
        scale=float(rng.uniform(0.24, 0.34)),
        rotation=float(rng.uniform(-20.0, 20.0)),
    )


def concept_tags(factors: ImageFactors) -> dict[str, str]:
    """The five CAT tags of an image (PAPER.md 1.3), from its generating factors.

    ``broad_1`` is the shape family, ``broad_2`` the colour family, ``specific`` the
    shape, ``concept`` the concept name in words and ``background`` the scene.
    """
    categorical = factors.categorical()
    return {
        "broad_1": categorical["shape_family"],
        "broad_2": categorical["colour_family"],
        "specific": categorical["shape"],
        "concept": factors.concept.name.replace("_", " "),
        "background": categorical["background"],
    }
