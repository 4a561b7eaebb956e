"""Generated images: three modes, named files, sidecars, and regeneration of one image."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

import necomimi
from necomimi.cli import main
from necomimi.generation.decoder import record_decoder_weights
from necomimi.generation.images import (
    EMBEDDINGS,
    MODES,
    RUN_MODES,
    SIDECAR,
    generate_gt_images,
    generate_images,
    image_file_name,
    regenerate_image,
)
from necomimi.generation.seeds import image_seed
from necomimi.models.prior import DiffusionPriorUNet
from necomimi.utils.hashing import file_sha256
from tests.conftest import unit_rows, write_targets

DIM, N_TEST, SIZE = 12, 3, 32
RUN = {"protocol": "intra", "encoder": "nice", "subject": "01", "seed": 0}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, tiny_decoder):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    write_targets(root / "targets.h5", unit_rows(rng, 4, DIM), unit_rows(rng, N_TEST, DIM))
    torch.save(torch.from_numpy(rng.standard_normal((N_TEST, DIM)).astype(np.float32)), root / "eeg_test.pt")
    torch.manual_seed(0)
    prior = DiffusionPriorUNet(DIM, DIM, hidden_dim=[16, 8], time_embed_dim=8)
    torch.save({"config": prior.config, "state_dict": prior.state_dict(), "scheduler": {}, "seed": 0,
                "necomimi_version": necomimi.__version__}, root / "prior.pt")  # fmt: skip
    record_decoder_weights(*tiny_decoder, root / "weights.json")
    return root


DECODER = {"variant": None, "ip_adapter_scale": 1.0, "num_inference_steps": 2, "guidance_scale": 0.0,
           "height": SIZE, "width": SIZE}


def _decoder(tiny_decoder, batch_size=1):
    sdxl, ip_adapter = tiny_decoder
    return {"sdxl_turbo": str(sdxl), "ip_adapter": str(ip_adapter), **DECODER, "batch_size": batch_size}


def _generate(inputs, tiny_decoder, out, modes=RUN_MODES, batch_size=1, conditions=("original",)):
    generate_images(
        targets_file=inputs / "targets.h5", weights_record=inputs / "weights.json", conditions=conditions, modes=modes,
        features_files=[inputs / "eeg_test.pt"] * len(conditions), prior_files=[inputs / "prior.pt"] * len(conditions),
        out_dirs=[out / condition / mode for condition in conditions for mode in modes],
        run=RUN, seed=42, decoder=_decoder(tiny_decoder, batch_size),
        prior_sampling={"num_inference_steps": 5, "guidance_scale": 5.0}, device="cpu",
    )  # fmt: skip


@pytest.fixture(scope="module")
def generated(inputs, tiny_decoder, tmp_path_factory):
    """One run's images, in two conditions, and the gt images beside (``gt``)."""
    out = tmp_path_factory.mktemp("generated")
    _generate(inputs, tiny_decoder, out, conditions=("original", "perturbed_visual"))
    generate_gt_images(targets_file=inputs / "targets.h5", weights_record=inputs / "weights.json",
                       out_dir=out / "original" / "gt", seed=42, decoder=_decoder(tiny_decoder))  # fmt: skip
    return out / "original"


def test_gt_images_are_rendered_once_for_no_run(generated, inputs):
    sidecar = json.loads((generated / "gt" / SIDECAR).read_text())
    assert sidecar["run"] is None and sidecar["mode"] == "gt" and sidecar["prior_sampling"] is None
    assert sidecar["inputs"] == {"targets": str(inputs / "targets.h5")}
    assert sidecar["sha256"]["targets"] == file_sha256(inputs / "targets.h5")
    assert not (generated.parent / "perturbed_visual" / "gt").exists()


def test_gt_images_are_those_a_run_would_render_from_the_same_embeddings(generated, inputs, tiny_decoder, tmp_path):
    """The shared gt images equal a run's rendering of the test images' embeddings (same seeds)."""
    torch.save(torch.load(generated / "gt" / EMBEDDINGS, weights_only=True), tmp_path / "eeg_test.pt")
    generate_images(targets_file=inputs / "targets.h5", weights_record=inputs / "weights.json", conditions=["x"],
                    modes=["one_stage"], features_files=[tmp_path / "eeg_test.pt"], prior_files=None,
                    out_dirs=[tmp_path / "x"], run=RUN, seed=42, decoder=_decoder(tiny_decoder),
                    prior_sampling={})  # fmt: skip
    for path in (generated / "gt").glob("*.png"):
        assert (tmp_path / "x" / path.name).read_bytes() == path.read_bytes()


