"""Let the CUDA-built torchvision and torchaudio wheels import beside a CPU-only torch.

Why this module exists
----------------------
The pinned ``torchvision==0.28.0`` and ``torchaudio==2.11.0`` wheels on PyPI are CUDA
builds. Their native extensions (``torchvision/_C.so``, ``torchaudio/lib/*.so``) link
against ``libc10_cuda.so``, which a CPU build of torch does not ship, so they fail to
load. torchvision then crashes at import (``_meta_registrations.py`` registers fake
kernels for ``torchvision::nms``/``qnms`` without checking that the ops exist) and
torchaudio raises ``OSError``. open_clip, timm, transformers, diffusers and braindecode
import one of the two, so none of them would import either. There is no CPU build of
these exact versions on PyPI (shared ``LIBRARIES.md`` section 1.3).

What it does
------------
:func:`install` puts one finder on :data:`sys.meta_path` that acts twice, and only
where the native code cannot load:

1. Just before ``torchvision`` is imported it loads ``torchvision/_C`` exactly as
   torchvision itself would (``torch.ops.load_library``). If that raises ``OSError``
   it defines the two operator *schemas* that torchvision's fake registrations need,
   so the pure-Python parts (transforms, models) work and the C++ ops raise
   torchvision's own "Couldn't load custom C++ ops" error when called.
2. When ``torchaudio._extension.utils`` is imported it wraps ``_load_lib`` so that an
   ``OSError`` means "extension not available"; torchaudio then uses its pure-Python
   fallbacks (``lfilter``, ``filtfilt``, ``fftconvolve``, ``Resample``).

Where the extensions load (a CUDA torch, or matching CPU wheels) nothing is changed:
the library load succeeds and ``_load_lib`` returns what it always returned.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
from pathlib import Path
from types import ModuleType

logger = logging.getLogger(__name__)

_TORCHAUDIO_UTILS = "torchaudio._extension.utils"
# Operator schemas used by torchvision/_meta_registrations.py's register_fake calls,
# as torchvision's C++ code declares them.
_TORCHVISION_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_state: dict[str, object] = {"torchvision_prepared": False, "fallback_library": None}


def _prepare_torchvision() -> None:
    """Load torchvision's ``_C`` or, if it cannot load, declare its op schemas."""
    if _state["torchvision_prepared"]:
        return
    _state["torchvision_prepared"] = True
    spec = importlib.machinery.PathFinder.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    libraries = sorted(package_dir.glob("_C*.so")) + sorted(package_dir.glob("_C*.pyd"))
    if not libraries:
        return
    import torch

    try:
        torch.ops.load_library(str(libraries[0]))
    except OSError as error:
        logger.debug("torchvision C++ ops unavailable (%s); declaring schemas", error)
        library = torch.library.Library("torchvision", "FRAGMENT")
        for schema in _TORCHVISION_SCHEMAS:
            library.define(schema)
        # The Library object must outlive this call, or its definitions are dropped.
        _state["fallback_library"] = library


def _tolerate_missing_extension(utils_module: ModuleType) -> None:
    """Make ``torchaudio._extension.utils._load_lib`` return False on ``OSError``."""
    original = utils_module._load_lib

    def _load_lib(lib: str) -> bool:
        try:
            return original(lib)
        except OSError as error:
            logger.debug("torchaudio extension %s unavailable (%s)", lib, error)
            return False

    utils_module._load_lib = _load_lib


class _PatchingLoader(importlib.abc.Loader):
    """Run a module's own loader, then apply ``patch`` to the loaded module."""

    def __init__(self, wrapped: importlib.abc.Loader, patch) -> None:
        self._wrapped = wrapped
        self._patch = patch

    def create_module(self, spec):  # noqa: D102
        return self._wrapped.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:  # noqa: D102
        self._wrapped.exec_module(module)
        self._patch(module)


class _CompatFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder that prepares torchvision and torchaudio before they load."""

    def find_spec(self, fullname, path, target=None):  # noqa: D102
        if fullname == "torchvision":
            _prepare_torchvision()
            return None
        if fullname == _TORCHAUDIO_UTILS:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, _tolerate_missing_extension)
            return spec
        return None


def install() -> None:
    """Install the finder once, ahead of the standard ones.

    Must run before anything imports torchvision or torchaudio; ``necomimi/__init__``
    calls it first thing.
    """
    if not any(isinstance(finder, _CompatFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _CompatFinder())
