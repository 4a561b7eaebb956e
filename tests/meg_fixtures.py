"""The synthetic THINGS-MEG of the MEG tests, written once per test session.

tests/conftest.py wraps :func:`synthetic_meg` and :func:`preprocessed_meg` in the
session-scoped fixtures ``meg_root`` and ``meg_out``; the cache here also serves the
tests that call them directly, so the data are written only once.
"""

from __future__ import annotations

from pathlib import Path

from necomimi.data.synthetic.meg_spec import SyntheticMegSpec
from necomimi.data.synthetic.meg_writer import (
    bids_root,
    things_tables,
    write_meg_dataset,
)
from necomimi.data.things_meg import derivative_file
from necomimi.preprocessing.meg_derivative import preprocess_meg_derivative

#: The default small dataset: 10 concepts x 4 exp images, 3 test concepts,
#: 3 sessions x 2 runs, 2 catch trials per run.
MEG_SPEC = SyntheticMegSpec()
PARTICIPANTS = (1, 2)
_CACHE: dict[tuple[str, str], Path] = {}


def synthetic_meg(tmp_path_factory) -> Path:
    """Return the dataset folder (raw runs, derivatives, THINGS tables, image set)."""
    key = (str(tmp_path_factory.getbasetemp()), "data")
    if key not in _CACHE:
        root = tmp_path_factory.mktemp("things-meg")
        write_meg_dataset(root, MEG_SPEC, list(PARTICIPANTS))
        _CACHE[key] = root
    return _CACHE[key]


def preprocess(root: Path, participant: int, out_dir: Path, **options):
    """Run entry point A on a participant of a synthetic dataset folder.

    SHA-256 digests are cached inside the dataset folder, not in the working folder.
    """
    image_paths, concept_index = things_tables(root)
    return preprocess_meg_derivative(
        derivative_file(bids_root(root), participant), out_dir,
        image_paths=image_paths, image_concept_index=concept_index, **{"cache_dir": root / ".sha256", **options},
    )  # fmt: skip


def preprocessed_meg(tmp_path_factory) -> Path:
    """Entry point A's outputs for every participant: ``<folder>/sub-BIGMEG{n}/``.

    Participants after the first must have the first one's images, in its order.
    """
    key = (str(tmp_path_factory.getbasetemp()), "preprocessed")
    if key not in _CACHE:
        root = synthetic_meg(tmp_path_factory)
        out = tmp_path_factory.mktemp("things-meg-preprocessed")
        first = out / f"sub-BIGMEG{PARTICIPANTS[0]}"
        for participant in PARTICIPANTS:
            same = None if participant == PARTICIPANTS[0] else first
            preprocess(root, participant, out / f"sub-BIGMEG{participant}", same_images_as=same)
        _CACHE[key] = out
    return _CACHE[key]
