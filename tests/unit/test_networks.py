"""Feature networks of the metrics: random weights saved to files, loaded offline.

Each network is built here with random weights (independently of the module under
test), saved as its published file would be, loaded through
:func:`load_feature_network`, and its features compared with a direct forward of the
saved model, preprocessed as MindEye's metric code does.
"""

from __future__ import annotations

import logging
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import pytorch_fid.inception
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from pytorch_fid.inception import (
    FIDInceptionA,
    FIDInceptionC,
    FIDInceptionE_1,
    FIDInceptionE_2,
    _inception_v3,
)
from torch import nn
from torch.nn import functional as F
from torchvision import models, transforms
from torchvision.models.feature_extraction import create_feature_extractor

from necomimi.metrics import FEATURE_NETWORKS, load_feature_network
from necomimi.utils.hashing import file_sha256

N_IMAGES, SIDE = 3, 64
#: Square input side of MindEye's preprocessing for the torchvision networks.
SIZES = {"alexnet": 256, "inception_v3": 342, "efficientnet_b1": 255, "swav": 224}
DIMS = {
    "fid_inception": {"pool3": 2048},
    "alexnet": {"features.4": 192 * 31 * 31, "features.11": 256 * 15 * 15},
    "inception_v3": {"avgpool": 2048},
    "efficientnet_b1": {"avgpool": 1280},
    "swav": {"avgpool": 2048},
}


@pytest.fixture(scope="module", autouse=True)
def no_network():
    """Every download route of torch.hub and urllib fails loudly in this module."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:1]}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.hub, "download_url_to_file", refuse)
        patch.setattr(urllib.request, "urlopen", refuse)
        yield


def _fid_inception() -> nn.Module:
    """Build the FID Inception as pytorch_fid.inception.fid_inception_v3 does."""
    model = _inception_v3(num_classes=1008, aux_logits=False, weights=None)
    model.Mixed_5b = FIDInceptionA(192, pool_features=32)
    model.Mixed_5c = FIDInceptionA(256, pool_features=64)
    model.Mixed_5d = FIDInceptionA(288, pool_features=64)
    model.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    model.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    model.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    model.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    model.Mixed_7b = FIDInceptionE_1(1280)
    model.Mixed_7c = FIDInceptionE_2(2048)
    return model


ARCHITECTURES = {
    "fid_inception": _fid_inception,
    "alexnet": models.alexnet,
    "inception_v3": lambda: models.inception_v3(
        aux_logits=True, transform_input=True, init_weights=False
    ),
    "efficientnet_b1": models.efficientnet_b1,
    "swav": models.resnet50,
}


def _published_format(name: str, model: nn.Module) -> dict:
    """Arrange a state dict as its published file does (SwAV: DDP prefix, no fc)."""
    state = model.state_dict()
    if name == "swav":
        return {
            "state_dict": {
                f"module.{key}": value
                for key, value in state.items()
                if not key.startswith("fc.")
            }
        }
    return state


def _reference_features(
    name: str, model: nn.Module, images: list[Image.Image]
) -> dict[str, np.ndarray]:
    """Features of a direct forward, preprocessed as MindEye / pytorch-fid do."""
    batch = torch.stack([TF.to_tensor(image) for image in images])
    if name == "fid_inception":  # InceptionV3(resize_input, normalize_input)
        resized = F.interpolate(batch, (299, 299), mode="bilinear", align_corners=False)
        batch, nodes = 2 * resized - 1, {"avgpool": "pool3"}
    else:
        preprocess = transforms.Compose(
            [
                transforms.Resize((SIZES[name], SIZES[name]), antialias=True),
                transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            ]
        )
        batch, nodes = preprocess(batch), {layer: layer for layer in DIMS[name]}
    with warnings.catch_warnings():  # inception: train/eval graphs differ (AuxLogits)
        warnings.filterwarnings("ignore", "NOTE: The nodes obtained by tracing")
        extractor = create_feature_extractor(model.eval(), return_nodes=nodes)
    with torch.no_grad():
        outputs = extractor(batch)
    return {layer: output.flatten(1).numpy() for layer, output in outputs.items()}


def _close(actual: np.ndarray, desired: np.ndarray, rtol: float) -> bool:
    """Equal up to ``rtol``, relative to the largest value (random nets are tiny)."""
    atol = rtol * float(np.abs(desired).max())
    return np.allclose(actual, desired, rtol=rtol, atol=atol)


def _noise_images(n: int, seed: int, side: int = SIDE) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
        for _ in range(n)
    ]


@dataclass
class Saved:
    """A network's random model and the file it was saved to."""

    name: str
    model: nn.Module
    path: Path


