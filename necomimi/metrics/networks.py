"""The image-feature networks of the reconstruction metrics, loaded from local files.

The field's metric suite (MindEye, ATM ``evaluate.py``; PAPER.md 2.1) compares
generated and ground-truth images in the feature spaces of five pretrained networks.
Each is built here with random weights and then filled from a weights file the user
downloaded once; nothing is ever downloaded:

- ``fid_inception``: pytorch-fid's FID InceptionV3, ``pool3`` features (the FID);
- ``alexnet``: AlexNet ``features.4`` and ``features.11`` (AlexNet(2) and (5));
- ``inception_v3``: torchvision's InceptionV3, ``avgpool`` (Inception);
- ``efficientnet_b1``: EfficientNet-B1, ``avgpool`` (EffNet-B);
- ``swav``: the SwAV ResNet-50 backbone, ``avgpool`` (SwAV).

Every feature is the named module's output flattened per image, as MindEye's
``create_feature_extractor(...)[layer].flatten(1)``. Images are preprocessed as the
reference code does: RGB in [0, 1], resized bilinearly to the network's square input
size, ImageNet mean/std normalisation (pytorch-fid normalises inside its model).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F

from necomimi.utils.hashing import SHA256_CACHE_DIR, cached_file_sha256

logger = logging.getLogger(__name__)

#: ImageNet channel statistics of torchvision's classification weights.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: How many keys an error message lists per kind of mismatch.
_SHOWN_KEYS = 5


@dataclass(frozen=True)
class NetworkSpec:
    """How one feature network is built, fed and filled from its weights file.

    Attributes
    ----------
    build : callable
        Builds the architecture whose ``state_dict`` the weights file holds, with
        random weights and without downloading anything.
    layers : tuple of str
        Names of the returned features.
    modules : tuple of str
        The module of the model whose output each layer is (same order as ``layers``).
    input_size : int
        Side of the square that images are resized to (bilinear).
    antialias : bool
        Whether the resize antialiases (torchvision's ``Resize`` default on tensors).
    normalise : bool
        Whether to apply the ImageNet mean/std normalisation.
    weights_file : str
        Name of the file users download.
    weights_url : str
        Where it is published.
    published_sha256 : tuple of str
        First 8 hex digits of the SHA-256 of the published file(s); other files load
        with a warning that the metric is not comparable with published values.
    strip_prefix : str
        Key prefix removed where present (``module.`` of a DistributedDataParallel).
    may_be_missing : tuple of str
        Key prefixes of the architecture the file may lack (they stay random).
    ignored : tuple of str
        Key prefixes of the file that are not part of the architecture, ignored.
    assemble : callable or None
        ``assemble(model)`` wraps the model ``build()`` made and the weights filled
        into the network used (pytorch-fid's ``InceptionV3``); None: the model itself.
    """

    build: Callable[[], nn.Module]
    layers: tuple[str, ...]
    modules: tuple[str, ...]
    input_size: int
    antialias: bool
    normalise: bool
    weights_file: str
    weights_url: str
    published_sha256: tuple[str, ...] = ()
    strip_prefix: str = ""
    may_be_missing: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    assemble: Callable[[nn.Module], nn.Module] | None = field(default=None, repr=False)


def _fid_inception_architecture() -> nn.Module:
    """pytorch-fid's ``fid_inception_v3`` without its download: random weights."""
    from pytorch_fid import inception as fid

    model = fid._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    model.Mixed_5b = fid.FIDInceptionA(192, pool_features=32)
    model.Mixed_5c = fid.FIDInceptionA(256, pool_features=64)
    model.Mixed_5d = fid.FIDInceptionA(288, pool_features=64)
    model.Mixed_6b = fid.FIDInceptionC(768, channels_7x7=128)
    model.Mixed_6c = fid.FIDInceptionC(768, channels_7x7=160)
    model.Mixed_6d = fid.FIDInceptionC(768, channels_7x7=160)
    model.Mixed_6e = fid.FIDInceptionC(768, channels_7x7=192)
    model.Mixed_7b = fid.FIDInceptionE_1(1280)
    model.Mixed_7c = fid.FIDInceptionE_2(2048)
    return model


def _assemble_fid_inception(model: nn.Module) -> nn.Module:
    """pytorch-fid's ``InceptionV3`` (pool3 block) around ``model``, already loaded.

    pytorch-fid takes no path: its constructor builds its Inception through
    ``fid_inception_v3()``, which downloads the weights. For the construction only,
    that function is replaced by one returning ``model``, the architecture built and
    filled from the local file here, so the network is built once and nothing is
    downloaded.
    """
    from pytorch_fid import inception as fid

    build = fid.fid_inception_v3
    fid.fid_inception_v3 = lambda: model
    try:
        return fid.InceptionV3(
            output_blocks=[3],  # BLOCK_INDEX_BY_DIM[2048]: the final pool
            resize_input=True,
            normalize_input=True,
            use_fid_inception=True,
        )
    finally:
        fid.fid_inception_v3 = build


def _alexnet() -> nn.Module:
    from torchvision.models import alexnet

    return alexnet()


def _inception_v3() -> nn.Module:
    from torchvision.models import inception_v3

    # as torchvision builds it for its IMAGENET1K_V1 weights
    return inception_v3(aux_logits=True, transform_input=True, init_weights=False)


def _efficientnet_b1() -> nn.Module:
    from torchvision.models import efficientnet_b1

    return efficientnet_b1()


def _resnet50() -> nn.Module:
    from torchvision.models import resnet50

    return resnet50()


#: Registry: network name -> :class:`NetworkSpec`.
FEATURE_NETWORKS: dict[str, NetworkSpec] = {
    "fid_inception": NetworkSpec(
        build=_fid_inception_architecture,
        layers=("pool3",),
        modules=("blocks.3.3",),  # the final adaptive average pool
        input_size=299,  # what InceptionV3(resize_input=True) resizes to itself
        antialias=False,  # F.interpolate as pytorch-fid calls it
        normalise=False,  # InceptionV3(normalize_input=True) maps [0, 1] to [-1, 1]
        weights_file="pt_inception-2015-12-05-6726825d.pth",
        weights_url="https://github.com/mseitzer/pytorch-fid/releases/download/"
        "fid_weights/pt_inception-2015-12-05-6726825d.pth",
        published_sha256=("6726825d",),
        assemble=_assemble_fid_inception,
    ),
    "alexnet": NetworkSpec(
        build=_alexnet,
        layers=("features.4", "features.11"),
        modules=("features.4", "features.11"),
        input_size=256,
        antialias=True,
        normalise=True,
        weights_file="alexnet-owt-7be5be79.pth",
        weights_url="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
        published_sha256=("7be5be79",),
    ),
    "inception_v3": NetworkSpec(
        build=_inception_v3,
        layers=("avgpool",),
        modules=("avgpool",),
        input_size=342,
        antialias=True,
        normalise=True,
        weights_file="inception_v3_google-0cc3c7bd.pth",
        weights_url="https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
        published_sha256=("0cc3c7bd",),
    ),
    "efficientnet_b1": NetworkSpec(
        # MindEye/ATM take EfficientNet_B1_Weights.DEFAULT, which is IMAGENET1K_V2;
        # IMAGENET1K_V1 (efficientnet_b1_rwightman-bac287d4.pth) fits the same
        # architecture but gives other features: it loads with a warning.
        build=_efficientnet_b1,
        layers=("avgpool",),
        modules=("avgpool",),
        input_size=255,
        antialias=True,
        normalise=True,
        weights_file="efficientnet_b1-c27df63c.pth",
        weights_url="https://download.pytorch.org/models/efficientnet_b1-c27df63c.pth",
        published_sha256=("c27df63c",),
    ),
    "swav": NetworkSpec(
        # as facebookresearch/swav's hubconf: torchvision resnet50, "module." removed,
        # load_state_dict(strict=False); fc stays random, the SwAV heads are unused
        build=_resnet50,
        layers=("avgpool",),
        modules=("avgpool",),
        input_size=224,
        antialias=True,
        normalise=True,
        weights_file="swav_800ep_pretrain.pth.tar",
        weights_url="https://dl.fbaipublicfiles.com/deepcluster/swav_800ep_pretrain.pth.tar",
        strip_prefix="module.",
        may_be_missing=("fc.",),
        ignored=("projection_head.", "prototypes."),
    ),
}


def _spec(name: str) -> NetworkSpec:
    if name not in FEATURE_NETWORKS:
        known = ", ".join(FEATURE_NETWORKS)
        raise ValueError(f"unknown feature network {name!r}; known networks: {known}")
    return FEATURE_NETWORKS[name]


def _read_state_dict(
    path: Path, name: str, spec: NetworkSpec
) -> dict[str, torch.Tensor]:
    """Read the tensors of a weights file, unwrapped, with the prefix removed."""
    expected = f"expected {spec.weights_file} ({spec.weights_url})"
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many types for foreign files
        raise ValueError(
            f"{path}: torch.load(weights_only=True) cannot read it as the weights of "
            f"network {name!r} ({type(error).__name__}: {error}); {expected}"
        ) from error
    if isinstance(content, Mapping) and isinstance(content.get("state_dict"), Mapping):
        content = content["state_dict"]  # a training checkpoint {"state_dict": ...}
    if not isinstance(content, Mapping) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor)
        for key, value in content.items()
    ):
        raise ValueError(
            f"{path}: not a state dict (a mapping of parameter names to tensors) but "
            f"a {type(content).__name__}, for network {name!r}; {expected}"
        )
    prefix = spec.strip_prefix
    return {
        (key[len(prefix) :] if prefix and key.startswith(prefix) else key): value
        for key, value in content.items()
    }


