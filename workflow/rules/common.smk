# Config validation and the helpers every rule file uses.
import necomimi  # installs the CPU torchvision/torchaudio compatibility finder first
from necomimi.config import check_config

check_config(config, workflow.source_path("../schemas/config.schema.yaml"))


def synthetic_spec():
    """Keyword arguments of necomimi's SyntheticSpec, from the config."""
    return {**config["synthetic"], **config["recording"]}


def synthetic_raw_files(subject):
    """Every raw recording the synthetic generator writes for one subject."""
    return expand(
        "resources/synthetic/raw/sub-{subject}/ses-{session:02d}/raw_eeg_{partition}.npy",
        subject=subject,
        session=range(1, config["recording"]["n_sessions"] + 1),
        partition=["training", "test"],
    )


def final_outputs():
    """What the default target builds: the furthest stage the workflow has so far.

    Until the study is complete this is the synthetic dataset itself (demo only).
    """
    if config["dataset"] != "synthetic":
        return []
    return [
        "resources/synthetic/concept_tags.csv",
        *(f for subject in config["subjects"] for f in synthetic_raw_files(subject)),
    ]
