"""EEG features: trial order, plain weights-only tensors, seeded perturbation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import necomimi
from necomimi.data.things_eeg2 import CHANNEL_NAMES, VISUAL_CORTEX_CHANNELS
from necomimi.generation.features import extract_features, extract_run_features, load_features
from necomimi.models import create
from necomimi.training.loop import embed

N_IMAGES, REPS, N_TEST, N_TIMES, DIM = 5, 3, 4, 100, 8
TIMES = [t / 100 for t in range(N_TIMES)]


class _ChannelProbe(torch.nn.Module):
    """An 'encoder' whose output is the mean of each channel: shows which ones moved."""

    def forward(self, x):
        return x.mean(dim=-1)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("features")
    rng = np.random.default_rng(0)
    np.save(root / "eeg_train.npy", rng.standard_normal((N_IMAGES, REPS, 63, N_TIMES)).astype(np.float32))
    np.save(root / "eeg_test.npy", rng.standard_normal((N_TEST, 6, 63, N_TIMES)).astype(np.float32))
    torch.manual_seed(0)
    model = create("nice", n_outputs=DIM, n_chans=63, n_times=N_TIMES)
    torch.save({"encoder": "nice", "config": model.get_config(), "state_dict": model.state_dict(),
                "selection": "validation", "necomimi_version": necomimi.__version__}, root / "model.pt")  # fmt: skip
    return root


def _extract(study, out, channels=(), seed=0, batch_size=1024):
    extract_features(model_file=study / "model.pt", train_files=[study / "eeg_train.npy"],
                     test_file=study / "eeg_test.npy", out_dir=out, condition=list(channels), seed=seed,
                     batch_size=batch_size)  # fmt: skip
    return (torch.load(out / name, weights_only=True) for name in ("eeg_train.pt", "eeg_test.pt"))


def test_features_are_plain_tensors_in_trial_order(study, tmp_path):
    train, test = _extract(study, tmp_path)
    assert isinstance(train, torch.Tensor) and train.shape == (N_IMAGES * REPS, DIM) and train.dtype == torch.float32
    assert test.shape == (N_TEST, DIM)
    model = create("nice", n_outputs=DIM, n_chans=63, n_times=N_TIMES)
    model.load_state_dict(torch.load(study / "model.pt", weights_only=True)["state_dict"])
    eeg = np.load(study / "eeg_train.npy")
    # row i * REPS + r is repetition r of training image i
    torch.testing.assert_close(train[3 * REPS + 2], embed(model, eeg[3, 2:3])[0])
    average = np.load(study / "eeg_test.npy").mean(axis=1)
    torch.testing.assert_close(test, embed(model, average), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(load_features(tmp_path / "eeg_test.pt"), test)


def test_perturbed_features_are_seeded_and_independent_of_the_batch_size(study, tmp_path):
    original, _ = _extract(study, tmp_path / "original")
    perturbed, perturbed_test = _extract(study, tmp_path / "a", VISUAL_CORTEX_CHANNELS, seed=3)
    again, again_test = _extract(study, tmp_path / "b", VISUAL_CORTEX_CHANNELS, seed=3, batch_size=4)
    other, _ = _extract(study, tmp_path / "c", VISUAL_CORTEX_CHANNELS, seed=4)
    assert not torch.allclose(perturbed, original)
    torch.testing.assert_close(perturbed, again, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(perturbed_test, again_test, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(perturbed, other)


def test_the_perturbation_touches_exactly_the_named_channels(study, tmp_path, monkeypatch):
    """Through extract_features: only the condition's channels change, in every sample."""
    import necomimi.generation.features as features

    probe = (_ChannelProbe(), {"config": {"n_chans": 63, "n_times": N_TIMES}})
    monkeypatch.setattr(features, "load_encoder", lambda path: probe)
    original, original_test = _extract(study, tmp_path / "original")
    perturbed, perturbed_test = _extract(study, tmp_path / "perturbed", VISUAL_CORTEX_CHANNELS)
    named = [CHANNEL_NAMES.index(name) for name in VISUAL_CORTEX_CHANNELS]
    others = [i for i in range(63) if i not in named]
    for clean, noisy in ((original, perturbed), (original_test, perturbed_test)):
        torch.testing.assert_close(noisy[:, others], clean[:, others], rtol=0, atol=0)
        assert (noisy[:, named] != clean[:, named]).all()


