# Config validation and the helpers every rule file uses.
from pathlib import Path

import necomimi  # installs the CPU torchvision/torchaudio compatibility finder first
from necomimi.conditions import check_conditions, parse_conditions
from necomimi.config import ConfigError, check_config, config_slice
from necomimi.data import things_eeg2
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
#: The brain data: "eeg" (THINGS-EEG2, the paper's) or "meg" (THINGS-MEG).
MODALITY = config.get("modality", "eeg")
MEG = MODALITY == "meg"
#: Roots of the study's results, logs and benchmarks. A MEG study keeps its own,
#: apart from the EEG study's: both can live in one working directory.
RESULTS, LOGS, BENCHMARKS = (f"{root}/meg" if MEG else root for root in ("results", "logs", "benchmarks"))


def results(path):
    """``path`` below the study's results root (``results/``, MEG: ``results/meg/``)."""
    return f"{RESULTS}/{path}"


def logs(path):
    """``path`` below the study's log root (``logs/``, MEG: ``logs/meg/``)."""
    return f"{LOGS}/{path}"


def benchmarks(path):
    """``path`` below the study's benchmark root (``benchmarks/``, MEG: ``benchmarks/meg/``)."""
    return f"{BENCHMARKS}/{path}"


#: Where the demo's synthetic dataset is built.
SYNTHETIC_ROOT = "resources/synthetic/meg" if MEG else "resources/synthetic"
#: Where the demo's tiny models are built (the CLIP is trained on the modality's images).
DEMO_MODELS = "resources/models/meg" if MEG else "resources/models"
FROM_PREPROCESSED = "preprocessed_dir" in DATA
IMAGE_DIR = f"{SYNTHETIC_ROOT}/image_set" if SYNTHETIC else DATA["image_dir"]
#: The file that stands for the image set as an input: THINGS-EEG2's metadata, or
#: (THINGS-MEG, whose ATM-style image set has none) the test-image folder.
IMAGE_SET_INPUT = f"{IMAGE_DIR}/test_images" if MEG else f"{IMAGE_DIR}/image_metadata.npy"
#: One subject's preprocessed arrays (THINGS-MEG: train single trials, MEG.md 4.3) and info.
PREPROCESSED = results("preprocessed/sub-{subject}")
PREPROCESSED_TRAIN = f"{PREPROCESSED}/{'train.npy' if MEG else 'eeg_train.npy'}"
PREPROCESSED_TEST = f"{PREPROCESSED}/{'test.npy' if MEG else 'eeg_test.npy'}"
PREPROCESSED_INFO = f"{PREPROCESSED}/info.json"
PROTOCOL = config["training"]["protocol"]
DEMO_CLIP = {
    "model": "necomimi-tiny-clip",
    "pretrained": f"{DEMO_MODELS}/clip/open_clip_model.safetensors",
    "model_config": f"{DEMO_MODELS}/clip/necomimi-tiny-clip.json",
}
DEMO_DECODER = {
    "sdxl_turbo": f"{DEMO_MODELS}/sdxl-turbo-tiny",
    "ip_adapter": f"{DEMO_MODELS}/ip-adapter/ip-adapter_tiny.safetensors",
}
GENERATION = config["generation"]
MODES = GENERATION["modes"]
#: The modes rendered per run and condition (from the EEG). The gt images depend only
#: on the CLIP targets, the decoder and generation.seed: rendered and scored once, here.
RUN_MODES = [mode for mode in MODES if mode != "gt"]
GT = "gt" in MODES
GT_IMAGES = results("images/gt")
#: The study's conditions as the config gives them: name -> channels replaced by noise
#: (a list, or a set of necomimi.conditions.regions.CHANNEL_SETS such as "occipital"),
#: or a time-window ablation (necomimi.conditions.condition). Checked here, before any
#: job runs, against the epoch (and THINGS-EEG2's 63 channels).
CONDITION_CHANNELS = config["meg"]["conditions"] if MEG else config["conditions"]
if MEG:
    EPOCH = (config["meg"]["preprocessing"]["tmin"], config["meg"]["preprocessing"]["tmax"])
else:  # the baseline is cut: 0 s to tmax
    EPOCH = (0.0, config["preprocessing"]["tmax"])
try:
    check_conditions(CONDITION_CHANNELS, epoch=EPOCH, ch_names=None if MEG else things_eeg2.CHANNEL_NAMES,
                     where="meg.conditions" if MEG else "conditions")  # fmt: skip
except ValueError as error:
    raise ConfigError(f"invalid config: {error}") from None
CONDITIONS = list(CONDITION_CHANNELS)
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
IMAGE_GROUPS = [[condition, mode] for condition in CONDITIONS for mode in RUN_MODES]
#: Feature network -> local weights file, or None (its metrics are not computed).
METRIC_WEIGHTS = config_slice(config["metrics"]["weights"])
if SYNTHETIC:
    TAG_TABLE = f"{SYNTHETIC_ROOT}/concept_tags.csv"
