"""Snakemake runs the demo study end to end and refuses bad configs before any job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

DEMO_CONFIG = REPO / "config" / "config.yaml"


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


def test_real_data_config_builds_its_dag(tmp_path):
    result = snakemake("-n", "--configfile", str(REPO / "config" / "things-eeg2.yaml"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_subject_on_the_command_line(tmp_path):
    result = snakemake(
        "-n", "--configfile", str(DEMO_CONFIG), "--config", 'subjects=["02"]', cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sub-02" in result.stdout and "sub-01" not in result.stdout


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
    for log in ("logs/synthesize_images.log", "logs/synthesize_subject/sub-01.log"):
        assert "necomimi 0.1.0" in (tmp_path / log).read_text()
    again = snakemake("--configfile", str(DEMO_CONFIG), "--cores", "2", cwd=tmp_path)
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr
    reseeded = tmp_path / "reseeded.yaml"
    reseeded.write_text(DEMO_CONFIG.read_text().replace("seed: 20200220", "seed: 1"))
    changed = snakemake("-n", "--configfile", str(reseeded), cwd=tmp_path)
    # A changed generator parameter reruns the stage (Snakemake's params trigger).
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "synthesize_images" in changed.stdout and "synthesize_subject" in changed.stdout
