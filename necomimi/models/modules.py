"""Building blocks shared by the EEG encoders (SPEC.md section 3.1).

Each block is the function the NECOMIMI / ATM reference computes, written once, with
its sizes derived from ``n_chans`` and ``n_times`` so that channel subsets and time
windows work too.
"""

from __future__ import annotations

import math

import torch
from torch import nn

#: Temporal convolution and average pooling of the ShallowNet-style stems (NICE, ATM,
#: MUSE, NervFormer): kernel 25, pooling 51 with stride 5, 40 filters.
TEMPORAL_KERNEL = 25
POOL_KERNEL = 51
POOL_STRIDE = 5
N_FILTERS = 40


def pooled_length(n_times: int, *, model: str) -> int:
    """Time points left after the (1, 25) convolution and the (1, 51)/5 pooling.

    Raises
    ------
    ValueError
        If ``n_times`` is too short for the convolution and pooling, naming the model
        and the minimum.
    """
    minimum = TEMPORAL_KERNEL - 1 + POOL_KERNEL
    if n_times < minimum:
        raise ValueError(
            f"{model}: n_times={n_times} is too short; its temporal convolution "
            f"({TEMPORAL_KERNEL} samples) and average pooling ({POOL_KERNEL} samples) "
            f"need n_times >= {minimum}"
        )
    return (n_times - TEMPORAL_KERNEL + 1 - POOL_KERNEL) // POOL_STRIDE + 1


