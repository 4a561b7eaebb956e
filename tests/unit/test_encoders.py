"""Every registered encoder: shapes, live weights, determinism, persistence, sizes."""

from __future__ import annotations

import io

import pytest
import torch

from necomimi.config import load_schema
from necomimi.models import ENCODERS, create
from tests.conftest import REPO

#: Trainable parameters with the paper's defaults (63 x 250 -> 1024): the reference's
#: counts minus its dead duplicate transformer layer and its logit scale (SPEC.md 3).
PAPER_COUNTS = {
    "nerv": 11_882_089,
    "nervformer_v1": 11_542_800,
    "muse": 2_571_632,
    "atms": 2_970_201,
    "nice": 2_630_912,
    # Beyond the paper's five: the reference counts minus dead parts (SPEC.md 3.9-3.11).
    "meta_eeg": 2_088_712,  # 3,416,900 - mse_head - duplicate layer - logit scale
    "mlp": 3_425_459,  # 3,425,460 - logit scale
    "eegnet": 1_186_832,  # braindecode model, reference count - logit scale
    "shallow_fbcsp": 886_844,
    "eeg_conformer": 635_272,
    "atcnet": 114_792,
}
NAMES = list(ENCODERS)


def _input(batch=4, n_chans=63, n_times=250, seed=0):
    return torch.randn(batch, n_chans, n_times, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module", params=NAMES)
def encoder(request):
    torch.manual_seed(0)
    return request.param, create(request.param)


def test_output_shape_and_not_a_probability_vector(encoder):
    name, model = encoder
    out = model.eval()(_input())
    assert out.shape == (4, 1024)
    # The reference fed log-softmax vectors to the loss for four baselines; ours are
    # linear embeddings, whose exponentials do not sum to one.
    assert not torch.allclose(out.exp().sum(dim=1), torch.ones(4), atol=1e-3)
    assert isinstance(model.final_layer, torch.nn.Module)


def test_gradients_reach_every_parameter(encoder):
    name, model = encoder
    model.train()
    model.zero_grad()
    weights = torch.randn(4, 1024, generator=torch.Generator().manual_seed(1))
    (model(_input()) * weights).sum().backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not dead, f"{name}: parameters without gradient: {dead}"


def test_eval_is_deterministic_and_state_dict_round_trips(encoder):
    name, model = encoder
    model.eval()
    x = _input(seed=2)
    with torch.no_grad():
        first, second = model(x), model(x)
    assert torch.equal(first, second)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    torch.manual_seed(123)  # a differently initialised copy...
    clone = type(model).from_config(model.get_config()).eval()
    clone.load_state_dict(torch.load(buffer, weights_only=True))  # ...gets the same weights
    with torch.no_grad():
        assert torch.equal(clone(x), first)


@pytest.mark.parametrize("name", NAMES)
def test_parameter_counts(name):
    model = create(name)
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if name in PAPER_COUNTS:
        assert count == PAPER_COUNTS[name]
    else:
        assert count > 0


@pytest.mark.parametrize("name", NAMES)
def test_channel_subsets_and_short_windows_work(name):
    model = create(name, n_chans=17, n_times=100).eval()  # 17 posterior channels, 400 ms
    assert model(_input(2, 17, 100)).shape == (2, 1024)
    assert create(name, n_outputs=32, n_chans=8, n_times=250).eval()(_input(2, 8, 250)).shape == (2, 32)


@pytest.mark.parametrize("name", ["nerv", "nervformer_v1", "muse", "atms", "nice"])
def test_the_papers_encoders_take_things_meg_epochs(name):
    """THINGS-MEG after the authors' preprocessing: 271 sensors x 201 samples (MEG.md 4.3)."""
    model = create(name, n_chans=271, n_times=201).eval()
    with torch.no_grad():
        assert model(_input(2, 271, 201)).shape == (2, 1024)


@pytest.mark.parametrize("name", NAMES)
def test_too_short_windows_fail_clearly_or_work(name):
    try:
        model = create(name, n_times=20)
    except ValueError as error:
        assert "n_times" in str(error)
    else:
        assert model.eval()(_input(2, 63, 20)).shape == (2, 1024)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown encoder 'atm'.*nerv, nervformer_v1"):
        create("atm")


def test_config_schema_accepts_exactly_the_registry():
    schema = load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml")
    assert schema["properties"]["encoders"]["items"]["enum"] == NAMES


@pytest.mark.parametrize(("argument", "value"), [("n_chans", 0), ("n_times", 2.5), ("n_outputs", -1)])
def test_invalid_sizes_are_named(argument, value):
    with pytest.raises(ValueError, match=f"{argument} must be a positive integer"):
        create("nice", **{argument: value})
