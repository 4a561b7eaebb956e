"""Legacy pickled files are read safely: data back, code never run."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from necomimi.data.things_eeg2 import CHANNEL_NAMES
from necomimi.io import UnsafePickleError, load_pickled_npy, read_legacy_preprocessed
from necomimi.preprocessing.legacy import import_legacy_subject


def _released_file(path, n_images=3, n_reps=4, seed=0, protocol=4):
    """A file in the reference's released format (pickled dict, 300 times)."""
    rng = np.random.default_rng(seed)
    content = {
        "preprocessed_eeg_data": rng.standard_normal((n_images, n_reps, 63, 250)),
        "ch_names": list(CHANNEL_NAMES),
        "times": np.round(np.arange(-50, 250) / 250.0, 3),
    }
    with open(path, "wb") as stream:  # the header np.save writes, then the pickle
        np.lib.format.write_array_header_1_0(
            stream, {"descr": "|O", "fortran_order": False, "shape": ()}
        )
        pickle.dump(np.array(content, dtype=object), stream, protocol=protocol)
    return content


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_released_format_round_trips_with_the_right_times(tmp_path, protocol):
    path = tmp_path / "preprocessed_eeg_training.npy"
    content = _released_file(path, protocol=protocol)
    legacy = read_legacy_preprocessed(path)
    np.testing.assert_array_equal(legacy.data, content["preprocessed_eeg_data"])
    assert legacy.ch_names == list(CHANNEL_NAMES)
    assert len(legacy.times) == 250
    assert legacy.times[0] == 0.0 and legacy.times[-1] == 0.996


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "preprocessed_eeg_test.npy"
    with open(path, "wb") as stream:
        np.lib.format.write_array_header_1_0(stream, {"descr": "|O", "fortran_order": False, "shape": ()})
        pickle.dump({"preprocessed_eeg_data": _Exploit(marker)}, stream, protocol=4)
    with pytest.raises(UnsafePickleError, match=r"preprocessed_eeg_test\.npy.*system"):
        read_legacy_preprocessed(path)
    assert not marker.exists()
    # The same file through numpy's own loader would have run the command.
    np.load(path, allow_pickle=True)
    assert marker.exists()


def test_truncated_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "cut.npy"
    _released_file(path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ValueError, match=r"cut\.npy: cannot read"):
        load_pickled_npy(path)


def test_wrong_keys_are_named(tmp_path):
    path = tmp_path / "odd.npy"
    np.save(path, {"eeg": np.zeros(3)}, allow_pickle=True)
    with pytest.raises(ValueError,
                       match=r"odd\.npy: missing key\(s\) \['ch_names', 'preprocessed_eeg_data', 'times'\]"):
        read_legacy_preprocessed(path)


def test_import_writes_float32_arrays_in_canonical_channel_order(tmp_path):
    training = tmp_path / "preprocessed_eeg_training.npy"
    test = tmp_path / "preprocessed_eeg_test.npy"
    content = _released_file(training, n_images=5, n_reps=4)
    _released_file(test, n_images=2, n_reps=6, seed=1)
    # A file whose channels come in another order is put back in canonical order.
    shuffled = dict(content)
    order = np.random.default_rng(3).permutation(63)
    shuffled["preprocessed_eeg_data"] = content["preprocessed_eeg_data"][:, :, order]
    shuffled["ch_names"] = [CHANNEL_NAMES[i] for i in order]
    np.save(training, shuffled, allow_pickle=True)
    out = tmp_path / "out"
    import_legacy_subject(training, test, out)
    train = np.load(out / "eeg_train.npy", mmap_mode="r")
    assert train.dtype == np.float32 and train.shape == (5, 4, 63, 250)
    np.testing.assert_allclose(train, content["preprocessed_eeg_data"].astype(np.float32))
    assert np.load(out / "eeg_test.npy").shape == (2, 6, 63, 250)
    assert sorted(p.name for p in out.iterdir()) == ["eeg_test.npy", "eeg_train.npy", "info.json"]
