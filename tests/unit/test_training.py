"""Contrastive training: the loss forms, the outputs, and exact resumption after a kill."""

from __future__ import annotations

import csv
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from necomimi.training import loop
from necomimi.training.loop import RESUME_FILE, embed, load_encoder, train_encoder
from necomimi.training.losses import ContrastiveLoss
from tests.conftest import write_targets


def _reference_clip(a, b, s):
    logits = s * a @ b.T
    labels = torch.arange(len(a))
    cross_entropy = torch.nn.functional.cross_entropy
    return 0.5 * (cross_entropy(logits, labels) + cross_entropy(logits.T, labels))


def test_reference_loss_uses_the_raw_scale_and_unnormalised_eeg():
    torch.manual_seed(0)
    eeg = torch.randn(6, 8) * 5
    image = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
    text = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
    loss = ContrastiveLoss("reference")
    assert loss.logit_scale.item() == pytest.approx(math.log(1 / 0.07))
    scale = math.log(1 / 0.07)
    expected = 0.99 * _reference_clip(eeg, image, scale) + 0.01 * _reference_clip(eeg, text, scale)
    assert loss(eeg, image, text).item() == pytest.approx(expected.item(), rel=1e-6)


def test_openclip_loss_exponentiates_and_normalises():
    torch.manual_seed(0)
    eeg = torch.randn(6, 8) * 5
    image = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
    text = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
    loss = ContrastiveLoss("openclip")
    unit = torch.nn.functional.normalize(eeg, dim=-1)
    expected = 0.99 * _reference_clip(unit, image, 1 / 0.07) + 0.01 * _reference_clip(unit, text, 1 / 0.07)
    assert loss(eeg, image, text).item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss(eeg * 3, image, text).item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match="loss mode"):
        ContrastiveLoss("infonce")


def _fake_study(root, n_images=16, per_concept=2, reps=4, n_test=6, dim=8, n_times=100):
    """Preprocessed-like arrays and a CLIP targets file, with a learnable relation."""
    rng = np.random.default_rng(0)
    train_targets = rng.standard_normal((n_images, dim))
    train_targets /= np.linalg.norm(train_targets, axis=1, keepdims=True)
    test_targets = rng.standard_normal((n_test, dim))
    test_targets /= np.linalg.norm(test_targets, axis=1, keepdims=True)
    mixing = rng.standard_normal((dim, 63 * n_times))

    def eeg(targets, n_reps):
        clean = (targets @ mixing).reshape(len(targets), 1, 63, n_times)
        return (clean + rng.standard_normal((len(targets), n_reps, 63, n_times))).astype(np.float32)

    np.save(root / "eeg_train.npy", eeg(train_targets, reps))
    np.save(root / "eeg_test.npy", eeg(test_targets, reps))
    write_targets(root / "targets.h5", train_targets, test_targets, per_concept)
    return root


def _options(root, out, epochs, selection="validation"):
    return dict(encoder="nice", encoder_kwargs={}, train_files=[str(root / "eeg_train.npy")],
                test_file=str(root / "eeg_test.npy"), targets_file=str(root / "targets.h5"),
                out_dir=str(out), seed=3, epochs=epochs, batch_size=16, lr=1e-3, weight_decay=0.01,
                loss="reference", image_weight=0.99, selection=selection, validation_concepts=2)  # fmt: skip


