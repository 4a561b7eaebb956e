"""GPU requests of the workflow's jobs, decided without importing torch."""

from __future__ import annotations

import glob

#: Device files of NVIDIA GPUs on Linux.
NVIDIA_DEVICE_FILES = "/dev/nvidia[0-9]*"


def nvidia_gpu_visible() -> bool:
    """Whether this machine shows an NVIDIA GPU (its device files)."""
    return bool(glob.glob(NVIDIA_DEVICE_FILES))


def job_gpus(device: str) -> int:
    """GPUs a job of a GPU stage asks for under the config's ``device``.

    One for ``cuda`` or ``cuda:N``, and for ``auto`` on a machine with an NVIDIA GPU;
    none for ``cpu``. Parsing a workflow stays fast: torch is not imported.
    """
    if device.startswith("cuda"):
        return 1
    return int(device == "auto" and nvidia_gpu_visible())
