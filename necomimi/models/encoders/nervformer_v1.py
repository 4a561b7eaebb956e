"""NervFormerV1 ("Nervformer" in the NECOMIMI tables)."""

from __future__ import annotations

import torch

from necomimi.models.encoders._base import EEGEncoder
from necomimi.models.modules import NervFormerCore, ProjectionHead


class NervFormerV1(EEGEncoder):
    """NervFormerV1: the dual-branch attention core, then the embedding head.

    (batch, n_chans, n_times) -> :class:`~necomimi.models.modules.NervFormerCore`
    (batch, 1440) -> :class:`~necomimi.models.modules.ProjectionHead` (batch, 1024).
    11,542,800 parameters with the defaults.

    As ``NervFormerV1`` in ``Retrieval/NervformerV1_insubject_retrieval.py`` of
    ChiShengChen/EEG_gen_img_NECOMIMI @ 0ee85fa (SPEC.md 3.3), with the logit scale
    in the loss.

    Parameters
    ----------
    drop_prob : float
        Dropout of the convolution branches, feed-forward and head. Defaults to 0.5.
    att_drop_prob : float
        Dropout on the joint attention's weights. Defaults to 0.75 as in [1]_.

    References
    ----------
    .. [1] Chen, C.-S., & Wei, C.-S. (2024). NECOMIMI: Neural-cognitive multimodal
           EEG-informed image generation with diffusion models. arXiv:2410.00712.
    """

    def __init__(
        self,
        n_outputs: int = 1024,
        n_chans: int = 63,
        n_times: int = 250,
        sfreq: float = 250.0,
        drop_prob: float = 0.5,
        att_drop_prob: float = 0.75,
    ) -> None:
        super().__init__(n_outputs, n_chans, n_times, sfreq)
        self.drop_prob = drop_prob
        self.att_drop_prob = att_drop_prob
        name = type(self).__name__
        self.core = NervFormerCore(self.n_chans, self.n_times, 1440, drop_prob, att_drop_prob, name)
        self.final_layer = ProjectionHead(1440, self.n_outputs, drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.final_layer(self.core(x))