def test_decoder_weights_hashes_are_read_from_the_cache(tiny_decoder, tmp_path):
    cache = tmp_path / "cache"
    record_decoder_weights(*tiny_decoder, tmp_path / "first.json", cache_dir=cache)
    first = json.loads((tmp_path / "first.json").read_text())
    assert first["ip_adapter"] == file_sha256(tiny_decoder[1])
    for entry in cache.glob("*.json"):
        stamp = json.loads(entry.read_text())
        entry.write_text(json.dumps({**stamp, "sha256": "remembered"}))
    record_decoder_weights(*tiny_decoder, tmp_path / "again.json", cache_dir=cache)
    again = json.loads((tmp_path / "again.json").read_text())
    assert set(again) == set(first) and set(again.values()) == {"remembered"}


def test_each_mode_folder_holds_named_images_embeddings_and_a_sidecar(generated, inputs):
    for mode in MODES:
        folder = generated / mode
        names = sorted(p.name for p in folder.glob("*.png"))
        assert names == ["000_concept_0.png", "001_concept_1.png", "002_concept_2.png"]
        assert Image.open(folder / names[0]).size == (SIZE, SIZE)
        embeddings = torch.load(folder / EMBEDDINGS, weights_only=True)
        assert embeddings.shape == (N_TEST, DIM)
        sidecar = json.loads((folder / SIDECAR).read_text())
        assert sidecar["mode"] == mode and sidecar["seed"] == 42
        assert sidecar["run"] == (None if mode == "gt" else {**RUN, "condition": "original"})
        assert sidecar["device"] == "cpu" and sidecar["dtype"] == "float32" and sidecar["batch_size"] == 1
        assert sidecar["sha256"]["ip_adapter"] == json.loads((inputs / "weights.json").read_text())["ip_adapter"]
        assert mode == "gt" or sidecar["sha256"]["features"] == file_sha256(inputs / "eeg_test.pt")
        entry = sidecar["images"][1]
        assert entry["file"] == "001_concept_1.png" and entry["concept"] == "00002_concept_1"
        assert entry["seed"] == image_seed(42, 1, "decoder")
        assert entry["sha256"] == file_sha256(folder / entry["file"])
        assert not list(generated.glob(f".{mode}.*"))  # no temporary folder left behind
    gt = torch.load(generated / "gt" / EMBEDDINGS, weights_only=True)
    torch.testing.assert_close(gt, torch.from_numpy(unit_rows(np.random.default_rng(0), 4 + N_TEST, DIM)[4:]))
    one_stage = torch.load(generated / "one_stage" / EMBEDDINGS, weights_only=True)
    torch.testing.assert_close(one_stage, torch.load(inputs / "eeg_test.pt", weights_only=True))
    two_stage = json.loads((generated / "two_stage" / SIDECAR).read_text())
    assert two_stage["images"][0]["prior_seed"] == image_seed(42, 0, "prior")
    assert two_stage["inputs"]["prior"].endswith("prior.pt")
    assert "prior_seed" not in json.loads((generated / "gt" / SIDECAR).read_text())["images"][0]


def test_same_inputs_give_byte_identical_images(generated, inputs, tiny_decoder, tmp_path):
    _generate(inputs, tiny_decoder, tmp_path, modes=("two_stage",))
    for path in (generated / "two_stage").glob("*.png"):
        assert (tmp_path / "original" / "two_stage" / path.name).read_bytes() == path.read_bytes(), path.name


def test_any_image_regenerates_alone_identically(generated, tmp_path, monkeypatch, capsys):
    assert regenerate_image(generated / "two_stage", 2, tmp_path / "again.png") == (tmp_path / "again.png", True)
    assert (tmp_path / "again.png").read_bytes() == (generated / "two_stage" / "002_concept_2.png").read_bytes()
    monkeypatch.chdir(tmp_path)
    assert main(["regenerate", str(generated / "gt"), "1"]) == 0
    assert (tmp_path / "001_concept_1.png").read_bytes() == (generated / "gt" / "001_concept_1.png").read_bytes()
    assert "identical to the recorded image 1" in capsys.readouterr().out


