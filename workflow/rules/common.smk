# Config validation and the helpers every rule file uses.
import necomimi  # installs the CPU torchvision/torchaudio compatibility finder first
from necomimi.config import check_config

check_config(config, workflow.source_path("../schemas/config.schema.yaml"))

DATA = config["data"]
SYNTHETIC = DATA["source"] == "synthetic"
FROM_PREPROCESSED = "preprocessed_dir" in DATA


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


def raw_subject_dir(wildcards):
    """The folder holding one subject's ses-YY/ raw recordings."""
    root = "resources/synthetic/raw" if SYNTHETIC else DATA["raw_dir"]
    return f"{root}/sub-{wildcards.subject}"


def raw_files(wildcards):
    """One subject's raw recordings: generated (demo) or the user's (real data)."""
    if SYNTHETIC:
        return synthetic_raw_files(wildcards.subject)
    return expand(
        "{subject_dir}/ses-{session:02d}/raw_eeg_{partition}.npy",
        subject_dir=raw_subject_dir(wildcards),
        session=range(1, config["recording"]["n_sessions"] + 1),
        partition=["training", "test"],
    )


def preprocessing_options():
    """Keyword arguments of necomimi.preprocessing.preprocess_subject."""
    recording = config["recording"]
    return {
        **config["preprocessing"],
        "n_sessions": recording["n_sessions"],
        "train_reps_per_session": recording["train_reps_per_session"],
        "test_reps_per_session": recording["test_reps_per_session"],
    }


def final_outputs():
    """What the default target builds: the furthest stage the workflow has so far.

    Until the study is complete this is the preprocessed EEG of every subject.
    """
    return expand(
        "results/preprocessed/sub-{subject}/{name}",
        subject=config["subjects"],
        name=["eeg_train.npy", "eeg_test.npy", "info.json"],
    )
