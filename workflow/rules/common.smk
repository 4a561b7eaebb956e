# Config validation and the helpers every rule file uses.
import necomimi  # installs the CPU torchvision/torchaudio compatibility finder first
from necomimi.config import check_config

check_config(config, workflow.source_path("../schemas/config.schema.yaml"))

DATA = config["data"]
SYNTHETIC = DATA["source"] == "synthetic"
FROM_PREPROCESSED = "preprocessed_dir" in DATA
IMAGE_DIR = "resources/synthetic/image_set" if SYNTHETIC else DATA["image_dir"]
PROTOCOL = config["training"]["protocol"]
DEMO_CLIP = {
    "model": "necomimi-tiny-clip",
    "pretrained": "resources/models/clip/open_clip_model.safetensors",
    "model_config": "resources/models/clip/necomimi-tiny-clip.json",
}
DEMO_DECODER = {
    "sdxl_turbo": "resources/models/sdxl-turbo-tiny",
    "ip_adapter": "resources/models/ip-adapter/ip-adapter_tiny.safetensors",
}
GENERATION = config["generation"]
MODES = GENERATION["modes"]
#: The run folder of one (protocol, encoder, subject, seed, condition) below each stage.
RUN_CONDITION = "{protocol}/{encoder}/sub-{subject}/seed-{seed}/{condition}"


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


def clip_model():
    """Keyword arguments of necomimi.clip.loading.load_clip (model files as inputs)."""
    if SYNTHETIC:
        return DEMO_CLIP
    return {"model_config": None, **{k: config["clip"][k] for k in config["clip"] if k != "batch_size"}}


def clip_files(wildcards):
    """The CLIP weights (and config) files the targets depend on."""
    return [path for key, path in clip_model().items() if key != "model" and path]


def training_eeg(wildcards):
    """eeg_train.npy of the training subject(s): itself (intra) or all others (loso)."""
    if PROTOCOL == "intra":
        subjects = [wildcards.subject]
    else:
        subjects = [s for s in config["subjects"] if s != wildcards.subject]
    return expand("results/preprocessed/sub-{subject}/eeg_train.npy", subject=subjects)


def training_options():
    """Keyword arguments of necomimi.training.loop.train_encoder from the config."""
    return {k: v for k, v in config["training"].items() if k != "protocol"}


def decoder_weights():
    """The SDXL-Turbo folder and IP-Adapter file: built (demo) or the user's (real data)."""
    if SYNTHETIC:
        return DEMO_DECODER
    return {key: GENERATION[key] for key in ("sdxl_turbo", "ip_adapter")}


def decoder_options():
    """Decoder settings of necomimi.generation.images.generate_images, weights included."""
    settings = {k: v for k, v in GENERATION.items() if k not in ("modes", "seed")}
    return {"variant": None, **settings, **decoder_weights()}


def prior_training_options():
    """Keyword arguments of necomimi.generation.prior.train_prior from the config."""
    return {k: v for k, v in config["prior"].items() if k not in ("num_inference_steps", "guidance_scale")}


def prior_sampling_options():
    """Keyword arguments of necomimi.generation.prior.sample_prior from the config."""
    return {k: config["prior"][k] for k in ("num_inference_steps", "guidance_scale")}


RUNS = [
    {"protocol": PROTOCOL, "encoder": e, "subject": s, "seed": n}
    for e in config["encoders"]
    for s in config["subjects"]
    for n in config["seeds"]
]


def retrieval_files():
    """Per-run retrieval CSVs of every encoder, subject, seed and condition."""
    return [
        "results/retrieval/{protocol}/{encoder}/sub-{subject}/seed-{seed}/{condition}.csv".format(
            **run, condition=condition
        )
        for run in RUNS
        for condition in config["conditions"]
    ]


def history_files():
    """history.csv of every training run, in RUNS order."""
    return [
        "results/encoders/{protocol}/{encoder}/sub-{subject}/seed-{seed}/history.csv".format(**run)
        for run in RUNS
    ]


def image_folders():
    """Every mode folder of generated images: per run, condition and mode."""
    return [
        f"results/images/{RUN_CONDITION}/{{mode}}".format(**run, condition=condition, mode=mode)
        for run in RUNS
        for condition in config["conditions"]
        for mode in MODES
    ]


def final_outputs():
    """What the default target builds: the furthest stage the workflow has so far.

    Until the study is complete these are the retrieval tables (the paper's Tables 1
    and 2) with their inputs, and the generated images of every run, condition and
    mode.
    """
    return [
        "results/retrieval.csv",
        "results/tables/retrieval_table1.md",
        "results/tables/retrieval_table2.md",
        "results/figures/selection_accuracy.png",
        *image_folders(),
    ]
