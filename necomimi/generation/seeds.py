"""Per-image random streams of the generation, derived stably from the run's seed."""

from __future__ import annotations

import numpy as np
import torch

#: The independent random streams of one image.
STREAMS = {"prior": 0, "decoder": 1}


def image_seed(seed: int, index: int, stream: str) -> int:
    """A stable seed for one image's random stream, from the run's seed and its index.

    Derived with :class:`numpy.random.SeedSequence` from ``(seed, index, stream)``,
    so any image can be regenerated alone. ``stream`` is ``"prior"`` (the prior's
    sampling noise) or ``"decoder"`` (the image generator's noise).
    """
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {sorted(STREAMS)}, got {stream!r}")
    return int(np.random.SeedSequence([seed, index, STREAMS[stream]]).generate_state(1)[0])


def generators(seeds: list[int]) -> list[torch.Generator]:
    """One CPU generator per seed (CPU: the same noise on every device)."""
    return [torch.Generator("cpu").manual_seed(seed) for seed in seeds]