else:
    from necomimi.data import things_eeg2, things_meg

    TAG_TABLE = config["cat"].get("tag_table", str((things_meg if MEG else things_eeg2).CAT_TAGS_FILE))


if MEG:
    from necomimi.data import things_meg

    MEG_CONFIG = config["meg"]
    #: The THINGS-MEG BIDS dataset (ds004212): built (demo) or the user's.
    BIDS_ROOT = f"{SYNTHETIC_ROOT}/ds004212" if SYNTHETIC else DATA["bids_root"]
    _THINGS_DIR = f"{SYNTHETIC_ROOT}/THINGS" if SYNTHETIC else DATA["things_dir"]
    #: THINGS' image tables: every image number's concept folder and file.
    THINGS_TABLES = {
        "image_paths": f"{_THINGS_DIR}/{things_meg.IMAGE_PATHS_FILE.as_posix()}",
        "image_concept_index": f"{_THINGS_DIR}/{things_meg.IMAGE_CONCEPT_INDEX_FILE.as_posix()}",
    }
    #: Entry point B (the derivative made from the raw runs: always in the demo) or A
    #: (the dataset authors' derivative) (MEG.md 4.1).
    MEG_FROM_RAW = SYNTHETIC or DATA.get("entry_point", "derivative") == "raw"


def meg_derivative(wildcards):
    """First file of one participant's derivative (MNE finds the split parts from it)."""
    participant = int(wildcards.subject)
    if MEG_FROM_RAW:
        return results(f"derivatives/sub-{wildcards.subject}/preprocessed_P{participant}-epo.fif")
    return str(things_meg.derivative_file(BIDS_ROOT, participant))


def meg_derivative_files(wildcards):
    """One participant's derivative as inputs: the folder entry point B makes, or the authors' files."""
    if MEG_FROM_RAW:
        return results(f"derivatives/sub-{wildcards.subject}")
    return [str(path) for path in things_meg.derivative_parts(meg_derivative(wildcards))]


def meg_raw_files(wildcards):
    """One participant's raw runs and events tables (real data), or the synthetic dataset."""
    if SYNTHETIC:
        return [BIDS_ROOT]
    from necomimi.preprocessing.meg_raw import find_runs

    runs = find_runs(BIDS_ROOT, int(wildcards.subject))
    return [str(path) for run in runs for path in (run.raw_path, run.events_path)]


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
    return expand(PREPROCESSED_TRAIN, subject=subjects)


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


def gt_ratings_file(wildcards):
    """Human ratings of the gt images, ``<cat.human_ratings>/gt/gt.csv``, or None."""
    root = config["cat"].get("human_ratings")
    path = f"{root}/gt/gt.csv" if root else None
    return path if path and os.path.isfile(path) else None


def retrieval_files():
    """Per-run retrieval CSVs of every encoder, subject, seed and condition."""
    return run_files(results(f"retrieval/{RUN}/{{condition}}.csv"))


def history_files():
    """history.csv of every training run, in RUNS order."""
    return [
        results("encoders/{protocol}/{encoder}/sub-{subject}/seed-{seed}/history.csv").format(**run)
        for run in RUNS
    ]


def run_image_folders(run):
    """One run's folders of generated images: condition -> mode -> folder."""
    return {c: {m: results(f"images/{RUN}/{c}/{m}").format(**run) for m in RUN_MODES} for c in CONDITIONS}


def image_folders():
    """Every mode folder of the runs' generated images: per run, condition and mode."""
    return [folder for run in RUNS for modes in run_image_folders(run).values() for folder in modes.values()]


#: The retrieval half of the study (the paper's Tables 1 and 2).
RETRIEVAL_OUTPUTS = [
    results("retrieval.csv"),
    results("tables/retrieval_table1.md"),
    results("tables/retrieval_table2.md"),
    results("figures/selection_accuracy.png"),
    results("tables/retrieval_table1.html"),
    results("tables/retrieval_table2.html"),
]
#: The ablation table and figure (rule tabulate_ablations), when a condition changes the data.
ABLATION_OUTPUTS = (
    [results(path) for path in ("ablations.csv", "tables/ablations.md", "tables/ablations.html", "figures/ablations.png")]
    if any(not condition.is_reference for condition in parse_conditions(CONDITION_CHANNELS).values())
    else []
)
#: What rule tabulate_images writes for ``snakemake --report`` beside the study's tables.
#: The default target asks for it: Snakemake makes a missing output only where asked.
REPORT_OUTPUTS = [
    *(results(f"tables/{name}.html") for name in ("cat_table3", "fid_table4", "ssim_table5", "reconstruction_metrics")),
    results("figures/cat_scores.png"),
    results("figures/images"),
]


def final_outputs():
    """What the default target builds: the whole study.

    ``results/cat_scores.csv`` alone does too: its rule waits for the retrieval
    tables, so ``snakemake results/cat_scores.csv`` regenerates everything.
    """
    return [*RETRIEVAL_OUTPUTS, *ABLATION_OUTPUTS, results("cat_scores.csv"), *REPORT_OUTPUTS]
