"""Debian packages for the tests that need system software (SLURM, Chromium).

The tests install what they need with ``apt-get`` where it is missing and they run as
root (CI containers), and skip with the reason otherwise: :func:`apt_install` raises
:class:`AptUnavailable` with a message fit for ``pytest.skip``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence


class AptUnavailable(RuntimeError):
    """The packages are missing and cannot be installed here."""


def missing(executables: Sequence[str]) -> list[str]:
    """Return the executables (names on PATH or absolute paths) not found."""
    return [name for name in executables if shutil.which(name) is None]


def apt_install(packages: Sequence[str], executables: Sequence[str]) -> None:
    """Install Debian ``packages`` with apt-get where one of ``executables`` is missing.

    Parameters
    ----------
    packages : list of str
        Debian package names.
    executables : list of str
        What the packages provide (names on PATH or absolute paths); nothing is
        installed when all are there.

    Raises
    ------
    AptUnavailable
        Not root, no apt-get, apt-get failed (no package source reachable) or the
        executables still missing afterwards; the message says which.
    """
    if not missing(executables):
        return
    wanted = " ".join(packages)
    absent = ", ".join(missing(executables))
    if os.geteuid() != 0:
        raise AptUnavailable(f"{absent} missing; installing {wanted} needs root")
    if shutil.which("apt-get") is None:
        raise AptUnavailable(f"{absent} missing and no apt-get to install {wanted}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", *packages]
    for command in (["apt-get", "update", "-q"], install):
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip()[-500:]
            raise AptUnavailable(
                f"`{' '.join(command)}` failed (exit {result.returncode}): {tail}"
            )
    if missing(executables):
        absent = ", ".join(missing(executables))
        raise AptUnavailable(f"{absent} still missing after installing {wanted}")
