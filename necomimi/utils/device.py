"""The compute device named in the config."""

from __future__ import annotations

import re

import torch

#: The config's ``device`` values (workflow/schemas/config.schema.yaml).
DEVICE_PATTERN = r"auto|cpu|cuda(:[0-9]+)?"


def resolve_device(name: str) -> torch.device:
    """Return the torch device of a config value: ``auto``, ``cpu``, ``cuda[:N]``.

    ``auto`` is the first CUDA device when one is available, else the CPU.

    Raises
    ------
    ValueError
        If ``name`` is none of these, or a CUDA device is asked for that this machine
        does not have.
    """
    where = f"device {name!r} (config key 'device')"
    if not isinstance(name, str) or not re.fullmatch(DEVICE_PATTERN, name):
        raise ValueError(f"{where} is not one of auto, cpu, cuda, cuda:N")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{where} asked for but no CUDA device is available")
    if device.type == "cuda" and device.index is not None:
        if device.index >= (count := torch.cuda.device_count()):
            raise ValueError(f"{where} asked for but this machine has {count} GPU(s)")
    return device
