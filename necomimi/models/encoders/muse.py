"""MUSE: the spatial-then-temporal convolution encoder of Chen & Wei (2024)."""

from __future__ import annotations

import torch
from torch import nn

from necomimi.models.encoders._base import EEGEncoder
from necomimi.models.modules import (
    N_FILTERS,
    POOL_KERNEL,
    POOL_STRIDE,
    TEMPORAL_KERNEL,
    ProjectionHead,
    pooled_length,
)


class MUSE(EEGEncoder):
    """MUSE encoder: spatial convolution first, then temporal, then the embedding head.

    On (batch, 1, n_chans, n_times): Conv2d(1, 40, (n_chans, 1)) -> BatchNorm -> ELU ->
    Conv2d(40, 40, (1, 25)) -> AvgPool2d((1, 51), (1, 5)) -> BatchNorm -> ELU ->
    Dropout -> Conv2d(40, 40, 1), flattened time-major to (batch, 1440), then
    :class:`~necomimi.models.modules.ProjectionHead` to (batch, 1024). 2,571,632
    parameters with the defaults.

    As ``MUSE_EEG`` (``STConvEEGModel`` + ``Proj_eeg_Muse``) in
    ``Retrieval/MUSE_insubject_retrieval.py`` of ChiShengChen/EEG_gen_img_NECOMIMI @
    0ee85fa (SPEC.md 3.5), without the InstanceNorm the reference defines and never
    uses, and with the logit scale in the loss.

    Parameters
    ----------
    drop_prob : float
        Dropout of the stem and the head. Defaults to 0.5 as in [1]_.

    References
    ----------
    .. [1] Chen, C.-S., & Wei, C.-S. (2024). Mind's Eye: Image recognition by EEG via
           multimodal similarity-keeping contrastive learning. arXiv:2406.16910.
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
        n_features = N_FILTERS * pooled_length(self.n_times, model="muse")
        self.spatial_temporal = nn.Sequential(
            nn.Conv2d(1, N_FILTERS, (self.n_chans, 1)),
            nn.BatchNorm2d(N_FILTERS),
            nn.ELU(),
            nn.Conv2d(N_FILTERS, N_FILTERS, (1, TEMPORAL_KERNEL)),
            nn.AvgPool2d((1, POOL_KERNEL), (1, POOL_STRIDE)),
            nn.BatchNorm2d(N_FILTERS),
            nn.ELU(),
            nn.Dropout(drop_prob),
            nn.Conv2d(N_FILTERS, N_FILTERS, 1),
        )
        self.final_layer = ProjectionHead(n_features, self.n_outputs, drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        features = self.spatial_temporal(x.unsqueeze(1))  # (batch, 40, 1, tokens)
        return self.final_layer(features.squeeze(2).transpose(1, 2).flatten(1))
