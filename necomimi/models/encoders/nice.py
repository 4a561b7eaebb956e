"""NICE: the ShallowNet-style encoder of Song et al. (2024)."""

from __future__ import annotations

import torch

from necomimi.models.encoders._base import EEGEncoder
from necomimi.models.modules import ProjectionHead, ShallowPatchEmbedding


class NICE(EEGEncoder):
    """NICE encoder: temporal-spatial convolutions, then the embedding head.

    (batch, n_chans, n_times) -> :class:`~necomimi.models.modules.ShallowPatchEmbedding`
    (batch, 1440) -> :class:`~necomimi.models.modules.ProjectionHead` (batch, 1024).
    2,630,912 parameters with the defaults.

    As in the reference (``NICE_EEG`` in ``Retrieval/NICE_insubject_retrieval.py`` of
    ChiShengChen/EEG_gen_img_NECOMIMI @ 0ee85fa, from dongyangli-del/EEG_Image_decode;
    SPEC.md 3.7) except that the logit scale lives in the loss, not the model.

    Parameters
    ----------
    drop_prob : float
        Dropout of the stem and the head. Defaults to 0.5 as in [1]_.

    References
    ----------
    .. [1] Song, Y., Liu, B., Li, X., Shi, N., Wang, Y., & Gao, X. (2024). Decoding
           natural images from EEG for object recognition. ICLR 2024.
    """

    def __init__(
        self,
        n_outputs: int = 1024,
        n_chans: int = 63,
        n_times: int = 250,
        sfreq: float = 250.0,
        drop_prob: float = 0.5,
    ) -> None:
        super().__init__(n_outputs, n_chans, n_times, sfreq)
        self.drop_prob = drop_prob
        self.patch_embedding = ShallowPatchEmbedding(
            self.n_chans, self.n_times, drop_prob, model=type(self).__name__
        )
        self.final_layer = ProjectionHead(self.patch_embedding.n_features, self.n_outputs, drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.final_layer(self.patch_embedding(x))
