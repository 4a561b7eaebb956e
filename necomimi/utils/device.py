"""The compute device named in the config."""

from __future__ import annotations

import torch


def resolve_device(name: str) -> torch.device:
    """The torch device for a config value ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.

    ``auto`` is the first CUDA device when one is available, else the CPU.

    Raises
    ------
    ValueError
        If a CUDA device is asked for and none is available.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for (config key 'device') but no CUDA device is available")
    return device
