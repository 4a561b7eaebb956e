"""NERV (NervFormerV2): the NECOMIMI encoder of Chen & Wei (2024)."""

from __future__ import annotations

import torch
from torch import nn

from necomimi.models.encoders.nervformer_v1 import NervFormerV1
from necomimi.models.modules import TimeAttention


class NERV(NervFormerV1):
    """NERV: attention over time points and a temporal linear map before NervFormerV1.

    (batch, n_chans, n_times) -> :class:`~necomimi.models.modules.TimeAttention` ->
    Linear(n_times, n_times) on the time axis -> the
    :class:`~necomimi.models.encoders.nervformer_v1.NervFormerV1` encoder (the
    dual-branch attention core to 1440 features, then the embedding head).
    11,882,089 parameters with the defaults.

    As ``NervFormerV2`` in ``Retrieval/NervformerV2_insubject_retrieval.py`` of
    ChiShengChen/EEG_gen_img_NECOMIMI @ 0ee85fa (SPEC.md 3.2), the encoder behind the
    paper's "NERV" results. Kept from the reference because they shape its function:
    the attention runs over the 250 time points (channels are the features), the
    "cross" attention is self-attention over both branches' 72 tokens with dropout
    0.75, and the output is a raw LayerNorm output. Dropped because dead: the
    transformer layer registered twice (276,539 unused parameters) and the logit
    scale (it lives in the loss).

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
        super().__init__(n_outputs, n_chans, n_times, sfreq, drop_prob, att_drop_prob)
        self.time_attention = TimeAttention(self.n_chans, self.n_times)
        self.time_linear = nn.Linear(self.n_times, self.n_times)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return super().forward(self.time_linear(self.time_attention(x)))
