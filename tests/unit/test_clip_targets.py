"""CLIP targets: the stored embeddings, and the device CLIP runs on."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from necomimi.clip.targets import embed_targets, read_targets


def test_targets_are_unit_float32_embeddings_of_every_image_and_concept(
    tiny_dataset, tiny_clip, tmp_path
):
    """Targets on the CPU: float32, unit-norm, one text per concept."""
    embed_targets(
        tiny_dataset / "image_set",
        tmp_path / "targets.h5",
        batch_size=4,
        device="cpu",
        **tiny_clip,
    )
    with h5py.File(tmp_path / "targets.h5", "r") as store:
        assert store.attrs["model"] == "necomimi-tiny-clip"
    for partition in ("training", "test"):
        targets = read_targets(tmp_path / "targets.h5", partition)
        assert targets.image.dtype == targets.text.dtype == np.float32
        assert targets.image.shape[1] == targets.text.shape[1] == 16
        np.testing.assert_allclose(np.linalg.norm(targets.image, axis=1), 1, rtol=1e-5)
        np.testing.assert_allclose(np.linalg.norm(targets.text, axis=1), 1, rtol=1e-5)
        assert targets.concept_of_image.max() == len(targets.text) - 1


def test_clip_runs_on_the_configured_device(
    tiny_dataset, tiny_clip, tmp_path, monkeypatch
):
    """CLIP is moved to the resolved device before it encodes anything.

    The meta device stands for a GPU; the encoders are replaced by stand-ins that record
    the device of the model they are given and return CPU float32 embeddings.
    """
    from necomimi.clip import loading
    from necomimi.utils import device as device_module

    asked, seen = [], []
    monkeypatch.setattr(
        device_module,
        "resolve_device",
        lambda name: asked.append(name) or torch.device("meta"),
    )

    def encode_images(clip, preprocess, paths, batch_size, label):
        seen.append(next(clip.parameters()).device)
        return np.ones((len(paths), 16), dtype=np.float32)

    def encode_text(clip, tokenizer, texts):
        seen.append(next(clip.parameters()).device)
        return torch.ones(len(texts), 16)

    monkeypatch.setattr(loading, "encode_images", encode_images)
    monkeypatch.setattr(loading, "encode_text", encode_text)
    embed_targets(
        tiny_dataset / "image_set",
        tmp_path / "targets.h5",
        batch_size=4,
        device="cuda:0",
        **tiny_clip,
    )
    assert asked == ["cuda:0"] and seen == [torch.device("meta")] * 4
    assert read_targets(tmp_path / "targets.h5", "test").image.dtype == np.float32


def test_an_unknown_device_is_refused_before_clip_is_loaded(tmp_path):
    """A bad ``device`` stops the job before the (large) CLIP is loaded."""
    with pytest.raises(ValueError, match="device 'gpu'"):
        embed_targets(
            tmp_path,
            tmp_path / "targets.h5",
            model="ViT-H-14",
            pretrained=tmp_path / "absent.bin",
            model_config=None,
            batch_size=4,
            device="gpu",
        )
    assert not (tmp_path / "targets.h5").exists()
