"""The demo study on the synthetic THINGS-MEG: ``--config modality=meg``, end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from necomimi.clip.targets import read_targets
from necomimi.data.synthetic.meg_signal import OCCIPITAL_SENSORS, SENSORS
from tests.workflow.test_workflow import DEMO_CONFIG, snakemake

MEG = ("--configfile", str(DEMO_CONFIG), "--config", "modality=meg")
SPEC = yaml.safe_load(DEMO_CONFIG.read_text())["meg"]["synthetic"]
ENCODERS = ("nerv", "nervformer_v1", "muse", "atms", "nice")
CONDITIONS = ("original", "perturbed_occipital")
N_TRAIN = (SPEC["n_concepts"] - SPEC["n_test_concepts"]) * SPEC["exp_images_per_concept"]
N_CHANNELS = len(SENSORS) - 1  # the dead MRO11-1609 dropped


@pytest.fixture(scope="module")
def meg_study(tmp_path_factory) -> Path:
    """A folder where the whole demo study has run once on the synthetic THINGS-MEG."""
    root = tmp_path_factory.mktemp("meg_study")
    run = snakemake(*MEG, "--cores", "2", cwd=root)
    assert run.returncode == 0, run.stderr[-3000:]
    return root


@pytest.mark.workflow
def test_meg_demo_runs_to_its_cat_table_apart_from_the_eeg_study(meg_study):
    root = meg_study
    results = root / "results" / "meg"
    # Outputs, logs and the synthetic data live apart from the EEG study's.
    assert sorted(p.name for p in (root / "results").iterdir()) == ["meg"]
    assert sorted(p.name for p in (root / "logs").iterdir()) == ["meg"]
    assert (root / "resources" / "synthetic" / "meg" / "ds004212" / "sub-BIGMEG2").is_dir()
    # Both entry points ran: B made each derivative from the raw runs, A the arrays.
    for subject in ("01", "02"):
        assert (results / "derivatives" / f"sub-{subject}" / f"preprocessed_P{int(subject)}-epo.fif").is_file()
        out = results / "preprocessed" / f"sub-{subject}"
        assert np.load(out / "train.npy", mmap_mode="r").shape == (N_TRAIN, N_CHANNELS, 201)
        test_shape = (SPEC["n_test_concepts"], SPEC["n_sessions"], N_CHANNELS, 201)
        assert np.load(out / "test.npy", mmap_mode="r").shape == test_shape
    # The CLIP targets follow the arrays' rows.
    train_index = pd.read_csv(results / "preprocessed" / "sub-01" / "train_index.tsv", sep="\t")
    targets = read_targets(results / "targets" / "clip_targets.h5", "training")
    assert targets.folder == list(train_index["folder"])
    # Every encoder was built for the MEG's sensors and samples.
    checkpoint = torch.load(results / "encoders/intra/atms/sub-01/seed-0/model.pt", weights_only=False)
    assert (checkpoint["config"]["n_chans"], checkpoint["config"]["n_times"]) == (N_CHANNELS, 201)
    # The perturbed condition replaced exactly the occipital sensors by noise.
    log = (root / "logs/meg/extract_features/intra_nerv_sub-01_seed-0.log").read_text()
    assert f"channels {', '.join(OCCIPITAL_SENSORS)} replaced by noise" in log

    retrieval = pd.read_csv(results / "retrieval.csv", dtype={"subject": str})
    assert set(retrieval["encoder"]) == set(ENCODERS) and set(retrieval["condition"]) == set(CONDITIONS)
    largest = retrieval[(retrieval["k"] == retrieval["k"].max()) & (retrieval["top"] == 1)]
    by_condition = largest.groupby("condition")["accuracy"].mean()
    # The synthetic MEG carries its image information in the occipital sensors only.
    assert by_condition["perturbed_occipital"] < by_condition["original"], by_condition

    cat = pd.read_csv(results / "cat_scores.csv")
    assert len(cat) == len(ENCODERS) * len(CONDITIONS) * 3
    assert set(cat["condition"]) == set(CONDITIONS) and (cat["n_points"] == SPEC["n_test_concepts"] * 5).all()
    assert (cat["ceiling"] >= 2 * cat["chance"]).all(), cat[["ceiling", "chance"]]
    assert "| NERV Two-Stage |" in (results / "tables" / "cat_table3.md").read_text()
    images = results / "images/intra/nerv/sub-02/seed-0/perturbed_occipital/two_stage"
    assert len(list(images.glob("*.png"))) == SPEC["n_test_concepts"]

    again = snakemake(*MEG, "--cores", "2", cwd=root)
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr
    # The EEG study plans its own outputs in the same folder and none of the MEG's.
    eeg = snakemake("-n", "--configfile", str(DEMO_CONFIG), cwd=root)
    assert eeg.returncode == 0, eeg.stderr[-2000:]
    assert "results/preprocessed/sub-01/eeg_train.npy" in eeg.stdout and "results/meg" not in eeg.stdout


def _job_counts(stdout: str) -> dict[str, int]:
    """Rule -> number of jobs, from a dry run's "Job stats" table."""
    table = stdout.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    rows = (line.split() for line in table.splitlines()[3:] if line.strip())
    return {rule: int(count) for rule, count in rows if rule != "total"}


@pytest.mark.workflow
def test_meg_single_subject_recipe_reruns_that_subject_only(meg_study):
    """Rerunning sub-02's preprocessing reruns its own jobs and the tables, not its raw data or targets."""
    result = snakemake(*MEG, "-n", "--forcerun", "results/meg/preprocessed/sub-02/info.json", cwd=meg_study)
    assert result.returncode == 0, result.stderr[-2000:]
    per_run = dict.fromkeys(("train_encoder", "extract_features", "evaluate_retrieval", "train_prior",
                             "generate_images", "score_images"), len(ENCODERS))  # fmt: skip
    assert _job_counts(result.stdout) == {"preprocess_meg": 1, **per_run, "tabulate_retrieval": 1,
                                          "tabulate_ablations": 1, "tabulate_images": 1, "all": 1}  # fmt: skip
