"""MetaEEG: the brain-decoding convolutional encoder ("B.D." baseline)."""

from __future__ import annotations

import torch
from torch import nn

from necomimi.models.encoders._base import EEGEncoder
from necomimi.models.modules import TimeAttention


class _ConvBlock(nn.Module):
    """Three (Conv1d k=3 -> GELU -> LayerNorm over time) layers plus a 1x1 residual."""

    def __init__(self, n_chans: int, n_times: int, n_features: int) -> None:
        super().__init__()
        self.residual = nn.Conv1d(n_chans, n_features, kernel_size=1)
        layers = []
        for n_in in (n_chans, n_features, n_features):
            layers += [nn.Conv1d(n_in, n_features, kernel_size=3, padding=1), nn.GELU(), nn.LayerNorm(n_times)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.layers(x) + self.residual(x)


class MetaEEG(EEGEncoder):
    """MetaEEG encoder: time attention, convolutions, then aggregation of feature maps.

    (batch, n_chans, n_times) -> :class:`~necomimi.models.modules.TimeAttention` ->
    Linear(n_times, n_times) -> three 1-D convolutions to 250 feature maps with
    LayerNorm over time and a residual -> Linear(n_times, 1024) on each map ->
    Linear(250, 1) across the maps -> final layer LayerNorm -> Linear(1024, 1024) ->
    GELU -> Dropout. 2,088,712 parameters with the defaults.

    As ``MetaEEG`` in ``Retrieval/contrast_insuject_Meta.py`` of
    ChiShengChen/EEG_gen_img_NECOMIMI @ 0ee85fa (SPEC.md 3.10), adapted from the brain
    decoding model of Défossez et al. The reference's "temporal aggregation" in fact
    aggregates the 250 convolutional feature maps; that is kept. Dropped: the unused
    ``mse_head`` (no MSE loss exists), the twice-registered transformer layer and the
    logit scale (the loss owns it). The output ends in GELU and dropout, as in the
    reference.

    Parameters
    ----------
    n_features : int
        Convolutional feature maps. Defaults to 250 as in the reference.
    drop_prob : float
        Dropout of the final layer. Defaults to 0.25 as in the reference.

    References
    ----------
    .. [1] Défossez, A., Caucheteux, C., Rapin, J., Kabeli, O., & King, J.-R. (2023).
           Decoding speech perception from non-invasive brain recordings. Nature
           Machine Intelligence, 5, 1097-1107.
    """

    def __init__(
        self,
        n_outputs: int = 1024,
        n_chans: int = 63,
        n_times: int = 250,
        sfreq: float = 250.0,
        n_features: int = 250,
        drop_prob: float = 0.25,
    ) -> None:
        super().__init__(n_outputs, n_chans, n_times, sfreq)
        self.n_features = n_features
        self.drop_prob = drop_prob
        self.time_attention = TimeAttention(self.n_chans, self.n_times)
        self.time_linear = nn.Linear(self.n_times, self.n_times)
        self.conv_block = _ConvBlock(self.n_chans, self.n_times, n_features)
        self.to_embedding = nn.Linear(self.n_times, self.n_outputs)
        self.aggregate = nn.Linear(n_features, 1)
        self.final_layer = nn.Sequential(
            nn.LayerNorm(self.n_outputs),
            nn.Linear(self.n_outputs, self.n_outputs),
            nn.GELU(),
            nn.Dropout(drop_prob),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        maps = self.conv_block(self.time_linear(self.time_attention(x)))  # (b, features, times)
        embedded = self.to_embedding(maps).transpose(1, 2)  # (b, n_outputs, features)
        return self.final_layer(self.aggregate(embedded).squeeze(-1))
