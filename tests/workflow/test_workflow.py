"""Snakemake runs the demo study end to end and refuses bad configs before any job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from necomimi.data.things_eeg2 import CHANNEL_NAMES
from tests.conftest import REPO, TINY_SPEC

DEMO_CONFIG = REPO / "config" / "config.yaml"
PREPROCESSED = [f"results/preprocessed/sub-01/{name}" for name in ("eeg_train.npy", "eeg_test.npy", "info.json")]


def snakemake(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the repository's workflow with this interpreter's Snakemake in ``cwd``."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)


def test_lint_is_clean():
    result = snakemake("--lint", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "good condition" in result.stdout + result.stderr


@pytest.mark.parametrize("dry_run", [True, False])
def test_unknown_config_key_stops_before_any_job(tmp_path, dry_run):
    args = ["--configfile", str(DEMO_CONFIG), "--cores", "1", "--config", "not_a_key=1"]
    result = snakemake(*(["-n"] if dry_run else []), *args, cwd=tmp_path)
    assert result.returncode != 0
    assert "'not_a_key'" in result.stdout + result.stderr
    assert not (tmp_path / "resources").exists()
    assert not (tmp_path / "logs").exists()


def _real_data_config(tmp_path, data: dict) -> Path:
    """config/things-eeg2.yaml with its data section and design set for TINY_SPEC."""
    config = yaml.safe_load((REPO / "config" / "things-eeg2.yaml").read_text())
    config["data"] = {"source": "things-eeg2", **data}
    config["subjects"] = ["01"]
    config["recording"] = {
        "n_sessions": TINY_SPEC.n_sessions,
        "train_reps_per_session": TINY_SPEC.train_reps_per_session,
        "test_reps_per_session": TINY_SPEC.test_reps_per_session,
    }
    path = tmp_path / "things-eeg2.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_real_data_config_preprocesses_a_things_eeg2_layout(tmp_path, tiny_dataset):
    config = _real_data_config(
        tmp_path,
        {"raw_dir": str(tiny_dataset / "raw"), "image_dir": str(tiny_dataset / "image_set")},
    )
    result = snakemake(*PREPROCESSED, "--configfile", str(config), "--cores", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    train = np.load(tmp_path / "results" / "preprocessed" / "sub-01" / "eeg_train.npy")
    assert train.shape == (TINY_SPEC.n_train_images, 4, 63, 250)
    assert not (tmp_path / "resources").exists()  # no synthetic data generated


def test_real_data_config_can_start_from_reference_preprocessed_files(tmp_path, tiny_dataset):
    legacy_dir = tmp_path / "Preprocessed_data_250Hz" / "sub-01"
    legacy_dir.mkdir(parents=True)
    rng = np.random.default_rng(0)
    data = {"training": rng.standard_normal((6, 4, 63, 250)), "test": rng.standard_normal((2, 8, 63, 250))}
    for partition, values in data.items():
        content = {"preprocessed_eeg_data": values, "ch_names": list(CHANNEL_NAMES),
                   "times": np.arange(-50, 250) / 250.0}  # fmt: skip
        np.save(legacy_dir / f"preprocessed_eeg_{partition}.npy", content, allow_pickle=True)
    config = _real_data_config(
        tmp_path,
        {"preprocessed_dir": str(legacy_dir.parent), "image_dir": str(tiny_dataset / "image_set")},
    )
    result = snakemake(*PREPROCESSED, "--configfile", str(config), "--cores", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = tmp_path / "results" / "preprocessed" / "sub-01"
    np.testing.assert_allclose(np.load(out / "eeg_test.npy"), data["test"].astype(np.float32))
    assert "import_preprocessed" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("target", "missing"),
    [
        (PREPROCESSED[0], "/path/to/THINGS-EEG2/Raw_data/sub-01/ses-01/raw_eeg_training.npy"),
        ("results/targets/clip_targets.h5", "/path/to/laion2b_s32b_b79k/open_clip_pytorch_model.bin"),
        ("results/provenance/decoder_weights.json", "/path/to/sdxl-turbo"),
        ("results/provenance/decoder_weights.json", "/path/to/IP-Adapter/sdxl_models/ip-adapter_sdxl_vit-h.safetensors"),
    ],
)
def test_unfilled_real_data_paths_name_the_missing_files(tmp_path, target, missing):
    config = REPO / "config" / "things-eeg2.yaml"
    result = snakemake("-n", target, "--configfile", str(config), cwd=tmp_path)
    assert result.returncode != 0
    assert missing in result.stdout + result.stderr


def test_one_subject_on_the_command_line(tmp_path):
    result = snakemake(
        "-n", "--configfile", str(DEMO_CONFIG), "--config", 'subjects=["02"]', cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "sub-02" in result.stdout and "sub-01" not in result.stdout


def test_one_subject_by_its_target_file(tmp_path):
    target = "results/preprocessed/sub-01/eeg_train.npy"
    result = snakemake("-n", target, "--configfile", str(DEMO_CONFIG), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "preprocess_subject" in result.stdout
    assert "sub-01" in result.stdout and "sub-02" not in result.stdout


def _prior_gap(run_dir: Path) -> float:
    """Mean cosine of each prior sample to its own test image minus that to the others."""
    gt, two_stage = (torch.nn.functional.normalize(torch.load(run_dir / mode / "embeddings.pt", weights_only=True), dim=-1)
                     for mode in ("gt", "two_stage"))  # fmt: skip
    similarity = two_stage @ gt.T
    n = len(gt)
    return (similarity.diag().mean() - (similarity.sum() - similarity.diag().sum()) / (n * (n - 1))).item()


def _check_generation(root: Path) -> None:
    """The demo's images: every run, condition and mode; the prior carries the EEG's signal."""
    gaps = {}
    for encoder in ("nerv", "nervformer_v1", "muse", "atms", "nice"):
        for subject in ("01", "02"):
            for condition in ("original", "perturbed_visual"):
                run_dir = root / "results" / "images" / "intra" / encoder / f"sub-{subject}" / "seed-0" / condition
                for mode in ("gt", "one_stage", "two_stage"):
                    sidecar = json.loads((run_dir / mode / "images.json").read_text())
                    assert sidecar["run"]["condition"] == condition and sidecar["mode"] == mode
                    names = sorted(p.name for p in (run_dir / mode).glob("*.png"))
                    assert names == [entry["file"] for entry in sidecar["images"]] and len(names) == 20
                gaps[encoder, subject, condition] = _prior_gap(run_dir)
    # Conditioned on the best encoders' EEG features, the prior's samples lie nearer their
    # own test image than the others; replacing the visual channels by noise weakens that.
    for encoder in ("nerv", "atms"):
        for subject in ("01", "02"):
            assert gaps[encoder, subject, "original"] > 0.15, gaps
    original = np.mean([gap for key, gap in gaps.items() if key[2] == "original"])
    perturbed = np.mean([gap for key, gap in gaps.items() if key[2] == "perturbed_visual"])
    assert perturbed < original - 0.02, (perturbed, original)
    # Any image regenerates alone, byte-identical, with the documented command.
    folder = "results/images/intra/nerv/sub-02/seed-0/perturbed_visual/two_stage"
    command = [sys.executable, "-m", "necomimi.cli", "regenerate", folder, "5", "--out", "again.png"]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "again.png").read_bytes() == next((root / folder).glob("005_*.png")).read_bytes()


def _check_image_tables(root: Path) -> None:
    """The study's last stage: image metrics, the CAT score and their tables."""
    results = root / "results"
    cat = pd.read_csv(results / "cat_scores.csv")
    assert list(cat.columns[:5]) == ["protocol", "encoder", "condition", "mode", "judge"]
    assert {"sub-01", "sub-02", "mean", "ci95", "n_points", "ceiling", "chance"} <= set(cat.columns)
    assert len(cat) == 5 * 2 * 3 and set(cat["judge"]) == {"clip"} and (cat["n_points"] == 100).all()
    # The CLIP judge reads the ground-truth images well above its chance level, so the
    # generated images' scores can be read (the demo's untrained decoder scores near chance).
    assert (cat["ceiling"] >= 2 * cat["chance"]).all() and (cat["ceiling"] >= 60).all(), cat[["ceiling", "chance"]]
    metrics = pd.read_csv(results / "image_metrics.csv", dtype={"subject": str})
    computed = metrics[metrics["computed"]]
    assert set(computed["metric"]) == {"ssim", "pixcorr", "clip_2way", "fid_clip"}
    assert len(computed) == 4 * 5 * 2 * 2 * 3 and computed["value"].notna().all()
    assert computed[computed["metric"] == "ssim"]["value"].between(-1, 1).all()
    missing = metrics[~metrics["computed"]]
    assert set(missing["metric"]) == {"fid", "alexnet_2", "alexnet_5", "inception_2way", "effnet_2way",
                                      "effnet_distance", "swav_distance"}  # fmt: skip
    assert missing["note"].str.startswith("not computed: metrics.weights.").all()
    tables = results / "tables"
    assert "| NERV Two-Stage |" in (tables / "cat_table3.md").read_text()
    assert "Ceiling" in (tables / "cat_table3.md").read_text()
    fid = (tables / "fid_table4.md").read_text()
    assert "not computed" in fid and "FID-CLIP" in fid
    assert "| NERV One-Stage |" in (tables / "ssim_table5.md").read_text()
    assert "n/c" in (tables / "reconstruction_metrics.md").read_text()
    for subject in ("01", "02"):
        assert (results / "figures" / "images" / "intra" / "nerv" / f"sub-{subject}" / "seed-0.png").stat().st_size > 0
    verdicts = pd.read_csv(root / "results/cat/intra/nerv/sub-01/seed-0/perturbed_visual/two_stage.csv")
    assert list(verdicts.columns) == ["index", "tag_type", "match"] and len(verdicts) == 100