def _check_keys(
    path: Path,
    name: str,
    spec: NetworkSpec,
    state: Mapping[str, torch.Tensor],
    reference: Mapping[str, torch.Tensor],
) -> None:
    """Raise unless ``state`` fits the architecture's ``reference`` state dict."""
    missing = [
        key
        for key in reference
        if key not in state
        and not key.endswith("num_batches_tracked")  # absent from old checkpoints
        and not key.startswith(spec.may_be_missing)
    ]
    unexpected = [
        key
        for key in state
        if key not in reference and not key.startswith(spec.ignored)
    ]
    wrong_shape = [
        f"{key} {tuple(state[key].shape)} instead of {tuple(reference[key].shape)}"
        for key in reference
        if key in state and state[key].shape != reference[key].shape
    ]
    problems = [
        f"{len(keys)} {kind} (first: {', '.join(keys[:_SHOWN_KEYS])})"
        for kind, keys in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("keys of the wrong shape", wrong_shape),
        )
        if keys
    ]
    if problems:
        raise ValueError(
            f"{path}: the weights do not fit network {name!r}: {'; '.join(problems)}; "
            f"expected {spec.weights_file} ({spec.weights_url})"
        )


def _load_model(path: Path, name: str, spec: NetworkSpec) -> nn.Module:
    state = _read_state_dict(path, name, spec)
    model = spec.build()
    _check_keys(path, name, spec, state, model.state_dict())
    kept = {
        key: value for key, value in state.items() if not key.startswith(spec.ignored)
    }
    model.load_state_dict(kept, strict=False)  # checked: only allowed keys are missing
    return model if spec.assemble is None else spec.assemble(model)


