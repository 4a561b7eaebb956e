"""The diffusion prior: the paper's size, training that learns, seeded sampling."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

import necomimi.models
from necomimi.generation.prior import load_prior, sample_prior, train_prior, train_run_priors, training_pairs
from necomimi.generation.seeds import generators, image_seed
from necomimi.models.prior import DiffusionPriorUNet
from tests.conftest import unit_rows, write_targets

DIM, REPS, N_TRAIN, N_TEST = 16, 4, 24, 6
SMALL = dict(hidden_dim=[64, 32, 16], time_embed_dim=32, dropout=0.1)


def test_paper_configuration_has_the_reference_parameter_count():
    prior = necomimi.models.DiffusionPriorUNet()
    assert sum(p.numel() for p in prior.parameters()) == 9_675_648
    assert prior.config == {"embed_dim": 1024, "cond_dim": 1024, "hidden_dim": [1024, 512, 256, 128, 64],
                            "time_embed_dim": 512, "dropout": 0.1}  # fmt: skip


def test_forward_shapes_and_the_unconditional_branch():
    torch.manual_seed(0)
    prior = DiffusionPriorUNet(embed_dim=8, cond_dim=5, **SMALL).eval()
    x, t, c = torch.randn(3, 8), torch.tensor([0, 500, 999]), torch.randn(3, 5)
    conditional, unconditional = prior(x, t, c), prior(x, t)
    assert conditional.shape == unconditional.shape == (3, 8)
    assert not torch.allclose(conditional, unconditional)
    assert not torch.allclose(prior(x, t.flip(0), c), conditional)  # the timestep matters
    with pytest.raises(ValueError, match="at least two widths"):
        DiffusionPriorUNet(hidden_dim=[64])


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """Training features that carry their image's embedding, and a targets file."""
    root = tmp_path_factory.mktemp("prior")
    rng = np.random.default_rng(0)
    train, test = unit_rows(rng, N_TRAIN, DIM), unit_rows(rng, N_TEST, DIM)
    write_targets(root / "targets.h5", train, test, per_concept=2)
    features = np.repeat(train, REPS, axis=0) * 3 + 0.05 * rng.standard_normal((N_TRAIN * REPS, DIM))
    torch.save(torch.from_numpy(features.astype(np.float32)), root / "eeg_train.pt")
    return root


def _train(root, out, epochs=40, seed=0):
    train_prior(features_file=root / "eeg_train.pt", targets_file=root / "targets.h5", out_file=out / "prior.pt",
                history_file=out / "history.csv", epochs=epochs, batch_size=32, lr=1e-3, warmup_steps=10,
                condition_drop=0.1, grad_clip=1.0, seed=seed, **SMALL)  # fmt: skip
    with open(out / "history.csv") as stream:
        return list(csv.DictReader(stream))


def test_training_pairs_follow_the_trial_order(pairs):
    condition, target = training_pairs(pairs / "eeg_train.pt", pairs / "targets.h5")
    assert condition.shape == target.shape == (N_TRAIN * REPS, DIM)
    # row i * REPS + r is repetition r of image i: its target is image i's embedding
    torch.testing.assert_close(target[REPS * 5 : REPS * 6], target[REPS * 5].expand(REPS, -1))
    cosine = torch.nn.functional.cosine_similarity(condition, target)
    assert cosine.min() > 0.9


def test_training_lowers_the_loss_and_saves_a_weights_only_checkpoint(pairs, tmp_path):
    history = _train(pairs, tmp_path)
    losses = [float(row["loss"]) for row in history]
    assert len(losses) == 40
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:3])
    checkpoint = torch.load(tmp_path / "prior.pt", weights_only=True)
    assert checkpoint["config"]["embed_dim"] == checkpoint["config"]["cond_dim"] == DIM
    assert checkpoint["scheduler"]["num_train_timesteps"] == 1000
    assert checkpoint["scheduler"]["clip_sample"] is True
    # warm-up then cosine decay to zero
    assert float(history[-1]["lr"]) == pytest.approx(0.0, abs=1e-6)


