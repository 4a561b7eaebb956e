"""Shared fixtures: small synthetic datasets written once per test session."""

from __future__ import annotations

from pathlib import Path

import mne
import numpy as np
import pytest

from necomimi.data.synthetic import SyntheticSpec, write_dataset
from necomimi.data.things_eeg2 import CHANNEL_NAMES, STIM_CHANNEL, TARGET_EVENT

REPO = Path(__file__).resolve().parents[1]

#: Small enough to write in well under a second, large enough to show the structure.
TINY_SPEC = SyntheticSpec(
    seed=7,
    n_train_concepts=6,
    train_images_per_concept=2,
    n_test_concepts=4,
    n_sessions=4,
    train_reps_per_session=2,
    test_reps_per_session=3,
    image_size=32,
    target_fraction=0.1,
)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """A tiny synthetic THINGS-EEG2 with subjects 01 and 02."""
    root = tmp_path_factory.mktemp("tiny")
    write_dataset(root, TINY_SPEC, ["01", "02"])
    return root


@pytest.fixture(scope="session")
def demo_dataset(tmp_path_factory) -> Path:
    """The demo-sized synthetic dataset (config/config.yaml values), subject 01."""
    root = tmp_path_factory.mktemp("demo")
    write_dataset(root, SyntheticSpec(), ["01"])
    return root


def load_raw(path: Path) -> dict:
    """Read a raw file exactly as the reference preprocessing does."""
    return np.load(path, allow_pickle=True).item()


def raw_events(content: dict) -> np.ndarray:
    """Events of a raw recording, found by mne.find_events on its stim row."""
    info = mne.create_info(content["ch_names"], content["sfreq"], content["ch_types"])
    raw = mne.io.RawArray(content["raw_eeg_data"], info, verbose="error")
    return mne.find_events(raw, stim_channel=STIM_CHANNEL, verbose="error")


def epochs_by_condition(root: Path, subject: str, partition: str, n_sessions: int):
    """Baseline-corrected epochs (0-0.6 s at 1000 Hz) of all sessions, with conditions.

    Returns
    -------
    data : numpy.ndarray
        (n_trials, 63, 600) volts.
    conditions : numpy.ndarray
        The image condition of every trial (targets dropped).
    """
    data, conditions = [], []
    for session in range(1, n_sessions + 1):
        path = root / "raw" / f"sub-{subject}" / f"ses-{session:02d}" / f"raw_eeg_{partition}.npy"
        content = load_raw(path)
        events = raw_events(content)
        events = events[events[:, 2] != TARGET_EVENT]
        eeg = content["raw_eeg_data"][: len(CHANNEL_NAMES)]
        for onset, _, code in events:
            epoch = eeg[:, onset - 200 : onset + 600]
            data.append(epoch[:, 200:] - epoch[:, :200].mean(axis=1, keepdims=True))
            conditions.append(code)
    return np.array(data), np.array(conditions)