@pytest.mark.parametrize("selection", ["validation", "test"])
def test_outputs_are_written_and_labelled(tmp_path, selection):
    root = _fake_study(tmp_path)
    out = tmp_path / "run"
    train_encoder(**_options(root, out, epochs=3, selection=selection))
    model, checkpoint = load_encoder(out / "model.pt")
    assert checkpoint["selection"] == selection and 1 <= checkpoint["epoch"] <= 3
    assert model(torch.zeros(2, 63, 100)).shape == (2, 8)
    last = torch.load(out / "last.pt", weights_only=True)
    assert last["epoch"] == 3 and last["selection"] == selection
    with open(out / "history.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert {r["selection_set"] for r in rows} == {selection}
    assert not (out / RESUME_FILE).exists()


def _history(out):
    with open(out / "history.csv") as stream:
        return list(csv.DictReader(stream))


def test_the_epoch_is_selected_by_the_k_way_accuracy_asked_for(tmp_path):
    root = _fake_study(tmp_path)
    train_encoder(**_options(root, tmp_path / "all", epochs=3), selection_k="all")
    train_encoder(**_options(root, tmp_path / "two", epochs=3), selection_k=2)
    every, two_way = _history(tmp_path / "all"), _history(tmp_path / "two")
    # 2 held-out concepts of 2 images: 4 candidates; the same training, scored 4-way and 2-way
    assert {r["selection_k"] for r in every} == {"4"} and {r["selection_k"] for r in two_way} == {"2"}
    assert [r["train_loss"] for r in every] == [r["train_loss"] for r in two_way]
    scores = [(float(a["selection_top1"]), float(b["selection_top1"])) for a, b in zip(every, two_way, strict=True)]
    assert all(four <= two for four, two in scores) and any(four < two for four, two in scores), scores
    best = max(range(3), key=lambda epoch: (scores[epoch][1], -epoch))
    checkpoint = torch.load(tmp_path / "two" / "model.pt", weights_only=True)
    assert checkpoint["selection_k"] == 2 and checkpoint["epoch"] == best + 1


@pytest.mark.parametrize("selection_k", [1, 5, "most", True])
def test_a_selection_k_outside_the_selection_set_is_refused(tmp_path, selection_k):
    root = _fake_study(tmp_path)
    with pytest.raises(ValueError, match=r"training.selection_k must be 'all' or an integer in 2..4"):
        train_encoder(**_options(root, tmp_path / "run", epochs=1), selection_k=selection_k)


def test_same_seed_same_weights(tmp_path):
    root = _fake_study(tmp_path)
    train_encoder(**_options(root, tmp_path / "a", epochs=2))
    train_encoder(**_options(root, tmp_path / "b", epochs=2))
    first = torch.load(tmp_path / "a" / "last.pt", weights_only=True)["state_dict"]
    second = torch.load(tmp_path / "b" / "last.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_killed_training_resumes_to_the_same_weights(tmp_path):
    root = _fake_study(tmp_path)
    epochs = 30
    killed = tmp_path / "killed"
    script = (
        "import necomimi, sys, json\n"
        "from necomimi.training.loop import train_encoder\n"
        "train_encoder(**json.loads(sys.argv[1]))\n"
    )
    import json

    process = subprocess.Popen([sys.executable, "-c", script, json.dumps(_options(root, killed, epochs))])
    resume = killed / RESUME_FILE
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if resume.exists() and torch.load(resume, weights_only=True)["epoch"] >= 3:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    assert process.wait() == -signal.SIGKILL, "training finished before it could be killed"
    assert not (killed / "model.pt").exists()
    train_encoder(**_options(root, killed, epochs))  # the rerun resumes
    train_encoder(**_options(root, tmp_path / "whole", epochs))
    for name in ("model.pt", "last.pt"):
        resumed = torch.load(killed / name, weights_only=True)
        whole = torch.load(tmp_path / "whole" / name, weights_only=True)
        assert resumed["epoch"] == whole["epoch"]
        assert all(torch.equal(resumed["state_dict"][k], whole["state_dict"][k]) for k in whole["state_dict"])
    assert (killed / "history.csv").read_text() == (tmp_path / "whole" / "history.csv").read_text()


class _DeviceChecking(torch.nn.Module):
    """A linear map that refuses inputs on another device than its weight."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(3, 2))

    def forward(self, x):
        assert x.device == self.weight.device, f"input on {x.device}, model on {self.weight.device}"
        return x.flatten(1) @ self.weight


def test_embed_moves_each_batch_to_the_models_device():
    """Each batch goes to ``device`` before the forward pass; outputs stay there."""
    # the meta device stands for a GPU: no data, but tensors must not be mixed with CPU ones
    model = _DeviceChecking().to("meta")
    out = embed(model, np.ones((5, 3, 1), dtype=np.float32), device=torch.device("meta"), batch_size=2)
    assert out.device.type == "meta" and out.shape == (5, 2)
    on_cpu = embed(_DeviceChecking(), np.ones((5, 3, 1), dtype=np.float32), batch_size=2)
    torch.testing.assert_close(on_cpu, torch.full((5, 2), 3.0))


@pytest.mark.parametrize("mode", ["reference", "openclip"])
def test_loss_stays_on_the_device_of_its_inputs(mode):
    """The labels of the cross-entropy are made on the device of the embeddings."""
    eeg, image, text = (torch.randn(4, 8, device="meta") for _ in range(3))
    value = ContrastiveLoss(mode).to("meta")(eeg, image, text)
    assert value.device.type == "meta" and value.shape == ()


def test_a_training_step_keeps_every_tensor_on_the_device(tmp_path, monkeypatch):
    """Forward, loss, backward and AdamW step run on a non-CPU device.

    The meta device stands for a GPU: any CPU tensor mixed into the step (a batch, a
    target, the loss's labels) raises a device mismatch. Meta tensors hold no data, so
    the first thing that reads a value, the loss's ``item()``, stops the run there.
    """
    monkeypatch.setattr(loop, "resolve_device", lambda name: torch.device("meta"))
    root = _fake_study(tmp_path)
    with pytest.raises(RuntimeError, match=r"item\(\) cannot be called on meta tensors"):
        train_encoder(**_options(root, tmp_path / "run", epochs=1), device="cuda")


def test_an_unknown_device_is_refused_with_its_name(tmp_path):
    """A bad or absent device stops training with the value named."""
    root = _fake_study(tmp_path)
    with pytest.raises(ValueError, match="'gpu0'"):
        train_encoder(**_options(root, tmp_path / "run", epochs=1), device="gpu0")
    with pytest.raises(ValueError, match="'cuda:1'.*no CUDA device"):
        train_encoder(**_options(root, tmp_path / "run", epochs=1), device="cuda:1")


def test_cpu_device_gives_the_weights_of_the_default(tmp_path):
    """``device="cpu"`` is the default: the same weights and history, bit for bit."""
    root = _fake_study(tmp_path)
    train_encoder(**_options(root, tmp_path / "default", epochs=2))
    train_encoder(**_options(root, tmp_path / "cpu", epochs=2), device="cpu")
    for name in ("model.pt", "last.pt"):
        default = torch.load(tmp_path / "default" / name, weights_only=True)["state_dict"]
        cpu = torch.load(tmp_path / "cpu" / name, weights_only=True)["state_dict"]
        assert all(torch.equal(default[k], cpu[k]) for k in default)
    assert (tmp_path / "default" / "history.csv").read_text() == (tmp_path / "cpu" / "history.csv").read_text()


def test_checkpoints_written_on_a_gpu_load_and_resume_on_the_cpu(tmp_path, monkeypatch):
    """``model.pt``, ``last.pt`` and ``.resume.pt`` of a CUDA run load on a CPU-only machine.

    A CUDA run is stood for by tagging every saved storage ``cuda:0``, as torch does
    for tensors on a GPU: loading such a file without ``map_location`` fails where
    CUDA is absent. The run keeps its ``.resume.pt``, which a longer rerun resumes from.
    """
    import pathlib

    root = _fake_study(tmp_path)
    gpu = tmp_path / "gpu"
    unlink = pathlib.Path.unlink
    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        patch.setattr(pathlib.Path, "unlink",
                      lambda path, **kw: None if path.name == RESUME_FILE else unlink(path, **kw))
        train_encoder(**_options(root, gpu, epochs=2))
    assert (gpu / RESUME_FILE).is_file()
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(gpu / "model.pt", weights_only=True)
    model, checkpoint = load_encoder(gpu / "model.pt")
    assert next(model.parameters()).device.type == "cpu" and checkpoint["epoch"] in (1, 2)
    train_encoder(**_options(root, gpu, epochs=3))  # resumes at epoch 3 from the "GPU" file
    train_encoder(**_options(root, tmp_path / "whole", epochs=3))
    resumed = torch.load(gpu / "last.pt", weights_only=True)["state_dict"]
    whole = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(resumed[k], whole[k]) for k in whole)
    assert (gpu / "history.csv").read_text() == (tmp_path / "whole" / "history.csv").read_text()
