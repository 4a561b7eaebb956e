"""Job logs record versions, the source commit and parameters."""

from __future__ import annotations

import subprocess

from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import source_revision
from tests.conftest import REPO


def test_the_source_commit_is_that_of_the_checkout(tmp_path):
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert source_revision(REPO).split()[0] == head and len(head) == 40
    assert source_revision(tmp_path) == "not a git checkout"


def test_a_job_log_starts_with_versions_commit_and_parameters(tmp_path):
    import logging

    log_job(tmp_path / "job.log", {"seed": 7})
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = (tmp_path / "job.log").read_text()
    assert "necomimi 0.1.0, Python" in text and "torch" in text
    assert f"necomimi source: git commit {source_revision()}" in text
    assert "param seed = 7" in text
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "baseFilename", "").endswith("job.log")]:
        root.removeHandler(handler)
        handler.close()
