"""ATM-S: the Adaptive Thinking Mapper encoder of Li et al. (2024), "ATMS_50"."""

from __future__ import annotations

import torch
from torch import nn

from necomimi.models.encoders.nice import NICE
from necomimi.models.modules import TimeAttention


class ATMS(NICE):
    """ATM-S encoder: attention over time points and a temporal linear map before NICE.

    (batch, n_chans, n_times) -> :class:`~necomimi.models.modules.TimeAttention` ->
    Linear(n_times, n_times) on the time axis (the reference's "subject-wise linear"
    with a single subject) -> the :class:`~necomimi.models.encoders.nice.NICE` encoder
    (stem to 1440 features, then the embedding head). 2,970,201 parameters with the
    defaults.

    As ``ATMS_50`` in ``Retrieval/ATM_S_insubject_retrieval.py`` of
    ChiShengChen/EEG_gen_img_NECOMIMI @ 0ee85fa (from dongyangli-del/EEG_Image_decode;
    SPEC.md 3.6), without the reference's dead weight: the transformer layer it
    registers twice (276,539 unused parameters) is registered once, and the logit
    scale lives in the loss. There are no subject tokens in the reference code
    despite the ATM paper's figure, and none here. The time attention's channel
    count is the model dimension, so ``n_times`` is limited to 5000.

    Parameters
    ----------
    drop_prob : float
        Dropout of the stem and the head. Defaults to 0.5 as in [1]_.

    References
    ----------
    .. [1] Li, D., Wei, C., Li, S., Zou, J., & Liu, Q. (2024). Visual decoding and
           reconstruction via EEG embeddings with guided diffusion. NeurIPS 2024.
    """

    def __init__(
        self,
        n_outputs: int = 1024,
        n_chans: int = 63,
        n_times: int = 250,
        sfreq: float = 250.0,
        drop_prob: float = 0.5,
    ) -> None:
        super().__init__(n_outputs, n_chans, n_times, sfreq, drop_prob)
        self.time_attention = TimeAttention(self.n_chans, self.n_times)
        self.time_linear = nn.Linear(self.n_times, self.n_times)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return super().forward(self.time_linear(self.time_attention(x)))