@pytest.fixture(scope="module", params=list(FEATURE_NETWORKS))
def saved(request, tmp_path_factory) -> Saved:
    """One network with random weights, saved as its published file."""
    name = request.param
    torch.manual_seed(1234)
    model = ARCHITECTURES[name]().eval()
    path = tmp_path_factory.mktemp(name) / FEATURE_NETWORKS[name].weights_file
    torch.save(_published_format(name, model), path)
    return Saved(name, model, path)


def test_features_come_from_the_saved_weights(saved, caplog):
    """Shapes, determinism, and equality with a forward of the saved model."""
    images = _noise_images(N_IMAGES, seed=0)
    with caplog.at_level(logging.WARNING, logger="necomimi.metrics.networks"):
        network = load_feature_network(saved.name, saved.path)
    assert network.name == saved.name
    assert network.layers == tuple(DIMS[saved.name])
    assert network.weights_sha256 == file_sha256(saved.path)
    published = FEATURE_NETWORKS[saved.name].published_sha256
    if published:  # random weights are not the published file: said, not refused
        assert "not comparable with the paper's" in caplog.text
        assert published[0] in caplog.text

    features = network.features(images)
    assert {layer: array.shape for layer, array in features.items()} == {
        layer: (N_IMAGES, dim) for layer, dim in DIMS[saved.name].items()
    }
    assert all(array.dtype == np.float32 for array in features.values())
    assert all(array.std() > 0 for array in features.values())
    assert all(not _close(array[0], array[1], rtol=1e-2) for array in features.values())
    repeated = network.features(images)
    for layer, array in features.items():
        np.testing.assert_array_equal(repeated[layer], array)  # deterministic

    # the saved weights, not fresh random ones: a freshly built network differs
    reference = _reference_features(saved.name, saved.model, images)
    for layer, array in features.items():
        assert _close(array, reference[layer], rtol=1e-4)


def test_fid_inception_is_built_once_offline_and_pytorch_fid_restored(
    tmp_path, monkeypatch, caplog
):
    """pytorch-fid wraps the one network built and loaded here; nothing is downloaded."""
    torch.manual_seed(0)
    path = tmp_path / "fid.pth"
    torch.save(_fid_inception().state_dict(), path)
    torch_home = tmp_path / "torch_home"
    torch_home.mkdir()
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    built = []
    architecture = pytorch_fid.inception._inception_v3

    def counted(*args, **kwargs):
        built.append(kwargs)
        return architecture(*args, **kwargs)

    monkeypatch.setattr(pytorch_fid.inception, "_inception_v3", counted)
    original = pytorch_fid.inception.fid_inception_v3
    with caplog.at_level(logging.WARNING, logger="necomimi.metrics.networks"):
        network = load_feature_network("fid_inception", path, cache_dir=tmp_path / "cache")
    assert len(built) == 1  # one InceptionV3 per load, not one to check the keys and one to run
    assert isinstance(network.model, pytorch_fid.inception.InceptionV3)
    assert "6726825d" in caplog.text and file_sha256(path)[:8] in caplog.text
    assert pytorch_fid.inception.fid_inception_v3 is original  # restored
    assert not any(torch_home.iterdir())  # nothing cached or downloaded there
    # the features are those of the saved weights
    loaded = network.model.blocks[0][0].conv.weight
    torch.testing.assert_close(loaded, torch.load(path, weights_only=True)["Conv2d_1a_3x3.conv.weight"])

    def broken(*args, **kwargs):
        raise RuntimeError("construction failed")

    monkeypatch.setattr(pytorch_fid.inception, "InceptionV3", broken)
    with pytest.raises(RuntimeError, match="construction failed"):
        load_feature_network("fid_inception", path, cache_dir=tmp_path / "cache")
    assert pytorch_fid.inception.fid_inception_v3 is original


def test_weights_hashes_are_read_from_the_cache(tmp_path):
    """A remembered SHA-256 is used while the file is unchanged (no rehash)."""
    torch.manual_seed(7)
    saved = tmp_path / "alexnet.pth"
    torch.save(models.alexnet().state_dict(), saved)
    cache = tmp_path / "cache"
    assert load_feature_network("alexnet", saved, cache_dir=cache).weights_sha256 == file_sha256(saved)
    (entry,) = cache.glob("*.json")
    entry.write_text(entry.read_text().replace(file_sha256(saved), "remembered"))
    assert load_feature_network("alexnet", saved, cache_dir=cache).weights_sha256 == "remembered"


