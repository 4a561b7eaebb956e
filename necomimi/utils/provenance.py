"""Provenance records: what made a workflow job's outputs.

Every job of the workflow writes one JSON record beside its outputs
(``results/provenance/<rule>/<job>.json``, declared as the rule's ``provenance``
output): the necomimi version and git commit, Python and key library versions, the
job's wildcards, the config slice it ran with (its resolved ``params``), every seed
among them, and the SHA-256 of every weights file it read. The record holds no times
or host names, so the same inputs and config give the same record; when and where a
job ran is in its log and in Snakemake's metadata.
"""

from __future__ import annotations

import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

import necomimi
from necomimi.utils.atomic import atomic_path
from necomimi.utils.hashing import SHA256_CACHE_DIR, cached_file_sha256

#: Libraries whose versions every record names.
KEY_PACKAGES = (
    "numpy", "scipy", "mne", "torch", "braindecode", "open_clip_torch", "diffusers", "transformers", "snakemake",
)  # fmt: skip
#: Suffixes of the weights files whose SHA-256 a record holds (PyTorch, safetensors,
#: Hugging Face and Lightning checkpoints). Files inside an input folder count too.
WEIGHT_SUFFIXES = (".pt", ".pth", ".safetensors", ".bin", ".ckpt")


def package_versions(packages: Iterable[str] = KEY_PACKAGES) -> dict[str, str]:
    """Installed version of each package, or ``"not installed"``."""
    versions = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def software_versions(packages: Iterable[str]) -> dict:
    """The ``necomimi_version``, ``python_version`` and ``package_versions`` of an output's info file."""
    return {
        "necomimi_version": necomimi.__version__,
        "python_version": platform.python_version(),
        "package_versions": package_versions(packages),
    }


def weight_files(paths: Iterable[str | Path]) -> list[Path]:
    """The weights files among ``paths``, and inside those that are folders, sorted."""
    found = set()
    for path in map(Path, paths):
        if path.is_dir():
            found.update(p for p in path.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
        elif path.suffix in WEIGHT_SUFFIXES:
            found.add(path)
    return sorted(found)


def _jsonable(value):
    """``value`` with mappings and sequences made plain (Snakemake's Namedlist, tuples)."""
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def find_seeds(tree, prefix: str = "") -> dict:
    """Every value under a key named ``seed``, ``seeds`` or ``*_seed``, by dotted path."""
    seeds = {}
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            path = f"{prefix}{key}"
            if key in ("seed", "seeds") or str(key).endswith("_seed"):
                seeds[path] = value
            else:
                seeds.update(find_seeds(value, f"{path}."))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            seeds.update(find_seeds(value, f"{prefix}{index}."))
    return seeds


def source_revision(path: str | Path = Path(necomimi.__file__).parent) -> str:
    """The git commit of the checkout holding ``path``, or why there is none.

    ``"<sha> (with uncommitted changes)"`` when tracked files differ from the commit;
    ``"not a git checkout"`` for an installed package or a machine without git.
    """
    try:
        git = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        sha = git.stdout.strip()
        changed = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"{sha} (with uncommitted changes)" if changed else sha


def provenance_record(
    *,
    rule: str,
    wildcards: Mapping,
    params: Mapping,
    inputs: Iterable[str | Path],
    cache_dir: str | Path = SHA256_CACHE_DIR,
) -> dict:
    """What made one job's outputs, as a JSON-ready dict.

    Parameters
    ----------
    rule : str
        The rule's name.
    wildcards : Mapping
        The job's wildcards (the encoder, subject and training seed of a run).
    params : Mapping
        The job's resolved ``params``: the slice of the config it runs with. Snakemake
        reruns a job when these change (its ``params`` rerun trigger), so the record
        and the rerun decision see the same values.
    inputs : iterable of str or Path
        The job's input files and folders; the weights files among them are hashed.
    cache_dir : str or Path
        Where SHA-256 digests of unchanged weights files are remembered between jobs
        (:func:`necomimi.utils.hashing.cached_file_sha256`).

    Returns
    -------
    dict
        Keys ``rule``, ``necomimi``, ``git_commit``, ``python``, ``packages``,
        ``wildcards``, ``config``, ``seeds`` and ``weights_sha256`` (input path ->
        SHA-256).
    """
    wildcards, config = _jsonable(dict(wildcards)), _jsonable(dict(params))
    return {
        "rule": rule,
        "necomimi": necomimi.__version__,
        "git_commit": source_revision(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "wildcards": wildcards,
        "config": config,
        "seeds": find_seeds({"wildcards": wildcards, "config": config}),
        "weights_sha256": {str(path): cached_file_sha256(path, cache_dir) for path in weight_files(inputs)},
    }


def write_provenance(job, cache_dir: str | Path = SHA256_CACHE_DIR) -> dict:
    """Write a workflow job's provenance record to its ``provenance`` output.

    Call it last in a rule's script, once the outputs are written: a failed job leaves
    no record.

    Parameters
    ----------
    job : snakemake.script.Snakemake
        The ``snakemake`` object of a rule's script; its rule must declare a named
        output ``provenance`` (a ``.json`` path).
    cache_dir : str or Path
        See :func:`provenance_record`.

    Returns
    -------
    dict
        The record written.
    """
    if "provenance" not in job.output.keys():
        raise KeyError(f"rule {job.rule} declares no output named 'provenance' for its provenance record")
    record = provenance_record(
        rule=job.rule,
        wildcards=dict(job.wildcards.items()),
        params=dict(job.params.items()),
        inputs=[path for path in job.input if path],
        cache_dir=cache_dir,
    )
    with atomic_path(job.output.provenance) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return record
