"""Send a workflow job's log records, warnings and provenance to its log file."""

from __future__ import annotations

import logging
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import necomimi

_PROVENANCE_PACKAGES = ("numpy", "mne", "torch", "braindecode", "open_clip_torch", "diffusers")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def source_revision(path: str | Path = Path(necomimi.__file__).parent) -> str:
    """The git commit of the checkout holding ``path``, or why there is none.

    ``"<sha> (with uncommitted changes)"`` when tracked files differ from the commit;
    ``"not a git checkout"`` for an installed package or a machine without git.
    """
    try:
        sha = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"{sha} (with uncommitted changes)" if changed else sha


def log_job(log_path: str | Path, params: Mapping | None = None) -> logging.Logger:
    """Log to ``log_path`` from now on and record what this job runs with.

    The first lines name the necomimi, Python and key library versions, the git commit
    of the necomimi source and the job's resolved parameters, so a log alone tells how
    a result was made.

    Parameters
    ----------
    log_path : str or Path
        The rule's ``log:`` file.
    params : Mapping, optional
        The rule's resolved ``params`` (anything with ``items()``, such as
        ``snakemake.params``).
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    logger = logging.getLogger("necomimi")
    versions = ", ".join(f"{p} {_version(p)}" for p in _PROVENANCE_PACKAGES)
    logger.info("necomimi %s, Python %s, %s", necomimi.__version__, platform.python_version(), versions)
    logger.info("necomimi source: git commit %s", source_revision())
    for key, value in params.items() if params is not None else ():
        logger.info("param %s = %r", key, value)
    return logger