class PositionalEncoding(nn.Module):
    """Sinusoidal position encoding added to a (sequence, batch, d_model) input.

    Even features get ``sin(pos * w_i)``, odd ones ``cos(pos * w_i)`` with
    ``w_i = exp(-2i ln(10000) / d_model)``; an odd ``d_model`` (63 channels) works.

    Parameters
    ----------
    d_model : int
        Feature size (the number of EEG channels here).
    max_len : int
        Longest sequence supported. Defaults to 5000 as in the reference.
    """

    def __init__(self, d_model: int, max_len: int = 5000) -> None:
        super().__init__()
        position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
        div_term = torch.exp(
            torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model)
        )
        encoding = torch.zeros(max_len, d_model)
        encoding[:, 0::2] = torch.sin(position * div_term)
        encoding[:, 1::2] = torch.cos(position * div_term[: d_model // 2])
        self.register_buffer("encoding", encoding.unsqueeze(1), persistent=False)
        self.max_len = max_len

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return x + self.encoding[: x.size(0)]


class TimeAttention(nn.Module):
    """Self-attention across time points, the "EEGAttention" of ATM and NERV.

    The tokens are the time points and the features are the channels: the input
    (batch, n_chans, n_times) becomes a sequence of ``n_times`` tokens of size
    ``n_chans``, gets a sinusoidal position encoding and goes through one PyTorch
    ``TransformerEncoderLayer`` with its defaults (feed-forward 2048, dropout 0.1,
    ReLU, post-LayerNorm), then back to (batch, n_chans, n_times).

    Differs from the reference in one dead detail only: the reference also registers
    the layer it deep-copies into the encoder (276,539 unused parameters for 63
    channels); it is registered once here.

    Parameters
    ----------
    n_chans : int
        Number of EEG channels (the model dimension).
    n_times : int
        Number of time points; must not exceed the position encoding's 5000.
    nhead : int
        Attention heads; must divide ``n_chans``. Defaults to 1 as in the reference.
    """

    def __init__(self, n_chans: int, n_times: int, nhead: int = 1) -> None:
        super().__init__()
        if n_chans % nhead:
            raise ValueError(f"TimeAttention: nhead={nhead} must divide n_chans={n_chans}")
        self.position = PositionalEncoding(n_chans)
        if n_times > self.position.max_len:
            raise ValueError(f"TimeAttention: n_times={n_times} exceeds {self.position.max_len}")
        layer = nn.TransformerEncoderLayer(d_model=n_chans, nhead=nhead)
        self.encoder = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        tokens = self.position(x.permute(2, 0, 1))  # (n_times, batch, n_chans)
        return self.encoder(tokens).permute(1, 2, 0)


class ShallowPatchEmbedding(nn.Module):
    """Temporal-then-spatial convolution stem of NICE and ATM ("PatchEmbedding").

    On (batch, 1, n_chans, n_times): Conv2d(1, 40, (1, 25)) -> AvgPool2d((1, 51),
    (1, 5)) -> BatchNorm -> ELU -> Conv2d(40, 40, (n_chans, 1)) -> BatchNorm -> ELU
    -> Dropout -> Conv2d(40, 40, 1), flattened to (batch, 40 * n_pooled); 1440 for 250
    time points.

    Parameters
    ----------
    n_chans, n_times : int
        Input size; the spatial kernel spans all channels.
    drop_prob : float
        Dropout after the spatial convolution. Defaults to 0.5 as in the reference.
    model : str
        Name used in error messages.
    """

    def __init__(self, n_chans: int, n_times: int, drop_prob: float = 0.5, model: str = "encoder") -> None:
        super().__init__()
        self.n_features = N_FILTERS * pooled_length(n_times, model=model)
        self.temporal_spatial = nn.Sequential(
            nn.Conv2d(1, N_FILTERS, (1, TEMPORAL_KERNEL)),
            nn.AvgPool2d((1, POOL_KERNEL), (1, POOL_STRIDE)),
            nn.BatchNorm2d(N_FILTERS),
            nn.ELU(),
            nn.Conv2d(N_FILTERS, N_FILTERS, (n_chans, 1)),
            nn.BatchNorm2d(N_FILTERS),
            nn.ELU(),
            nn.Dropout(drop_prob),
        )
        self.projection = nn.Conv2d(N_FILTERS, N_FILTERS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        features = self.projection(self.temporal_spatial(x.unsqueeze(1)))  # (b, 40, 1, t)
        return features.squeeze(2).transpose(1, 2).flatten(1)  # (b, t * 40), time-major


class ResidualAdd(nn.Module):
    """``x + f(x)``."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return x + self.inner(x)


class ProjectionHead(nn.Sequential):
    """The NICE/ATM embedding head ("Proj_eeg"): features to the CLIP space.

    Linear(in, out) -> x + Dropout(Linear(GELU(x))) -> LayerNorm(out). The output is
    a LayerNorm output, not L2-normalised (the loss normalises); 2,527,232 parameters
    for 1440 -> 1024.

    Parameters
    ----------
    n_features : int
        Input size (1440 for 250 time points).
    n_outputs : int
        Embedding size (1024, OpenCLIP ViT-H-14).
    drop_prob : float
        Dropout in the residual branch. Defaults to 0.5 as in the reference.
    """

    def __init__(self, n_features: int, n_outputs: int, drop_prob: float = 0.5) -> None:
        super().__init__(
            nn.Linear(n_features, n_outputs),
            ResidualAdd(nn.Sequential(nn.GELU(), nn.Linear(n_outputs, n_outputs), nn.Dropout(drop_prob))),
            nn.LayerNorm(n_outputs),
        )


class NervFormerCore(nn.Module):
    """The dual-branch attention encoder of NervFormer ("NervFormer_EEG").

    On (batch, n_chans, n_times):

    1. InstanceNorm2d over each sample's channel x time map (no affine parameters).
    2. A temporal-then-spatial branch (as :class:`ShallowPatchEmbedding`, without its
       1x1 projection) and a spatial-then-temporal branch (Conv2d(1, 40, (n_chans, 1))
       -> BatchNorm -> ELU -> Conv2d(40, 40, (1, 25)) -> AvgPool2d((1, 51), (1, 5)) ->
       BatchNorm -> ELU -> Dropout), each giving ``n_pooled`` tokens of size 40 (36 for
       250 time points).
    3. Self-attention (5 heads) within each branch, residual, LayerNorm.
    4. The two token sequences concatenated (72 tokens) and passed through one more
       attention layer (8 heads, dropout 0.75 on the attention weights), residual,
       LayerNorm. The reference calls it cross-attention, but its query, key and
       value are the same 72 tokens: it is self-attention over both branches.
    5. Flattened (2880 for 250 time points) -> Linear(2048) -> ReLU -> Dropout ->
       Linear(``n_features_out``).

    9,015,568 parameters for 63 channels and 250 time points.

    Parameters
    ----------
    n_chans, n_times : int
        Input size.
    n_features_out : int
        Output size. Defaults to 1440 as in the reference.
    drop_prob : float
        Dropout of the convolution branches and the feed-forward. Defaults to 0.5.
    att_drop_prob : float
        Dropout on the joint attention's weights. Defaults to 0.75 as in the reference.
    model : str
        Name used in error messages.
    """

    def __init__(
        self,
        n_chans: int,
        n_times: int,
        n_features_out: int = 1440,
        drop_prob: float = 0.5,
        att_drop_prob: float = 0.75,
        model: str = "nervformer",
    ) -> None:
        super().__init__()
        n_tokens = pooled_length(n_times, model=model)
        self.norm = nn.InstanceNorm2d(1)
        self.temporal_spatial = nn.Sequential(
            nn.Conv2d(1, N_FILTERS, (1, TEMPORAL_KERNEL)),
            nn.AvgPool2d((1, POOL_KERNEL), (1, POOL_STRIDE)),
            nn.BatchNorm2d(N_FILTERS),
            nn.ELU(),
            nn.Conv2d(N_FILTERS, N_FILTERS, (n_chans, 1)),
            nn.BatchNorm2d(N_FILTERS),
            nn.ELU(),
            nn.Dropout(drop_prob),
        )
        self.spatial_temporal = nn.Sequential(
            nn.Conv2d(1, N_FILTERS, (n_chans, 1)),
            nn.BatchNorm2d(N_FILTERS),
            nn.ELU(),
            nn.Conv2d(N_FILTERS, N_FILTERS, (1, TEMPORAL_KERNEL)),
            nn.AvgPool2d((1, POOL_KERNEL), (1, POOL_STRIDE)),
            nn.BatchNorm2d(N_FILTERS),
            nn.ELU(),
            nn.Dropout(drop_prob),
        )
        self.attention_ts = nn.MultiheadAttention(N_FILTERS, num_heads=5)
        self.norm_ts = nn.LayerNorm(N_FILTERS)
        self.attention_st = nn.MultiheadAttention(N_FILTERS, num_heads=5)
        self.norm_st = nn.LayerNorm(N_FILTERS)
        self.attention_joint = nn.MultiheadAttention(N_FILTERS, num_heads=8, dropout=att_drop_prob)
        self.norm_joint = nn.LayerNorm(N_FILTERS)
        self.feed_forward = nn.Sequential(
            nn.Linear(2 * n_tokens * N_FILTERS, 2048),
            nn.ReLU(),
            nn.Dropout(drop_prob),
            nn.Linear(2048, n_features_out),
        )

    @staticmethod
    def _attend(attention: nn.MultiheadAttention, norm: nn.LayerNorm, tokens: torch.Tensor) -> torch.Tensor:
        attended, _ = attention(tokens, tokens, tokens, need_weights=False)
        return norm(tokens + attended)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        x = self.norm(x.unsqueeze(1))
        # (batch, 40, 1, tokens) -> (tokens, batch, 40)
        ts = self.temporal_spatial(x).squeeze(2).permute(2, 0, 1)
        st = self.spatial_temporal(x).squeeze(2).permute(2, 0, 1)
        ts = self._attend(self.attention_ts, self.norm_ts, ts)
        st = self._attend(self.attention_st, self.norm_st, st)
        joint = self._attend(self.attention_joint, self.norm_joint, torch.cat([ts, st], dim=0))
        return self.feed_forward(joint.permute(1, 0, 2).flatten(1))
