"""The diffusion prior of NECOMIMI's two-stage generation (SPEC.md 6.2).

A U-Net-shaped MLP that predicts the noise added to a CLIP image embedding, given the
diffusion timestep and, optionally, an EEG embedding as condition. Without a
condition it is the unconditional branch used for classifier-free guidance.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from torch import nn


def _block(in_features: int, out_features: int, dropout: float | None) -> nn.Sequential:
    """Linear -> LayerNorm -> SiLU (-> Dropout)."""
    layers = [nn.Linear(in_features, out_features), nn.LayerNorm(out_features), nn.SiLU()]
    if dropout is not None:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class DiffusionPriorUNet(nn.Module):
    """Noise predictor of the diffusion prior: an MLP U-Net over embeddings.

    The input embedding is projected to ``hidden_dim[0]``, then contracted through
    ``hidden_dim`` and expanded back with skip connections. Before every layer the
    sinusoidal timestep features (through a per-layer ``TimestepEmbedding``) and a
    linear projection of the condition are added. With the defaults (the paper's
    configuration, SPEC.md 6.2) it has 9,675,648 parameters.

    Parameters
    ----------
    embed_dim : int
        Size of the diffused embedding (CLIP image embedding; 1024 for ViT-H-14).
    cond_dim : int
        Size of the condition (the EEG encoder's output).
    hidden_dim : sequence of int
        Widths of the encoder levels, widest first; the decoder mirrors them.
    time_embed_dim : int
        Size of the sinusoidal timestep features.
    dropout : float
        Dropout after every encoder and decoder layer.

    References
    ----------
    NECOMIMI (arXiv 2410.00712), section 3 "two-stage generation"; the network is the
    ATM prior (Li et al., NeurIPS 2024) used unchanged.
    """

    def __init__(
        self,
        embed_dim: int = 1024,
        cond_dim: int = 1024,
        hidden_dim: Sequence[int] = (1024, 512, 256, 128, 64),
        time_embed_dim: int = 512,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        hidden_dim = [int(d) for d in hidden_dim]
        if len(hidden_dim) < 2:
            raise ValueError(f"hidden_dim needs at least two widths, got {hidden_dim}")
        self.config = {
            "embed_dim": embed_dim,
            "cond_dim": cond_dim,
            "hidden_dim": hidden_dim,
            "time_embed_dim": time_embed_dim,
            "dropout": dropout,
        }
        widest, levels = hidden_dim[0], list(zip(hidden_dim[:-1], hidden_dim[1:], strict=True))
        self.time_proj = Timesteps(time_embed_dim, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.input_layer = _block(embed_dim, widest, dropout=None)
        self.encode_time = nn.ModuleList(TimestepEmbedding(time_embed_dim, wide) for wide, _ in levels)
        self.encode_cond = nn.ModuleList(nn.Linear(cond_dim, wide) for wide, _ in levels)
        self.encode_layers = nn.ModuleList(_block(wide, narrow, dropout) for wide, narrow in levels)
        decoder_levels = [(narrow, wide) for wide, narrow in reversed(levels)]
        self.decode_time = nn.ModuleList(TimestepEmbedding(time_embed_dim, narrow) for narrow, _ in decoder_levels)
        self.decode_cond = nn.ModuleList(nn.Linear(cond_dim, narrow) for narrow, _ in decoder_levels)
        self.decode_layers = nn.ModuleList(_block(narrow, wide, dropout) for narrow, wide in decoder_levels)
        self.output_layer = nn.Linear(widest, embed_dim)

    def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Predict the noise in ``x`` at timesteps ``t``, conditioned on ``c`` if given.

        Parameters
        ----------
        x : torch.Tensor
            (batch, embed_dim) noisy embeddings.
        t : torch.Tensor
            (batch,) integer timesteps.
        c : torch.Tensor, optional
            (batch, cond_dim) conditions; ``None`` for the unconditional branch.

        Returns
        -------
        torch.Tensor
            (batch, embed_dim) predicted noise.
        """
        t = self.time_proj(t).to(x.dtype)
        x = self.input_layer(x)
        skips = []
        for time, cond, layer in zip(self.encode_time, self.encode_cond, self.encode_layers, strict=True):
            skips.append(x)
            x = layer(x + time(t) + (cond(c) if c is not None else 0))
        decoder = zip(self.decode_time, self.decode_cond, self.decode_layers, reversed(skips), strict=True)
        for time, cond, layer, skip in decoder:
            x = layer(x + time(t) + (cond(c) if c is not None else 0)) + skip
        return self.output_layer(x)
