# Config validation and the helpers every rule file uses.
from pathlib import Path

import necomimi  # installs the CPU torchvision/torchaudio compatibility finder first
from necomimi.config import check_config, config_slice
from necomimi.utils.gpus import job_gpus

check_config(config, workflow.source_path("../schemas/config.schema.yaml"))

#: The checkout this workflow runs from. With `--software-deployment-method conda`,
#: envs/necomimi.post-deploy.sh installs necomimi from it into the new environment;
#: `envvars` passes it on to jobs on other machines.
os.environ["NECOMIMI_SOURCE"] = str(Path(workflow.current_basedir).parents[1])


envvars:
    "NECOMIMI_SOURCE",


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
CONDITIONS = list(config["conditions"])
#: GPUs a job of a GPU stage (CLIP targets, training, features, priors, images, scores)
#: asks for: one where the config's device is CUDA (``auto`` on a machine with an NVIDIA
#: GPU), else none. The default profile allows one GPU job at a time (``resources:
#: gpu=1``); the SLURM profile sets its own requests.
GPU_JOB = job_gpus(config["device"])

#: The folder of one run (protocol, encoder, subject, seed) below each stage. A job
#: of the evaluation and generation stages handles every condition of one run: one
#: process start (4-9 s of imports on a CPU) instead of one per condition.
RUN = "{protocol}/{encoder}/sub-{subject}/seed-{seed}"
#: The log and benchmark name of one run.
RUN_NAME = "{protocol}_{encoder}_sub-{subject}_seed-{seed}"


def for_conditions(pattern):
    """One path per condition (in config order) from a pattern with ``{condition}``.

    The run's wildcards (``{encoder}`` ...) stay for Snakemake to fill.
    """
    return [pattern.replace("{condition}", condition) for condition in CONDITIONS]


#: Every (condition, mode) group of one run's generated images.
IMAGE_GROUPS = [[condition, mode] for condition in CONDITIONS for mode in MODES]
#: Feature network -> local weights file, or None (its metrics are not computed).
METRIC_WEIGHTS = config_slice(config["metrics"]["weights"])
if SYNTHETIC:
    TAG_TABLE = "resources/synthetic/concept_tags.csv"
else:
    from necomimi.data.things_eeg2 import CAT_TAGS_FILE

    TAG_TABLE = config["cat"].get("tag_table", str(CAT_TAGS_FILE))


def synthetic_spec():
    """Keyword arguments of necomimi's SyntheticSpec, from the config."""
    return config_slice({**config["synthetic"], **config["recording"]})


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
    return config_slice({
        **config["preprocessing"],
        "n_sessions": recording["n_sessions"],
        "train_reps_per_session": recording["train_reps_per_session"],
        "test_reps_per_session": recording["test_reps_per_session"],
    })


def clip_model():
    """Keyword arguments of necomimi.clip.loading.load_clip (model files as inputs)."""
    if SYNTHETIC:
        return config_slice(DEMO_CLIP)
    return config_slice({"model_config": None, **{k: config["clip"][k] for k in config["clip"] if k != "batch_size"}})


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
    return config_slice({k: v for k, v in config["training"].items() if k != "protocol"})


def decoder_weights():
    """The SDXL-Turbo folder and IP-Adapter file: built (demo) or the user's (real data)."""
    if SYNTHETIC:
        return DEMO_DECODER
    return {key: GENERATION[key] for key in ("sdxl_turbo", "ip_adapter")}


def decoder_options():
    """Decoder settings of necomimi.generation.images.generate_images, weights included."""
    settings = {k: v for k, v in GENERATION.items() if k not in ("modes", "seed")}
    return config_slice({"variant": None, **settings, **decoder_weights()})


def prior_training_options():
    """Keyword arguments of necomimi.generation.prior.train_prior from the config."""
    return config_slice({k: v for k, v in config["prior"].items() if k not in ("num_inference_steps", "guidance_scale")})


def prior_sampling_options():
    """Keyword arguments of necomimi.generation.prior.sample_prior from the config."""
    return {k: config["prior"][k] for k in ("num_inference_steps", "guidance_scale")}


RUNS = [
    {"protocol": PROTOCOL, "encoder": e, "subject": s, "seed": n}
    for e in config["encoders"]
    for s in config["subjects"]
    for n in config["seeds"]
]


def run_files(pattern):
    """``pattern`` (run wildcards, optionally ``{condition}``) for every run (and condition)."""
    patterns = for_conditions(pattern) if "{condition}" in pattern else [pattern]
    return [path.format(**run) for run in RUNS for path in patterns]


def cat_judge():
    """Prompts and top-k of the CAT score's CLIP judge."""
    return config_slice({key: config["cat"][key] for key in ("templates", "top_k")})


def ratings_files(wildcards):
    """Human ratings of one run's image groups that exist: "condition/mode" -> CSV."""
    root = config["cat"].get("human_ratings")
    if not root:
        return {}
    run = RUN.format(**wildcards)
    paths = {f"{condition}/{mode}": f"{root}/{run}/{condition}/{mode}.csv" for condition, mode in IMAGE_GROUPS}
    return {group: path for group, path in paths.items() if os.path.isfile(path)}


def retrieval_files():
    """Per-run retrieval CSVs of every encoder, subject, seed and condition."""
    return run_files(f"results/retrieval/{RUN}/{{condition}}.csv")


def history_files():
    """history.csv of every training run, in RUNS order."""
    return [
        "results/encoders/{protocol}/{encoder}/sub-{subject}/seed-{seed}/history.csv".format(**run)
        for run in RUNS
    ]


def run_image_folders(run):
    """One run's folders of generated images: condition -> mode -> folder."""
    return {c: {m: f"results/images/{RUN}/{c}/{m}".format(**run) for m in MODES} for c in CONDITIONS}


def image_folders():
    """Every mode folder of generated images: per run, condition and mode."""
    return [folder for run in RUNS for modes in run_image_folders(run).values() for folder in modes.values()]


#: The retrieval half of the study (the paper's Tables 1 and 2).
RETRIEVAL_OUTPUTS = [
    "results/retrieval.csv",
    "results/tables/retrieval_table1.md",
    "results/tables/retrieval_table2.md",
    "results/figures/selection_accuracy.png",
    "results/tables/retrieval_table1.html",
    "results/tables/retrieval_table2.html",
]
#: What rule tabulate_images writes for ``snakemake --report`` beside the study's tables.
#: The default target asks for it: Snakemake makes a missing output only where asked.
REPORT_OUTPUTS = [
    *(f"results/tables/{name}.html" for name in ("cat_table3", "fid_table4", "ssim_table5", "reconstruction_metrics")),
    "results/figures/cat_scores.png",
    "results/figures/images",
]


def final_outputs():
    """What the default target builds: the whole study.

    ``results/cat_scores.csv`` alone does too: its rule waits for the retrieval
    tables, so ``snakemake results/cat_scores.csv`` regenerates everything.
    """
    return [*RETRIEVAL_OUTPUTS, "results/cat_scores.csv", *REPORT_OUTPUTS]
