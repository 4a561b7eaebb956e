"""Read the pickled ``.npy`` files of THINGS-EEG2 and the reference code, safely.

The THINGS-EEG2 raw recordings and the preprocessed files released with the NECOMIMI /
ATM code are Python dicts pickled inside ``.npy`` files, which ``np.load(...,
allow_pickle=True)`` would unpickle with full powers: a crafted file could run code.
Here they are unpickled by a restricted unpickler that admits only what such files
contain (numpy arrays, numpy scalars and dtypes, plain containers) and refuses
anything else before it runs.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The globals a pickled numpy array, scalar or dtype refers to.
_ALLOWED_GLOBALS = {
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),  # arrays inside protocol-5 pickles
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # bytes inside protocol-2 pickles
}


class UnsafePickleError(ValueError):
    """A pickle refers to something other than numpy arrays and plain containers."""


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, stream, path: Path) -> None:
        super().__init__(stream)
        self._path = path

    def find_class(self, module: str, name: str):
        # numpy < 2 pickles say numpy.core; numpy 2 keeps it as numpy._core.
        canonical = "numpy._core" + module[len("numpy.core") :] if module.startswith("numpy.core") else module
        if (canonical, name) not in _ALLOWED_GLOBALS and not (
            canonical == "numpy.dtypes" and name.endswith("DType")
        ):
            raise UnsafePickleError(
                f"{self._path}: refusing to unpickle {module}.{name}; only numpy arrays, "
                "numpy scalars and plain containers are allowed (the file may be "
                "malicious or not a THINGS-EEG2 file)"
            )
        return super().find_class(canonical, name)


def load_pickled_npy(path: str | Path):
    """Load an ``.npy`` file, unpickling object arrays with the restricted unpickler.

    Parameters
    ----------
    path : str or Path
        An ``.npy`` file: a plain array, or a pickled object such as the dicts of the
        THINGS-EEG2 release.

    Returns
    -------
    object
        The stored array; for a 0-d object array (``np.save`` of a dict), its item.

    Raises
    ------
    UnsafePickleError
        If the pickle refers to anything but numpy arrays, scalars and containers.
    ValueError
        If the file is missing, truncated or not an ``.npy`` file; the message names it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with open(path, "rb") as stream:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
            if not dtype.hasobject:
                stream.seek(0)
                return np.lib.format.read_array(stream, allow_pickle=False)
            payload = _RestrictedUnpickler(stream, path).load()
    except UnsafePickleError:
        raise
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError) as error:
        raise ValueError(f"{path}: cannot read (truncated, corrupt or not an .npy file): {error}") from error
    if isinstance(payload, np.ndarray) and payload.dtype.hasobject and payload.shape == ():
        return payload.item()
    return payload


@dataclass(frozen=True)
class LegacyPreprocessed:
    """Preprocessed EEG in the reference / ATM release format, made consistent."""

    data: np.ndarray  # (images, repetitions, channels, times) float64
    ch_names: list[str]
    times: np.ndarray  # the times actually in ``data`` (250 values, 0 .. 0.996 s)


def read_legacy_preprocessed(path: str | Path) -> LegacyPreprocessed:
    """Read a ``preprocessed_eeg_{training,test}.npy`` file of the reference or ATM.

    Those files hold a pickled dict with ``preprocessed_eeg_data`` (images,
    repetitions, 63, 250), ``ch_names`` and ``times``. The reference saves the
    uncropped 300-point axis (-0.2 .. 0.996 s) although the data keep only its last
    250 points (SPEC.md section 2, "Merge and save"); the returned ``times`` are the
    ones that match the data.

    Raises
    ------
    UnsafePickleError
        If the file's pickle would construct anything but numpy data and containers;
        nothing in it is run.
    ValueError
        If keys are missing or shapes disagree; the message names the file.
    """
    path = Path(path)
    content = load_pickled_npy(path)
    if not isinstance(content, dict):
        raise ValueError(f"{path}: expected a pickled dict, found {type(content).__name__}")
    missing = {"preprocessed_eeg_data", "ch_names", "times"} - set(content)
    if missing:
        raise ValueError(f"{path}: missing key(s) {sorted(missing)}")
    data = np.asarray(content["preprocessed_eeg_data"])
    ch_names = [str(name) for name in content["ch_names"]]
    times = np.asarray(content["times"], dtype=np.float64)
    if data.ndim != 4:
        raise ValueError(
            f"{path}: preprocessed_eeg_data must be 4-D (images, repetitions, channels, times), got shape {data.shape}"
        )
    if data.shape[2] != len(ch_names):
        raise ValueError(f"{path}: {data.shape[2]} channels in the data but {len(ch_names)} ch_names")
    n_times = data.shape[3]
    if len(times) < n_times:
        raise ValueError(f"{path}: {len(times)} times for {n_times} samples")
    return LegacyPreprocessed(data=data, ch_names=ch_names, times=times[len(times) - n_times :])