def test_swav_accepts_a_plain_torchvision_resnet50(tmp_path):
    """No prefix, no wrapper, with fc: the same backbone features."""
    torch.manual_seed(5)
    model = models.resnet50().eval()
    path = tmp_path / "resnet50.pth"
    torch.save(model.state_dict(), path)
    images = _noise_images(2, seed=1)
    features = load_feature_network("swav", path).features(images)["avgpool"]
    reference = _reference_features("swav", model, images)["avgpool"]
    assert _close(features, reference, rtol=1e-4)


def test_images_of_any_size_and_mode(tmp_path):
    """Any size and mode, any batch size; non-images and no images are refused."""
    torch.manual_seed(6)
    path = tmp_path / "efficientnet_b1.pth"
    torch.save(models.efficientnet_b1().state_dict(), path)
    network = load_feature_network("efficientnet_b1", path)
    images = [
        _noise_images(1, seed=2, side=40)[0].convert("L"),
        _noise_images(1, seed=3, side=80)[0].convert("RGBA"),
    ]
    features = network.features(images)["avgpool"]
    assert features.shape == (2, 1280)
    assert _close(network.features(images, batch_size=1)["avgpool"], features, 1e-5)
    with pytest.raises(TypeError, match="image 1: expected a PIL.Image.Image"):
        network.features([images[0], np.zeros((8, 8, 3))])
    with pytest.raises(ValueError, match="at least one image"):
        network.features([])


def test_unknown_network_lists_the_known_ones(tmp_path):
    """An unknown name is refused with the list of known ones."""
    with pytest.raises(ValueError, match="unknown feature network 'vgg16'") as error:
        load_feature_network("vgg16", tmp_path / "vgg16.pth")
    assert all(name in str(error.value) for name in FEATURE_NETWORKS)


@pytest.mark.parametrize("name", list(FEATURE_NETWORKS))
def test_missing_file_names_what_to_download(name, tmp_path, monkeypatch):
    """A missing file is named with the file to download, before building anything."""

    def constructed(*args, **kwargs):
        raise AssertionError("InceptionV3 constructed without a weights file")

    monkeypatch.setattr(pytorch_fid.inception, "InceptionV3", constructed)
    path = tmp_path / "absent.pth"
    with pytest.raises(FileNotFoundError) as error:
        load_feature_network(name, path)
    assert str(path) in str(error.value)
    assert FEATURE_NETWORKS[name].weights_file in str(error.value)


class _NotWeights:
    """A pickled object that torch.load(weights_only=True) refuses."""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"plain text, not a torch file", "cannot read it"),
        (_NotWeights(), "cannot read it"),
        ([torch.zeros(2)], "not a state dict .* but a list"),
        ({"features.0.weight": 3}, "not a state dict"),
    ],
    ids=["text", "arbitrary-object", "list", "non-tensor-values"],
)
def test_a_file_that_is_not_a_state_dict(content, message, tmp_path):
    """Foreign files are refused, naming the file, the network and the file expected."""
    path = tmp_path / "weights.pth"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(ValueError, match=message) as error:
        load_feature_network("alexnet", path)
    assert str(path) in str(error.value) and "'alexnet'" in str(error.value)
    assert "alexnet-owt-7be5be79.pth" in str(error.value)


def test_keys_that_do_not_fit_are_named(tmp_path):
    """Missing and unexpected keys are named (fc may be missing for SwAV)."""
    path = tmp_path / "other.pth"
    torch.save({"module.head.weight": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="do not fit network 'swav'") as error:
        load_feature_network("swav", path)
    text = str(error.value)
    assert str(path) in text and "swav_800ep_pretrain.pth.tar" in text
    assert "missing keys (first: conv1.weight, bn1.weight" in text
    assert "1 unexpected keys (first: head.weight)" in text
    assert "fc.weight" not in text  # the one part SwAV's file may lack


def test_keys_of_the_wrong_shape_are_named(tmp_path):
    """A key of the wrong shape is named with both shapes."""
    state = models.efficientnet_b1(num_classes=10).state_dict()
    path = tmp_path / "efficientnet_b1_10_classes.pth"
    torch.save(state, path)
    with pytest.raises(
        ValueError, match="do not fit network 'efficientnet_b1'"
    ) as error:
        load_feature_network("efficientnet_b1", path)
    assert "classifier.1.weight (10, 1280) instead of (1000, 1280)" in str(error.value)
    assert "missing keys" not in str(error.value)
