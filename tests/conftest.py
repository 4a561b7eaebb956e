"""Shared fixtures: small synthetic datasets written once per test session."""

from __future__ import annotations

from pathlib import Path

import h5py
import mne
import numpy as np
import pytest

from necomimi.data.synthetic import SyntheticSpec, write_dataset
from necomimi.data.things_eeg2 import CHANNEL_NAMES, STIM_CHANNEL, TARGET_EVENT
from tests.meg_fixtures import preprocessed_meg, synthetic_meg

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


@pytest.fixture(scope="session")
def meg_root(tmp_path_factory) -> Path:
    """The synthetic THINGS-MEG of the MEG tests (tests/meg_fixtures.py)."""
    return synthetic_meg(tmp_path_factory)


@pytest.fixture(scope="session")
def meg_out(tmp_path_factory) -> Path:
    """Entry point A's outputs for every participant of :func:`meg_root`."""
    return preprocessed_meg(tmp_path_factory)


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


def write_targets(path: Path, train_image: np.ndarray, test_image: np.ndarray, per_concept: int = 1) -> Path:
    """A CLIP targets file in the layout of necomimi.clip.targets.embed_targets.

    Training images come ``per_concept`` to a concept; every test image is its own
    concept. Text embeddings are the first image of each concept.
    """
    with h5py.File(path, "w") as store:
        for name, image, per in (("training", train_image, per_concept), ("test", test_image, 1)):
            group = store.create_group(name)
            concept = np.arange(len(image)) // per
            group["image"] = image.astype(np.float32)
            group["text"] = image[::per].astype(np.float32)
            group["concept_of_image"] = concept
            group["folder"] = np.array([f"{c + 1:05d}_concept_{c}" for c in concept], dtype=h5py.string_dtype())
            group["file"] = np.array([f"concept_{c}_{i:02d}.jpg" for i, c in enumerate(concept)],
                                     dtype=h5py.string_dtype())  # fmt: skip
    return path


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """``n`` random unit vectors of size ``dim``, float32."""
    rows = rng.standard_normal((n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="session")
def tiny_decoder(tmp_path_factory) -> tuple[Path, Path]:
    """The demo's decoder at 32 x 32 for 12-d embeddings, trained a few steps: (SDXL folder, IP-Adapter file)."""
    import torch

    from necomimi.generation.demo_decoder import build_demo_decoder

    root = tmp_path_factory.mktemp("decoder")
    sdxl, ip_adapter = root / "sdxl-turbo-tiny", root / "ip-adapter" / "ip-adapter_tiny.safetensors"
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(8, 3, 32, 32, generator=generator) * 2 - 1
    build_demo_decoder(sdxl, ip_adapter, images=images, embeddings=torch.randn(8, 12, generator=generator), seed=0,
                       vae_steps=2, unet_steps=2, batch_size=4, vae_lr=1e-3, unet_lr=1e-3,
                       num_inference_steps=2)  # fmt: skip
    return sdxl, ip_adapter


@pytest.fixture(scope="session")
def decoder(tiny_decoder):
    """The tiny decoder loaded on the CPU."""
    import torch

    from necomimi.generation.decoder import load_decoder

    return load_decoder(*tiny_decoder, device=torch.device("cpu"))


@pytest.fixture(scope="session")
def tiny_clip(tiny_dataset, tmp_path_factory) -> dict:
    """A demo CLIP (16-d) briefly trained on the tiny dataset: load_clip keyword arguments."""
    from necomimi.clip.demo_model import train_demo_clip

    root = tmp_path_factory.mktemp("clip")
    train_demo_clip(tiny_dataset / "image_set", tiny_dataset / "image_factors.csv", root, embed_dim=16, image_size=32,
                    epochs=2, batch_size=8, lr=1e-3, seed=0)  # fmt: skip
    return {"model": "necomimi-tiny-clip", "pretrained": root / "open_clip_model.safetensors",
            "model_config": root / "necomimi-tiny-clip.json"}  # fmt: skip