def test_batched_images_regenerate_within_their_batch(inputs, tiny_decoder, tmp_path):
    """Images are rendered in batches; regeneration renders the same batch."""
    _generate(inputs, tiny_decoder, tmp_path, modes=("one_stage",), batch_size=2)
    folder = tmp_path / "original" / "one_stage"
    assert json.loads((folder / SIDECAR).read_text())["batch_size"] == 2
    for index in (1, 2):  # the second of the batch (0, 1), and the last image alone
        out, identical = regenerate_image(folder, index, tmp_path / f"{index}.png")
        assert identical and out.read_bytes() == next(folder.glob(f"00{index}_*.png")).read_bytes()


def test_regeneration_on_a_cpu_uses_the_recorded_thread_count(inputs, tiny_decoder, tmp_path):
    """A CPU's thread count changes the last bits of an image: it is recorded and reused."""
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # as a one-thread Snakemake job
        _generate(inputs, tiny_decoder, tmp_path, modes=("one_stage",), batch_size=2)
        folder = tmp_path / "original" / "one_stage"
        assert json.loads((folder / SIDECAR).read_text())["cpu_threads"] == 1
        torch.set_num_threads(2)  # as a Python session on two cores
        _, identical = regenerate_image(folder, 1, tmp_path / "again.png")
        assert identical and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)


def test_a_changed_image_is_reported_as_different(generated, tmp_path):
    folder = tmp_path / "gt"
    folder.mkdir()
    for path in (generated / "gt").iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    sidecar = json.loads((folder / SIDECAR).read_text())
    sidecar["images"][0]["seed"] += 1
    (folder / SIDECAR).write_text(json.dumps(sidecar))
    assert main(["regenerate", str(folder), "0", "--out", str(tmp_path / "x.png")]) == 1


def test_bad_requests_are_refused_clearly(generated, inputs, tiny_decoder, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["regenerate", str(generated / "gt"), "7"])
    assert "index 7 out of range; the folder holds images 0..2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["regenerate", str(tmp_path), "0"])
    assert "images.json: missing" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"unknown generation mode\(s\) \['gt'\] of a run.*generate_gt_images"):
        _generate(inputs, tiny_decoder, tmp_path, modes=("gt",))
    moved = tmp_path / "moved"
    moved.mkdir()
    for path in (generated / "gt").iterdir():
        (moved / path.name).write_bytes(path.read_bytes())
    sidecar = json.loads((moved / SIDECAR).read_text())
    sidecar["decoder"]["sdxl_turbo"] = "models/absent-sdxl-turbo"
    (moved / SIDECAR).write_text(json.dumps(sidecar))
    with pytest.raises(FileNotFoundError,
                       match=r"sdxl_turbo models/absent-sdxl-turbo not found from .*run the command there"):
        regenerate_image(moved, 0, tmp_path / "x.png")
    torch.save(torch.zeros(N_TEST + 1, DIM), tmp_path / "eeg_test.pt")
    with pytest.raises(ValueError, match=r"eeg_test.pt: 4 test features for 3 test images"):
        generate_images(targets_file=inputs / "targets.h5", weights_record=inputs / "weights.json",
                        conditions=["original"], modes=["one_stage"], features_files=[tmp_path / "eeg_test.pt"],
                        prior_files=None, out_dirs=[tmp_path / "one_stage"], run=RUN, seed=0,
                        decoder=_decoder(tiny_decoder), prior_sampling={})  # fmt: skip
    with pytest.raises(ValueError, match="mode two_stage needs a prior file per condition"):
        generate_images(targets_file=inputs / "targets.h5", weights_record=inputs / "weights.json",
                        conditions=["original"], modes=["two_stage"], features_files=[tmp_path / "eeg_test.pt"],
                        prior_files=None, out_dirs=[tmp_path / "x"], run=RUN, seed=0, decoder={},
                        prior_sampling={})  # fmt: skip


def test_file_names_carry_the_test_index_and_concept():
    assert image_file_name(0, "00001_aircraft_carrier", 200) == "000_aircraft_carrier.png"
    assert image_file_name(199, "00200_zucchini", 200) == "199_zucchini.png"
    assert image_file_name(7, "00008_x", 1500) == "0007_x.png"
