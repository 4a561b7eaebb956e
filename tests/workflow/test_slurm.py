"""The workflow on a real SLURM scheduler: a one-node cluster on localhost.

Marked ``slurm``: it needs root (it installs Debian's slurm-wlm and munge with apt-get
where they are missing, writes /etc/slurm/slurm.conf and starts the daemons). CI runs
it; skip it elsewhere with ``-m "not slurm"``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.slurm_cluster import Cluster, install
from tests.workflow.test_workflow import DEMO_CONFIG, PREPROCESSED, snakemake

pytestmark = pytest.mark.slurm

#: Three rules in a chain: synthesize_images, synthesize_subject, preprocess_subject.
TARGET = "results/preprocessed/sub-01/info.json"
SLURM_ARGS = [
    "--workflow-profile", str(Path(__file__).resolve().parents[2] / "profiles" / "slurm"),
    "--configfile", str(DEMO_CONFIG),
    "--jobs", "2",
    "--slurm-status-command", "squeue",  # no accounting storage on the test cluster
    "--slurm-init-seconds-before-status-checks", "1",
    "--latency-wait", "5",
    "--retries", "0",
]  # fmt: skip


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("bringing up a SLURM cluster needs root (apt-get, /etc/slurm, daemons)")
    try:
        install()
    except Exception as error:  # no package source reachable: say so in the test summary (-ra)
        pytest.skip(f"cannot install slurm-wlm and munge with apt-get: {error}")
    running = Cluster(tmp_path_factory.mktemp("slurm")).start()
    yield running
    running.stop()


def _rule_jobs(cluster: Cluster) -> list[tuple[str, str]]:
    """(rule, state) of every job the controller remembers, from the plugin's job comment."""
    jobs = []
    for job in cluster.jobs():
        comment = job["comment"]
        if comment.startswith("rule_"):
            jobs.append((comment.removeprefix("rule_").split("_wildcards", 1)[0], job["state"]))
    return jobs


def test_each_rule_runs_as_its_own_slurm_job_like_a_local_run(cluster, tmp_path):
    local, remote = tmp_path / "local", tmp_path / "slurm"
    local.mkdir()
    remote.mkdir()
    ran_locally = snakemake(TARGET, "--configfile", str(DEMO_CONFIG), "--cores", "2", cwd=local)
    assert ran_locally.returncode == 0, ran_locally.stderr[-3000:]

    run = snakemake(TARGET, *SLURM_ARGS, cwd=remote)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert sorted(_rule_jobs(cluster)) == [("preprocess_subject", "COMPLETED"), ("synthesize_images", "COMPLETED"),
                                           ("synthesize_subject", "COMPLETED")]  # fmt: skip
    for name in PREPROCESSED:
        assert (remote / name).read_bytes() == (local / name).read_bytes(), name

    # A failing job fails the run: a corrupted raw recording makes preprocessing fail.
    raw = remote / "resources" / "synthetic" / "raw" / "sub-01" / "ses-01" / "raw_eeg_test.npy"
    raw.write_bytes(b"not a numpy file")
    failed = snakemake(TARGET, *SLURM_ARGS, cwd=remote)
    assert failed.returncode != 0
    assert ("preprocess_subject", "FAILED") in _rule_jobs(cluster), cluster.jobs()
    assert not (remote / TARGET).exists()  # a failed job's outputs are removed, never left half-written
