"""The stimuli and trial orders of a synthetic THINGS-MEG (MEG.md 1.1 at small scale).

Concepts are the synthetic ones of :mod:`necomimi.data.synthetic.factors` (a shape
with a colour and a texture), numbered 1..n in sorted order like THINGS'; the images
of a concept share its factors, so they look alike and CLIP-like targets can carry
the concept. Image numbers run concept by concept, as in THINGS' ``image_paths.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from necomimi.data.synthetic.factors import (
    Concept,
    ImageFactors,
    sample_concepts,
    sample_image_factors,
)
from necomimi.data.synthetic.meg_spec import SyntheticMegSpec
from necomimi.data.things_meg import TRIAL_CATCH, TRIAL_EXP, TRIAL_TEST, image_folder

# Independent random streams, combined with the dataset seed.
_STREAM_IMAGES = 21
_STREAM_DESIGN = 22

#: Role of an image that is in THINGS' tables but never shown.
UNUSED = "unused"


@dataclass(frozen=True)
class MegImage:
    """One THINGS image of the synthetic dataset."""

    number: int  # THINGS image number, 1-based (events.tsv ``value``)
    concept_nr: int  # THINGS concept number, 1-based (``things_category_nr``)
    concept: Concept
    file: str  # e.g. ``red_dotted_star5_03b.jpg``
    role: str  # "exp", "test" or "unused"
    factors: ImageFactors

    @property
    def folder(self) -> str:
        """ATM's folder name, ``{concept_nr:05d}_{concept}``."""
        return image_folder(self.concept_nr, self.concept.name)

    @property
    def things_path(self) -> str:
        """The image's row of THINGS' ``image_paths.csv``: ``images/<concept>/<file>``."""
        return f"images/{self.concept.name}/{self.file}"


@dataclass(frozen=True)
class MegTrial:
    """One trial: its type and image (``None`` for catch trials)."""

    trial_type: str
    image: MegImage | None


def make_images(spec: SyntheticMegSpec) -> list[MegImage]:
    """Every THINGS image of the dataset, by image number.

    Each concept has ``exp_images_per_concept`` exp images, one test image if it is a
    test concept, and ``unused_images_per_concept`` never-shown images, in a seeded
    order within the concept.
    """
    rng = np.random.default_rng([spec.seed, _STREAM_IMAGES])
    concepts = sample_concepts(spec.n_concepts, rng)
    test = set(rng.choice(spec.n_concepts, size=spec.n_test_concepts, replace=False).tolist())
    images = []
    for index, concept in enumerate(concepts):
        roles = [TRIAL_EXP] * spec.exp_images_per_concept + [UNUSED] * spec.unused_images_per_concept
        roles += [TRIAL_TEST] if index in test else []
        for k, role in enumerate(rng.permutation(roles), start=1):
            letter = "s" if role == TRIAL_TEST else "bns"[rng.integers(3)]
            images.append(
                MegImage(
                    number=len(images) + 1,
                    concept_nr=index + 1,
                    concept=concept,
                    file=f"{concept.name}_{k:02d}{letter}.jpg",
                    role=str(role),
                    factors=sample_image_factors(concept, rng),
                )
            )
    return images


def session_runs(spec: SyntheticMegSpec, images: list[MegImage], participant: int) -> list[list[list[MegTrial]]]:
    """Return the trial order of one participant: ``[session][run] -> trials``.

    Every session shows its share of each concept's exp images and every test image
    once, shuffled and split into runs; each run then gets ``catch_per_run`` catch
    trials at random places. The order differs between participants, the images do
    not (MEG.md 1.1).
    """
    rng = np.random.default_rng([spec.seed, _STREAM_DESIGN, participant])
    by_session: list[list[MegTrial]] = [[] for _ in range(spec.n_sessions)]
    for concept_nr in sorted({image.concept_nr for image in images}):
        exp = [image for image in images if image.concept_nr == concept_nr and image.role == TRIAL_EXP]
        offset = int(rng.integers(spec.n_sessions))
        for k, position in enumerate(rng.permutation(len(exp))):
            by_session[(k + offset) % spec.n_sessions].append(MegTrial(TRIAL_EXP, exp[position]))
    tests = [image for image in images if image.role == TRIAL_TEST]
    sessions = []
    for trials in by_session:
        trials = trials + [MegTrial(TRIAL_TEST, image) for image in tests]
        order = rng.permutation(len(trials))
        runs = []
        for chunk in np.array_split(order, spec.runs_per_session):
            run = [trials[i] for i in chunk]
            for position in np.sort(rng.integers(0, len(run) + 1, size=spec.catch_per_run))[::-1]:
                run.insert(int(position), MegTrial(TRIAL_CATCH, None))
            runs.append(run)
        sessions.append(runs)
    return sessions
