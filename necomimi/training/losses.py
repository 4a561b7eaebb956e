"""The contrastive loss of NECOMIMI/ATM, in its reference and its OpenCLIP form."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

LOSS_MODES = ("reference", "openclip")


class ContrastiveLoss(nn.Module):
    """``w * CLIP(eeg, image) + (1 - w) * CLIP(eeg, text)`` with a learnable scale.

    ``CLIP(a, b)`` is the symmetric cross-entropy of the in-batch similarity matrix
    (LAVIS ``ClipLoss``): ``0.5 * (CE(s a b^T, I) + CE(s b a^T, I))``.

    Parameters
    ----------
    mode : {"reference", "openclip"}
        ``"reference"`` reproduces SPEC.md 4.1 exactly: ``s`` is the raw parameter
        (initialised at log(1/0.07) = 2.659 and *not* exponentiated) and the EEG
        embeddings are not normalised. ``"openclip"`` is the usual form: ``s =
        exp(parameter)`` and the EEG embeddings L2-normalised. The CLIP targets are
        unit-norm in both.
    image_weight : float
        ``w``. Defaults to 0.99 as in the reference.
    """

    def __init__(self, mode: str, image_weight: float = 0.99) -> None:
        super().__init__()
        if mode not in LOSS_MODES:
            raise ValueError(f"loss mode must be one of {LOSS_MODES}, got {mode!r}")
        self.mode = mode
        self.image_weight = image_weight
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def scale(self) -> torch.Tensor:
        """The multiplier of the similarities."""
        return self.logit_scale if self.mode == "reference" else self.logit_scale.exp()

    def _clip(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        logits = self.scale() * a @ b.T
        labels = torch.arange(len(a), device=logits.device)
        return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))

    def forward(self, eeg: torch.Tensor, image: torch.Tensor, text: torch.Tensor) -> torch.Tensor:  # noqa: D102
        if self.mode == "openclip":
            eeg = F.normalize(eeg, dim=-1)
        return self.image_weight * self._clip(eeg, image) + (1 - self.image_weight) * self._clip(eeg, text)
