"""The config's device value, resolved to a torch device or refused with its name."""

from __future__ import annotations

import pytest
import torch

from necomimi.utils.device import resolve_device


def test_cpu_and_auto_without_cuda_are_the_cpu(monkeypatch):
    """``cpu`` is the CPU; ``auto`` is too where CUDA is absent."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("cpu") == resolve_device("auto") == torch.device("cpu")


@pytest.mark.parametrize(
    "name", ["gpu", "cuda0", "CPU", "mps", "meta", "cuda:x", "", None]
)
def test_values_outside_the_config_schema_are_refused_with_their_name(name):
    """Only the schema's values pass, whatever torch itself would accept."""
    with pytest.raises(ValueError, match=f"device {name!r} .*not one of auto, cpu"):
        resolve_device(name)


def test_cuda_devices_must_exist(monkeypatch):
    """A CUDA device is refused where there is none, or fewer than its index needs."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="device 'cuda' .*no CUDA device"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    assert resolve_device("auto") == torch.device("cuda")
    with pytest.raises(ValueError, match="device 'cuda:2' .*has 2 GPU"):
        resolve_device("cuda:2")
