"""Send a workflow job's log records, warnings and provenance to its log file."""

from __future__ import annotations

import logging
import platform
from collections.abc import Mapping
from pathlib import Path

import necomimi
from necomimi.utils.provenance import package_versions, source_revision


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
    versions = ", ".join(f"{p} {v}" for p, v in package_versions().items())
    logger.info("necomimi %s, Python %s, %s", necomimi.__version__, platform.python_version(), versions)
    logger.info("necomimi source: git commit %s", source_revision())
    for key, value in params.items() if params is not None else ():
        logger.info("param %s = %r", key, value)
    return logger