def test_same_seed_same_prior(pairs, tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir(), (tmp_path / "c").mkdir()
    _train(pairs, tmp_path / "a", epochs=3)
    _train(pairs, tmp_path / "b", epochs=3)
    _train(pairs, tmp_path / "c", epochs=3, seed=1)
    a, b, c = (torch.load(tmp_path / n / "prior.pt", weights_only=True)["state_dict"] for n in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_features_that_do_not_match_the_images_are_refused(pairs, tmp_path):
    torch.save(torch.zeros(N_TRAIN * REPS + 1, DIM), tmp_path / "bad.pt")
    with pytest.raises(ValueError, match=r"bad\.pt: 97 feature rows are not a whole number of trials "
                                         r"per training image for the 24 training images"):  # fmt: skip
        training_pairs(tmp_path / "bad.pt", pairs / "targets.h5")
    torch.save({"not": "a tensor"}, tmp_path / "dict.pt")
    with pytest.raises(ValueError, match=r"dict\.pt: expected a \(samples, features\) tensor"):
        training_pairs(tmp_path / "dict.pt", pairs / "targets.h5")


@pytest.fixture(scope="module")
def trained(pairs, tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    _train(pairs, out, epochs=400)
    return load_prior(out / "prior.pt")


def test_sampling_shapes_determinism_and_independence_from_the_batch(trained):
    prior, scheduler = trained
    condition = torch.randn(4, DIM, generator=torch.Generator().manual_seed(0)) * 3
    seeds = [image_seed(42, i, "prior") for i in range(4)]
    kwargs = dict(num_inference_steps=10, guidance_scale=5.0)
    first = sample_prior(prior, scheduler, condition, generators(seeds), **kwargs)
    again = sample_prior(prior, scheduler, condition, generators(seeds), **kwargs)
    assert first.shape == (4, DIM) and first.dtype == torch.float32
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    # sample 2 alone: the same noise, hence the same sample up to float rounding
    alone = sample_prior(prior, scheduler, condition[2:3], generators(seeds[2:3]), **kwargs)
    torch.testing.assert_close(alone[0], first[2], rtol=1e-4, atol=1e-5)
    other = sample_prior(prior, scheduler, condition, generators([s + 1 for s in seeds]), **kwargs)
    assert not torch.allclose(other, first)
    unconditional = sample_prior(prior, scheduler, condition, generators(seeds), num_inference_steps=10,
                                 guidance_scale=0.0)  # fmt: skip
    assert not torch.allclose(unconditional, first)
    # scale 0 ignores the condition (the reference's unconditional branch); scale 1 does not
    ignored = sample_prior(prior, scheduler, condition.flip(0), generators(seeds), num_inference_steps=10,
                           guidance_scale=0.0)  # fmt: skip
    torch.testing.assert_close(ignored, unconditional, rtol=0, atol=0)
    conditional = sample_prior(prior, scheduler, condition, generators(seeds), num_inference_steps=10,
                               guidance_scale=1.0)  # fmt: skip
    assert not torch.allclose(conditional, unconditional)
    with pytest.raises(ValueError, match="3 generators for 4 conditions"):
        sample_prior(prior, scheduler, condition, generators(seeds[:3]), **kwargs)


def test_trained_prior_maps_features_to_their_images(pairs, trained):
    """Conditioned on a training image's features, samples lie nearest that image."""
    prior, scheduler = trained
    condition, target = training_pairs(pairs / "eeg_train.pt", pairs / "targets.h5")
    rows = torch.arange(0, N_TRAIN * REPS, REPS)
    samples = sample_prior(prior, scheduler, condition[rows], generators(list(range(N_TRAIN))),
                           num_inference_steps=50, guidance_scale=5.0)  # fmt: skip
    similarity = torch.nn.functional.normalize(samples, dim=-1) @ target[rows].T
    top1 = (similarity.argmax(dim=1) == torch.arange(N_TRAIN)).float().mean().item()
    assert top1 > 0.5, top1  # chance: 1/24


def test_image_seeds_are_stable_and_distinct():
    assert image_seed(42, 0, "prior") == 3444837047  # stable across runs and versions
    assert image_seed(42, 0, "decoder") == 1896493428
    seeds = {image_seed(42, i, stream) for i in range(200) for stream in ("prior", "decoder")}
    assert len(seeds) == 400
    assert image_seed(5757, 3, "decoder") != image_seed(42, 3, "decoder")
    with pytest.raises(ValueError, match="stream must be one of"):
        image_seed(42, 0, "vae")


def test_a_run_trains_one_prior_per_condition(pairs, tmp_path):
    single = tmp_path / "single"
    single.mkdir()
    _train(pairs, single, epochs=2)
    outs = [tmp_path / "a", tmp_path / "b"]
    train_run_priors(features_files=[pairs / "eeg_train.pt"] * 2, out_files=[out / "prior.pt" for out in outs],
                     history_files=[out / "history.csv" for out in outs], targets_file=pairs / "targets.h5", epochs=2,
                     batch_size=32, lr=1e-3, warmup_steps=10, condition_drop=0.1, grad_clip=1.0, seed=0,
                     **SMALL)  # fmt: skip
    for out in outs:
        assert (out / "history.csv").read_bytes() == (single / "history.csv").read_bytes()