@pytest.mark.workflow
def test_human_ratings_join_the_image_scores_where_given(tmp_path):
    ratings = tmp_path / "ratings" / "intra" / "nice" / "sub-01" / "seed-0" / "original" / "two_stage.csv"
    ratings.parent.mkdir(parents=True)
    ratings.write_text("index,tag_type,match\n")
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    config["cat"]["human_ratings"] = str(tmp_path / "ratings")
    (tmp_path / "rated.yaml").write_text(yaml.safe_dump(config))
    target = "results/metrics/intra/nice/sub-01/seed-0/image_metrics.csv"
    result = snakemake("-n", "-p", target, "--configfile", str(tmp_path / "rated.yaml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert str(ratings) in result.stdout
    plain = snakemake("-n", target, "--configfile", str(DEMO_CONFIG), cwd=tmp_path)
    assert plain.returncode == 0 and str(ratings) not in plain.stdout


@pytest.mark.workflow
def test_demo_runs_end_to_end_and_incrementally(tmp_path, demo_dataset):
    run = snakemake("--configfile", str(DEMO_CONFIG), "--cores", "2", cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    synthetic = tmp_path / "resources" / "synthetic"
    # The workflow writes exactly what necomimi.data.synthetic writes for the demo
    # config (the demo_dataset fixture uses the generator's defaults for sub-01).
    expected = [p.relative_to(demo_dataset) for p in demo_dataset.rglob("*") if p.is_file()]
    assert len(expected) > 100
    for relative in expected:
        assert (synthetic / relative).read_bytes() == (demo_dataset / relative).read_bytes(), relative
    assert len(list((synthetic / "raw" / "sub-02").rglob("raw_eeg_*.npy"))) == 8
    for subject in ("01", "02"):
        preprocessed = tmp_path / "results" / "preprocessed" / f"sub-{subject}"
        assert np.load(preprocessed / "eeg_train.npy", mmap_mode="r").shape == (120, 4, 63, 100)
        assert np.load(preprocessed / "eeg_test.npy", mmap_mode="r").shape == (20, 8, 63, 100)
    logs = ("synthesize_images.log", "preprocess_subject/sub-02.log", "train_encoder/intra_nerv_sub-01_seed-0.log")
    for log in (f"logs/{name}" for name in logs):
        assert "necomimi 0.1.0" in (tmp_path / log).read_text()

    # The retrieval half of the study: both conditions, five encoders, two subjects.
    results = pd.read_csv(tmp_path / "results" / "retrieval.csv", dtype={"subject": str})
    assert set(results["encoder"]) == {"nerv", "nervformer_v1", "muse", "atms", "nice"}
    assert set(results["condition"]) == {"original", "perturbed_visual"}
    assert set(results["selection"]) == {"validation"}
    largest = results[(results["k"] == 20) & (results["top"] == 1)]
    original = largest[largest["condition"] == "original"].groupby("encoder")["accuracy"].mean()
    perturbed = largest[largest["condition"] == "perturbed_visual"].groupby("encoder")["accuracy"].mean()
    for encoder in ("nerv", "atms"):  # at least three times chance (1/20) at the largest k
        assert original[encoder] >= 3 / 20, (encoder, original[encoder])
    assert perturbed.mean() < original.mean() - 0.03, (perturbed.mean(), original.mean())
    # The Monte Carlo check agrees with the exact expectation.
    assert (np.abs(results["mc_accuracy"] - results["accuracy"]) <= 5 * results["mc_stderr"] + 1e-6).all()
    for table in ("retrieval_table1.md", "retrieval_table2.md"):
        assert "| nerv |" in (tmp_path / "results" / "tables" / table).read_text()

    _check_generation(tmp_path)
    _check_image_tables(tmp_path)

    again = snakemake("--configfile", str(DEMO_CONFIG), "--cores", "2", cwd=tmp_path)
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr

    # leave-one-subject-out on the demo: nice trained on sub-02, tested on sub-01.
    loso = tmp_path / "loso.yaml"
    loso.write_text(DEMO_CONFIG.read_text().replace("protocol: intra", "protocol: loso"))
    target = "results/retrieval/loso/nice/sub-01/seed-0/original.csv"
    run = snakemake(target, "--configfile", str(loso), "--cores", "2", cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "results/preprocessed/sub-02/eeg_train.npy" in (tmp_path / "logs/train_encoder/loso_nice_sub-01_seed-0.log").read_text()
    assert len(pd.read_csv(tmp_path / target)) > 0

    reseeded = tmp_path / "reseeded.yaml"
    reseeded.write_text(DEMO_CONFIG.read_text().replace("seed: 20200220", "seed: 1"))
    changed = snakemake("-n", "--configfile", str(reseeded), cwd=tmp_path)
    # A changed generator parameter reruns the stage (Snakemake's params trigger).
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "synthesize_images" in changed.stdout and "synthesize_subject" in changed.stdout
    assert "preprocess_subject" in changed.stdout


def _job_resources(stdout: str) -> dict[str, set[str]]:
    """Rule -> the distinct 'resources:' lines of its jobs in a dry run's output."""
    rules, rule = {}, None
    for line in stdout.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
        elif line.strip().startswith("resources:") and rule:
            rules.setdefault(rule, set()).add(line.strip())
    return rules


@pytest.mark.parametrize(("device", "gpu_jobs"), [("cuda", 1), ("cpu", 0)])
def test_gpu_stages_ask_for_a_gpu_only_where_the_device_is_cuda(tmp_path, device, gpu_jobs):
    result = snakemake("-n", "--configfile", str(DEMO_CONFIG), "--config", f"device={device}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    resources = _job_resources(result.stdout)
    for rule in ("extract_features", "train_prior", "generate_images", "score_images", "judge_ground_truth"):
        assert all(f"gpu={gpu_jobs}" in line for line in resources[rule]), (rule, resources[rule])
    for rule in ("train_encoder", "preprocess_subject", "tabulate_images"):
        assert not any("gpu=1" in line for line in resources.get(rule, ())), rule
    assert yaml.safe_load((REPO / "profiles" / "default" / "config.yaml").read_text())["resources"] == {"gpu": 1}


def test_slurm_profile_names_only_existing_rules_and_rules_name_no_site():
    listed = snakemake("--list-rules", "--configfile", str(DEMO_CONFIG), cwd=REPO)
    assert listed.returncode == 0, listed.stderr
    rules = set(listed.stdout.split())
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm" and profile["retries"] >= 1
    assert set(profile["set-resources"]) <= rules, set(profile["set-resources"]) - rules
    for rule in ("extract_features", "train_prior", "generate_images", "score_images"):
        assert profile["set-resources"][rule]["gpu"] == 1
    for path in (REPO / "workflow").rglob("*.smk"):
        text = path.read_text()
        assert not any(word in text for word in ("slurm_account", "slurm_partition", "constraint")), path
    for line in (REPO / "profiles" / "slurm" / "config.yaml").read_text().splitlines():
        if line.strip() and not line.strip().startswith("#") and not line.rstrip().endswith(":"):
            assert "#" in line, f"uncommented profile entry: {line!r}"


def test_reviewer_recipes_in_the_readme_run_as_written(tmp_path):
    import shlex

    text = (REPO / "README.md").read_text()
    block = text.split("<!-- reviewer-recipes:", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line) for line in block.splitlines() if line.startswith("snakemake ")]
    assert len(commands) >= 8
    for command in commands:
        args = command[1:]
        if not any(arg in ("--summary", "--list-changes", "-n") for arg in args):
            args = ["-n", *args]  # plan, do not run
        result = snakemake(*args, "--configfile", str(DEMO_CONFIG), cwd=tmp_path)
        assert result.returncode == 0, (command, result.stderr[-2000:])
