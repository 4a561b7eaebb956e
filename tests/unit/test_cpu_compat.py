"""The compatibility finder makes the CUDA torchvision/torchaudio wheels importable."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from necomimi import _cpu_compat

LIBRARIES = "open_clip, diffusers, transformers, braindecode, torchvision, torchaudio"


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_field_libraries_import_after_necomimi():
    result = _python(
        f"import necomimi, {LIBRARIES}\n"
        "from diffusers import StableDiffusionXLPipeline\n"
        "from transformers import CLIPTextModel\n"
        "import torch, torchvision.transforms as T\n"
        "from torchaudio.functional import lfilter\n"
        "x = T.Normalize([0.5] * 3, [0.5] * 3)(torch.ones(3, 4, 4))\n"
        "y = lfilter(torch.ones(1, 8), torch.tensor([1.0, -0.5]), torch.tensor([1.0, 0.0]))\n"
        "print('ok', float(x.sum()), tuple(y.shape))"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["ok", "48.0", "(1,", "8)"]


def test_finder_is_needed_where_the_native_extensions_do_not_load():
    native = _python(
        "import torch, torchvision.extension as e; print(e._has_ops())"
    )
    if native.returncode == 0 and native.stdout.strip() == "True":
        pytest.skip("torchvision's C++ ops load here; the finder changes nothing")
    result = _python("import open_clip")
    assert result.returncode != 0
    assert "torchvision::nms" in result.stderr


def test_torchaudio_load_lib_tolerates_only_oserror():
    module = types.SimpleNamespace()

    def missing(lib):
        raise OSError("libc10_cuda.so: cannot open shared object file")

    module._load_lib = missing
    _cpu_compat._tolerate_missing_extension(module)
    assert module._load_lib("_torchaudio") is False

    module._load_lib = lambda lib: True
    _cpu_compat._tolerate_missing_extension(module)
    assert module._load_lib("_torchaudio") is True  # unchanged where it loads

    def broken(lib):
        raise ImportError("something else")

    module._load_lib = broken
    _cpu_compat._tolerate_missing_extension(module)
    with pytest.raises(ImportError):
        module._load_lib("_torchaudio")


class _RecordingLibrary:
    defined: list[str] = []

    def __init__(self, namespace, kind):
        assert (namespace, kind) == ("torchvision", "FRAGMENT")

    def define(self, schema):
        self.defined.append(schema)


@pytest.mark.parametrize("loads", [True, False])
def test_torchvision_schemas_declared_only_when_c_ops_fail(monkeypatch, loads):
    import torch

    def load_library(path):
        if not loads:
            raise OSError("libtorch_cuda.so: cannot open shared object file")

    _RecordingLibrary.defined = []
    monkeypatch.setattr(torch.ops, "load_library", load_library)
    monkeypatch.setattr(torch.library, "Library", _RecordingLibrary)
    monkeypatch.setitem(_cpu_compat._state, "torchvision_prepared", False)
    monkeypatch.setitem(_cpu_compat._state, "fallback_library", None)
    _cpu_compat._prepare_torchvision()
    if loads:
        assert _RecordingLibrary.defined == []
        assert _cpu_compat._state["fallback_library"] is None
    else:
        assert [s.split("(")[0] for s in _RecordingLibrary.defined] == ["nms", "qnms"]
        assert _cpu_compat._state["fallback_library"] is not None


def test_install_is_idempotent():
    _cpu_compat.install()
    _cpu_compat.install()
    finders = [f for f in sys.meta_path if isinstance(f, _cpu_compat._CompatFinder)]
    assert len(finders) == 1