def test_eeg_of_the_wrong_shape_is_refused_naming_the_file(study, tmp_path):
    np.save(tmp_path / "eeg_test.npy", np.zeros((N_TEST, 6, 63, N_TIMES + 1), dtype=np.float32))
    with pytest.raises(ValueError, match=r"eeg_test\.npy: expected \(images, repetitions, 63, 100\) EEG"):
        extract_features(model_file=study / "model.pt", train_files=[study / "eeg_train.npy"],
                         test_file=tmp_path / "eeg_test.npy", out_dir=tmp_path / "out", condition=[], seed=0,
                         batch_size=8)  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_several_training_subjects_are_interleaved_image_by_image(study, tmp_path, monkeypatch):
    """loso: the trials of each image come from every training subject in turn."""
    import necomimi.generation.features as features

    probe = (_ChannelProbe(), {"config": {"n_chans": 63, "n_times": N_TIMES}})
    monkeypatch.setattr(features, "load_encoder", lambda path: probe)
    other = np.random.default_rng(1).standard_normal((N_IMAGES, 2, 63, N_TIMES)).astype(np.float32)
    np.save(tmp_path / "other_train.npy", other)
    extract_features(model_file=study / "model.pt", train_files=[study / "eeg_train.npy", tmp_path / "other_train.npy"],
                     test_file=study / "eeg_test.npy", out_dir=tmp_path / "out", condition=[], seed=0,
                     batch_size=4)  # fmt: skip
    train = torch.load(tmp_path / "out" / "eeg_train.pt", weights_only=True)
    first = np.load(study / "eeg_train.npy")
    per_image = REPS + 2
    assert train.shape == (N_IMAGES * per_image, 63)
    torch.testing.assert_close(train[2 * per_image + 1], torch.from_numpy(first[2, 1].mean(-1)))
    torch.testing.assert_close(train[2 * per_image + REPS + 1], torch.from_numpy(other[2, 1].mean(-1)))
    np.save(tmp_path / "short.npy", other[:2])
    with pytest.raises(ValueError, match="different numbers of training images"):
        extract_features(model_file=study / "model.pt", train_files=[study / "eeg_train.npy", tmp_path / "short.npy"],
                         test_file=study / "eeg_test.npy", out_dir=tmp_path / "out", condition=[], seed=0,
                         batch_size=4)  # fmt: skip


def test_a_run_gets_features_in_every_condition_with_the_subject_channels(study, tmp_path):
    (tmp_path / "info.json").write_text(json.dumps({"ch_names": list(CHANNEL_NAMES), "times": TIMES}))
    out_files = [tmp_path / "original" / "eeg_test.pt", tmp_path / "perturbed" / "eeg_test.pt"]
    extract_run_features(conditions={"original": [], "perturbed": list(VISUAL_CORTEX_CHANNELS)},
                         out_test_files=out_files, info_file=tmp_path / "info.json", model_file=study / "model.pt",
                         train_files=[study / "eeg_train.npy"], test_file=study / "eeg_test.npy", seed=3,
                         batch_size=1024)  # fmt: skip
    original = _extract(study, tmp_path / "single")
    perturbed = _extract(study, tmp_path / "single_perturbed", VISUAL_CORTEX_CHANNELS, seed=3)
    for folder, expected in zip(["original", "perturbed"], [original, perturbed], strict=True):
        for name, tensor in zip(["eeg_train.pt", "eeg_test.pt"], expected, strict=True):
            torch.testing.assert_close(torch.load(tmp_path / folder / name, weights_only=True), tensor)
    with pytest.raises(ValueError, match=r"x.pt: condition original's test features must be named eeg_test.pt"):
        extract_run_features(conditions={"original": []}, out_test_files=[tmp_path / "x.pt"],
                             info_file=tmp_path / "info.json", model_file=study / "model.pt",
                             train_files=[study / "eeg_train.npy"],
                             test_file=study / "eeg_test.npy", seed=3, batch_size=1024)  # fmt: skip


def test_a_window_condition_reaches_the_features_through_the_run(study, tmp_path, monkeypatch):
    """A crop to 0-0.2 s: every channel's output is its mean over the window, as perturb makes it."""
    import necomimi.generation.features as features

    probe = (_ChannelProbe(), {"config": {"n_chans": 63, "n_times": N_TIMES}})
    monkeypatch.setattr(features, "load_encoder", lambda path: probe)
    (tmp_path / "info.json").write_text(json.dumps({"ch_names": list(CHANNEL_NAMES), "times": TIMES}))
    extract_run_features(conditions={"early": {"window": [0.0, 0.2], "action": "crop"}},
                         out_test_files=[tmp_path / "early" / "eeg_test.pt"], info_file=tmp_path / "info.json",
                         model_file=study / "model.pt", train_files=[study / "eeg_train.npy"],
                         test_file=study / "eeg_test.npy", seed=3, batch_size=1024)  # fmt: skip
    test = np.load(study / "eeg_test.npy").mean(axis=1)
    expected = test[:, :, :21].mean(axis=-1)  # 0.00-0.20 s, both ends included
    features_file = tmp_path / "early" / "eeg_test.pt"
    np.testing.assert_allclose(torch.load(features_file, weights_only=True).numpy(), expected, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match=r"condition 'late': window 2-3 s holds 0 of the epoch's 100 samples"):
        extract_run_features(conditions={"late": {"window": [2.0, 3.0], "action": "noise_inside"}},
                             out_test_files=[tmp_path / "late" / "eeg_test.pt"], info_file=tmp_path / "info.json",
                             model_file=study / "model.pt", train_files=[study / "eeg_train.npy"],
                             test_file=study / "eeg_test.npy", seed=3, batch_size=1024)  # fmt: skip
    assert not (tmp_path / "late").exists()
