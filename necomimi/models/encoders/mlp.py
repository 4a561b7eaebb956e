"""MLP projector: an MLP-Mixer-style encoder over time and channels."""

from __future__ import annotations

import torch
from torch import nn

from necomimi.models.encoders._base import EEGEncoder


class _Transpose(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2)


def _mix(n_in: int, n_out: int, drop_prob: float) -> list[nn.Module]:
    """LayerNorm -> Linear -> GELU -> Dropout on the last axis, then swap the axes."""
    return [nn.LayerNorm(n_in), nn.Linear(n_in, n_out), nn.GELU(), nn.Dropout(drop_prob), _Transpose()]


class MLPProjector(EEGEncoder):
    """MLP projector: alternating linear mixing over the two axes, no convolution.

    (batch, n_chans, n_times) -> [time -> 1024, channels -> 64] -> two blocks of
    [1024 -> 1024, 64 -> 64] -> [1024 -> 1024, 64 -> 1] -> (batch, 1024). Each step is
    LayerNorm -> Linear -> GELU -> Dropout on the last axis followed by a transpose.
    3,425,459 parameters with the defaults.

    As the ``Projector`` of ``Retrieval/contrast_insubject_MLP.py`` of
    ChiShengChen/EEG_gen_img_NECOMIMI @ 0ee85fa (SPEC.md 3.11), except that the
    reference L2-normalises its output (the only encoder that does) and this one does
    not, since the loss normalises; the logit scale also lives in the loss.

    Parameters
    ----------
    n_tokens : int
        Width of the channel axis after the first mixing. Defaults to 64.
    drop_prob : float
        Dropout everywhere. Defaults to 0.25 as in the reference.
    """

    def __init__(
        self,
        n_outputs: int = 1024,
        n_chans: int = 63,
        n_times: int = 250,
        sfreq: float = 250.0,
        n_tokens: int = 64,
        drop_prob: float = 0.25,
    ) -> None:
        super().__init__(n_outputs, n_chans, n_times, sfreq)
        self.n_tokens = n_tokens
        self.drop_prob = drop_prob
        d = self.n_outputs
        self.mixer = nn.Sequential(
            *_mix(self.n_times, d, drop_prob),
            *_mix(self.n_chans, n_tokens, drop_prob),
            *_mix(d, d, drop_prob),
            *_mix(n_tokens, n_tokens, drop_prob),
            *_mix(d, d, drop_prob),
            *_mix(n_tokens, n_tokens, drop_prob),
        )
        self.final_layer = nn.Sequential(*_mix(d, d, drop_prob), *_mix(n_tokens, 1, drop_prob), nn.Flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.final_layer(self.mixer(x))
