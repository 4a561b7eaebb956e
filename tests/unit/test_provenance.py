"""Provenance records of workflow jobs, and the cache of weights-file hashes."""

from __future__ import annotations

import hashlib
import json
import os
from types import SimpleNamespace

import pytest
from snakemake.iocontainers import InputFiles, OutputFiles, Params, Wildcards

import necomimi
from necomimi.utils.hashing import cached_file_sha256
from necomimi.utils.provenance import (
    find_seeds,
    source_revision,
    weight_files,
    write_provenance,
)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_cached_hash_is_reused_only_while_the_file_is_unchanged(tmp_path):
    weights, cache = tmp_path / "model.safetensors", tmp_path / "cache"
    weights.write_bytes(b"first")
    assert cached_file_sha256(weights, cache) == _sha256(b"first")
    (entry,) = cache.iterdir()
    # A stale digest in the entry is returned as long as size and mtime match ...
    record = json.loads(entry.read_text())
    entry.write_text(json.dumps({**record, "sha256": "remembered"}))
    assert cached_file_sha256(weights, cache) == "remembered"
    # ... and dropped once the file changes (same size, new mtime).
    weights.write_bytes(b"other")
    os.utime(weights, ns=(record["mtime_ns"] + 10**9, record["mtime_ns"] + 10**9))
    assert cached_file_sha256(weights, cache) == _sha256(b"other")
    entry.write_text("{not json")
    assert cached_file_sha256(weights, cache) == _sha256(b"other")


def test_weights_files_are_found_in_inputs_and_in_input_folders(tmp_path):
    folder = tmp_path / "sdxl" / "unet"
    folder.mkdir(parents=True)
    (folder / "diffusion_pytorch_model.fp16.safetensors").write_bytes(b"u")
    (folder / "config.json").write_text("{}")
    model, data = tmp_path / "model.pt", tmp_path / "eeg_train.npy"
    model.write_bytes(b"m")
    data.write_bytes(b"d")
    found = weight_files([tmp_path / "sdxl", model, data])
    assert found == sorted([folder / "diffusion_pytorch_model.fp16.safetensors", model])


def test_seeds_are_collected_from_any_depth():
    tree = {"wildcards": {"seed": "2"},
            "config": {"options": {"seed": 7, "lr": 0.1}, "image_seed": 3, "runs": [{"seed": 0}]}}  # fmt: skip
    assert find_seeds(tree) == {"wildcards.seed": "2", "config.options.seed": 7, "config.image_seed": 3,
                                "config.runs.0.seed": 0}  # fmt: skip


def _job(params: dict, inputs: list, output: dict) -> SimpleNamespace:
    """A stand-in for the ``snakemake`` object of a rule's script."""
    wildcards = Wildcards(fromdict={"encoder": "nerv", "subject": "01", "seed": "3"})
    return SimpleNamespace(rule="train_encoder", wildcards=wildcards, params=Params(fromdict=params),
                           input=InputFiles(inputs), output=OutputFiles(fromdict=output))  # fmt: skip


def test_a_job_records_versions_commit_config_seeds_and_weights_hashes(tmp_path):
    model = tmp_path / "model.pt"
    model.write_bytes(b"weights")
    targets = tmp_path / "clip_targets.h5"
    targets.write_bytes(b"data")
    record_file = tmp_path / "provenance" / "job.json"
    params = {"options": {"epochs": 6, "lr": 3e-4, "seed": 11}, "device": "cpu"}
    job = _job(params, [str(model), str(targets)], {"model": str(tmp_path / "out.pt"), "provenance": str(record_file)})
    written = write_provenance(job, cache_dir=tmp_path / "cache")
    record = json.loads(record_file.read_text())
    assert record == written
    assert record["rule"] == "train_encoder" and record["necomimi"] == necomimi.__version__
    assert record["git_commit"] == source_revision()
    assert record["packages"]["torch"] != "not installed"
    assert record["wildcards"] == {"encoder": "nerv", "subject": "01", "seed": "3"}
    assert record["config"] == params
    assert record["seeds"] == {"wildcards.seed": "3", "config.options.seed": 11}
    assert record["weights_sha256"] == {str(model): _sha256(b"weights")}  # data files are not hashed
    # Same job, same record: nothing in it depends on when or where it ran.
    write_provenance(job, cache_dir=tmp_path / "cache")
    assert json.loads(record_file.read_text()) == record


def test_a_rule_without_a_provenance_output_is_named(tmp_path):
    job = _job({}, [], {"model": str(tmp_path / "out.pt")})
    with pytest.raises(KeyError, match="rule train_encoder declares no output named 'provenance'"):
        write_provenance(job, cache_dir=tmp_path / "cache")