class FeatureNetwork:
    """A pretrained feature network, frozen, in eval mode, with its preprocessing.

    Build one with :func:`load_feature_network`.

    Attributes
    ----------
    name : str
        The network's name in :data:`FEATURE_NETWORKS`.
    layers : tuple of str
        The features :meth:`features` returns.
    weights_file : pathlib.Path
        The file the weights were read from.
    weights_sha256 : str
        SHA-256 of that file (provenance).
    device : torch.device
        Where the network runs.
    """

    def __init__(
        self,
        name: str,
        model: nn.Module,
        weights_file: Path,
        weights_sha256: str,
        device: torch.device,
    ) -> None:
        self.name = name
        self.spec = FEATURE_NETWORKS[name]
        self.layers = self.spec.layers
        self.weights_file = weights_file
        self.weights_sha256 = weights_sha256
        self.device = device
        self.model = model.to(device).eval().requires_grad_(False)
        self._modules = [model.get_submodule(module) for module in self.spec.modules]

    def __repr__(self) -> str:
        """Name, layers and weights file of the network."""
        return (
            f"FeatureNetwork({self.name!r}, layers={self.layers}, "
            f"weights_file='{self.weights_file}', sha256={self.weights_sha256[:8]}...)"
        )

    def _preprocess(self, images: list[Image.Image]) -> torch.Tensor:
        """(n, 3, size, size) float32: RGB in [0, 1], resized, normalised."""
        size = (self.spec.input_size, self.spec.input_size)
        tensors = []
        for image in images:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
            tensor = torch.from_numpy(pixels).permute(2, 0, 1)[None]
            tensors.append(
                F.interpolate(
                    tensor,
                    size=size,
                    mode="bilinear",
                    align_corners=False,
                    antialias=self.spec.antialias,
                )
            )
        batch = torch.cat(tensors)
        if self.spec.normalise:
            mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
            std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
            batch = (batch - mean) / std
        return batch

    def _forward(self, batch: torch.Tensor) -> list[torch.Tensor]:
        """Run one batch; return the layers' module outputs, each as (n, d)."""
        outputs: dict[int, torch.Tensor] = {}

        def hook(index: int):
            def store(module, inputs, output):
                outputs[index] = output.detach().flatten(1).float().cpu().clone()

            return store

        handles = [
            module.register_forward_hook(hook(index))
            for index, module in enumerate(self._modules)
        ]
        try:
            self.model(batch.to(self.device))
        finally:
            for handle in handles:
                handle.remove()
        return [outputs[index] for index in range(len(self._modules))]

    @torch.no_grad()
    def features(
        self, images: list[Image.Image], batch_size: int = 32
    ) -> dict[str, np.ndarray]:
        """Features of images, one row per image, in order.

        Parameters
        ----------
        images : list of PIL.Image.Image
            Images of any size and mode (converted to RGB).
        batch_size : int
            Images per forward pass; does not change the result.

        Returns
        -------
        dict
            Layer name -> (n, d) float32 array.
        """
        images = list(images)
        if not images:
            raise ValueError("expected at least one image, got none")
        for index, image in enumerate(images):
            if not isinstance(image, Image.Image):
                kind = type(image).__name__
                raise TypeError(
                    f"image {index}: expected a PIL.Image.Image, got {kind}"
                )
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        chunks: list[list[torch.Tensor]] = [[] for _ in self.layers]
        for start in range(0, len(images), batch_size):
            batch = self._preprocess(images[start : start + batch_size])
            for chunk, output in zip(chunks, self._forward(batch), strict=True):
                chunk.append(output)
        return {
            layer: torch.cat(chunk).numpy().astype(np.float32, copy=False)
            for layer, chunk in zip(self.layers, chunks, strict=True)
        }


def load_feature_network(
    name: str,
    weights_file: str | Path,
    device: torch.device | str = "cpu",
    cache_dir: str | Path = SHA256_CACHE_DIR,
) -> FeatureNetwork:
    """Build a feature network from a local weights file; nothing is downloaded.

    Parameters
    ----------
    name : str
        A key of :data:`FEATURE_NETWORKS`.
    weights_file : str or pathlib.Path
        The network's weights, as published (``FEATURE_NETWORKS[name].weights_file``).
        For ``swav`` also a plain torchvision-format resnet50 state dict.
    device : torch.device or str
        Where the network runs.
    cache_dir : str or pathlib.Path
        Where the file's SHA-256 is remembered between jobs
        (:func:`~necomimi.utils.hashing.cached_file_sha256`).

    Returns
    -------
    FeatureNetwork
        Frozen, in eval mode, with the file's SHA-256 recorded.

    Raises
    ------
    ValueError
        For an unknown name (listing the known ones), a file that is not a state dict,
        or one whose keys or shapes do not fit the architecture.
    FileNotFoundError
        When the weights file does not exist (naming the file to download).
    """
    spec = _spec(name)
    path = Path(weights_file)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: weights file of network {name!r} not found; download "
            f"{spec.weights_file} from {spec.weights_url} and give its path"
        )
    sha256 = cached_file_sha256(path, cache_dir)
    if spec.published_sha256 and sha256[:8] not in spec.published_sha256:
        logger.warning(
            "%s: SHA-256 %s... is not that of the published %s (%s...); features of "
            "network %r, and the metrics from them, are not comparable with the "
            "paper's",
            path,
            sha256[:8],
            spec.weights_file,
            "/".join(spec.published_sha256),
            name,
        )
    model = _load_model(path, name, spec)
    return FeatureNetwork(name, model, path, sha256, torch.device(device))
