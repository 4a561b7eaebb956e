"""The config schema accepts the shipped configs and names every bad key."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from necomimi.config import ConfigError, check_config, config_slice, load_schema
from necomimi.data.synthetic import SyntheticSpec
from necomimi.data.synthetic.meg_spec import SyntheticMegSpec
from tests.conftest import REPO

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _load(name):
    return yaml.safe_load((REPO / "config" / name).read_text())


@pytest.fixture
def demo():
    return _load("config.yaml")


@pytest.mark.parametrize("name", ["config.yaml", "things-eeg2.yaml", "things-meg.yaml"])
def test_shipped_configs_validate(name):
    check_config(_load(name), SCHEMA)


def _refused(config) -> str:
    with pytest.raises(ConfigError) as error:
        check_config(config, SCHEMA)
    return str(error.value)


def test_unknown_top_level_key_is_named(demo):
    demo["not_a_key"] = 1
    assert "'not_a_key'" in _refused(demo)


def test_unknown_nested_key_is_named_with_its_section(demo):
    demo["synthetic"]["n_train_concept"] = 3
    assert "'synthetic.n_train_concept'" in _refused(demo)


@pytest.mark.parametrize(
    ("section", "key", "value", "named"),
    [
        (None, "subjects", ["1"], "subjects[0]"),
        (None, "subjects", [1], "subjects[0]"),
        (None, "subjects", [], "subjects"),
        (None, "encoders", ["atm"], "encoders[0]"),
        ("data", "source", "things", "data.source"),
        ("preprocessing", "mvnn_dim", "channels", "preprocessing.mvnn_dim"),
        ("preprocessing", "tmin", 0.1, "preprocessing.tmin"),
        ("preprocessing", "sfreq", 0, "preprocessing.sfreq"),
        ("training", "selection", "best", "training.selection"),
        ("training", "protocol", "cross", "training.protocol"),
        ("training", "image_weight", 1.5, "training.image_weight"),
        ("retrieval", "monte_carlo_draws", 1, "retrieval.monte_carlo_draws"),
        ("recording", "n_sessions", "four", "recording.n_sessions"),
        ("recording", "n_sessions", 3, "recording.n_sessions"),
        ("recording", "test_reps_per_session", 0, "recording.test_reps_per_session"),
        ("synthetic", "target_fraction", 0.7, "synthetic.target_fraction"),
        ("synthetic", "image_size", 8, "synthetic.image_size"),
        ("synthetic", "evoked_amplitude_uv", -1.0, "synthetic.evoked_amplitude_uv"),
        (None, "device", "gpu", "device"),
        ("conditions", "perturbed_visual", ["Oz", "OZ"], "conditions.perturbed_visual[1]"),
        ("prior", "hidden_dim", [64], "prior.hidden_dim"),
        ("prior", "condition_drop", 1.5, "prior.condition_drop"),
        ("generation", "height", 500, "generation.height"),
        ("generation", "modes", ["three_stage"], "generation.modes[0]"),
        ("generation", "modes", [], "generation.modes"),
        ("metrics", "batch_size", 0, "metrics.batch_size"),
        ("cat", "top_k", {"broad_1": 0, "broad_2": 1, "specific": 1, "concept": 1, "background": 1},
         "cat.top_k.broad_1"),
    ],
)
def test_wrong_type_or_range_is_refused_naming_the_key(demo, section, key, value, named):
    target = demo if section is None else demo[section]
    target[key] = value
    assert f"'{named}'" in _refused(demo)


def test_real_dataset_needs_its_paths(demo):
    demo["data"] = {"source": "things-eeg2"}
    message = _refused(demo)
    assert "image_dir" in message and "raw_dir" in message
    demo["data"] = {"source": "things-eeg2", "raw_dir": "/data/Raw_data"}
    assert "image_dir" in _refused(demo)


def _as_real_data(config):
    """The demo config switched to the real dataset, with every required path."""
    config["data"] = {"source": "things-eeg2", "image_dir": "/d/image_set", "preprocessed_dir": "/d/pre"}
    config["clip"] = {"model": "ViT-H-14", "pretrained": "/d/open_clip_pytorch_model.bin"}
    config["generation"] |= {"sdxl_turbo": "/d/sdxl-turbo", "ip_adapter": "/d/ip-adapter_sdxl_vit-h.safetensors"}
    del config["demo_decoder"]
    return config


def test_raw_and_preprocessed_dirs_exclude_each_other(demo):
    _as_real_data(demo)
    check_config(demo, SCHEMA)
    demo["data"]["raw_dir"] = "/d/Raw_data"
    assert "'data.raw_dir' is not allowed" in _refused(demo)


def test_real_data_needs_a_clip_and_the_demo_its_tiny_clip(demo):
    del demo["demo_clip"]
    assert "'demo_clip' is a required property" in _refused(demo)
    demo["data"] = {"source": "things-eeg2", "image_dir": "/d/image_set", "raw_dir": "/d/raw"}
    assert "'clip' is a required property" in _refused(demo)


def test_real_data_needs_local_decoder_weights_and_the_demo_builds_its_own(demo):
    real = _as_real_data(copy.deepcopy(demo))
    del real["generation"]["ip_adapter"]
    assert "generation: 'ip_adapter' is a required property" in _refused(real)
    real["demo_decoder"] = {"seed": 0}
    assert "'demo_decoder' is not allowed" in _refused(real)
    demo["generation"]["sdxl_turbo"] = "/d/sdxl-turbo"
    assert "'generation.sdxl_turbo' is not allowed" in _refused(demo)
    del demo["generation"]["sdxl_turbo"]
    del demo["demo_decoder"]
    assert "'demo_decoder' is a required property" in _refused(demo)


def test_metric_weights_and_cat_judge_are_checked(demo):
    demo["metrics"]["weights"]["vgg"] = "/w/vgg.pth"
    assert "unknown key 'metrics.weights.vgg'" in _refused(demo)
    del demo["metrics"]["weights"]["vgg"]
    demo["cat"]["templates"]["concept"] = "a photo"
    assert "'cat.templates.concept'" in _refused(demo)
    demo["cat"]["templates"]["concept"] = "a photo of {}"
    demo["cat"]["tag_table"] = "/t/tags.csv"  # the demo's table comes from its generator
    assert "'cat.tag_table' is not allowed" in _refused(demo)
    real = _as_real_data(copy.deepcopy(demo))
    real["metrics"]["weights"]["alexnet"] = "/w/alexnet-owt-7be5be79.pth"
    check_config(real, SCHEMA)


def test_synthetic_data_takes_no_paths(demo):
    demo["data"]["raw_dir"] = "/d/Raw_data"
    assert "'data.raw_dir' is not allowed" in _refused(demo)
    del demo["data"]["raw_dir"]
    del demo["synthetic"]
    assert "synthetic" in _refused(demo)


def test_meg_modality_needs_its_settings_and_the_eeg_ones_only_for_eeg(demo):
    meg = copy.deepcopy(demo)
    meg["modality"] = "meg"
    for key in ("recording", "preprocessing", "conditions", "synthetic"):
        del meg[key]
    check_config(meg, SCHEMA)  # the EEG sections are not needed for MEG
    del meg["meg"]["synthetic"]
    assert "meg: 'synthetic' is a required property" in _refused(meg)
    del meg["meg"]
    assert "'meg' is a required property" in _refused(meg)
    del demo["recording"]
    assert "'recording' is a required property" in _refused(demo)  # EEG, the default modality


def test_meg_conditions_take_sensor_names_or_the_occipital_set(demo):
    demo["meg"]["conditions"]["perturbed_some"] = ["MLO11-1609", "MZO01"]
    check_config(demo, SCHEMA)
    demo["meg"]["conditions"]["perturbed_eeg"] = ["O1"]
    assert "meg.conditions.perturbed_eeg" in _refused(demo)
    demo["meg"]["conditions"]["perturbed_eeg"] = "visual"
    assert "meg.conditions.perturbed_eeg" in _refused(demo)


def test_meg_window_lies_within_the_derivatives_epochs(demo):
    demo["meg"]["preprocessing"]["tmax"] = 1.5
    assert "meg.preprocessing.tmax" in _refused(demo)


def test_real_meg_needs_its_paths_and_the_meg_modality():
    real = _load("things-meg.yaml")
    del real["data"]["things_dir"]
    assert "'things_dir' is a required property" in _refused(real)
    real = _load("things-meg.yaml")
    real["modality"] = "eeg"
    assert "'meg' was expected" in _refused(real)
    real = _load("things-meg.yaml")
    real["data"]["raw_dir"] = "/d/Raw_data"
    assert "'data.raw_dir' is not allowed" in _refused(real)
    eeg = _load("things-eeg2.yaml")
    eeg["modality"] = "meg"
    assert "'eeg' was expected" in _refused(eeg)
    eeg["modality"] = "eeg"
    eeg["data"]["bids_root"] = "/d/ds004212"
    assert "'data.bids_root' is not allowed" in _refused(eeg)


def test_every_schema_property_is_described():
    undocumented = []

    def walk(node, path):
        for name, child in node.get("properties", {}).items():
            if "description" not in child:
                undocumented.append(f"{path}{name}")
            walk(child, f"{path}{name}.")

    walk(load_schema(SCHEMA), "")
    assert not undocumented


def test_demo_config_is_the_generator_default(demo):
    assert SyntheticSpec(**demo["synthetic"], **demo["recording"]) == SyntheticSpec()


def test_demo_meg_config_is_a_valid_synthetic_meg(demo):
    spec = {key: value for key, value in demo["meg"]["synthetic"].items() if key != "participants"}
    assert SyntheticMegSpec(**spec).n_test_concepts == demo["meg"]["synthetic"]["n_test_concepts"]


def test_conda_env_mirrors_the_package_pins():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    project = pyproject["project"]
    env = yaml.safe_load((REPO / "envs" / "necomimi.yaml").read_text())
    pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert sorted(pip) == sorted(project["dependencies"])
    assert all("==" in requirement for requirement in project["dependencies"])
    # necomimi's own build (post-deploy script) uses the environment's setuptools.
    (build,) = pyproject["build-system"]["requires"]
    assert build.replace("==", "=") in env["dependencies"]


def _post_deploy(env_bin: Path, source: Path | None) -> subprocess.CompletedProcess:
    """Run envs/necomimi.post-deploy.sh as Snakemake does: inside the environment."""
    environ = {key: value for key, value in os.environ.items() if key not in ("NECOMIMI_SOURCE", "VIRTUAL_ENV")}
    environ["PATH"] = f"{env_bin}{os.pathsep}{environ['PATH']}"
    if source is not None:
        environ["NECOMIMI_SOURCE"] = str(source)
    script = REPO / "envs" / "necomimi.post-deploy.sh"
    return subprocess.run(["bash", str(script)], env=environ, capture_output=True, text=True, cwd=env_bin.parent)


def test_conda_post_deploy_installs_necomimi_from_the_checkout(tmp_path):
    # A bare environment stands in for the conda one (no conda on this machine): what
    # the script needs is a python with pip and setuptools on PATH.
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    (setuptools,) = pyproject["build-system"]["requires"]  # the YAML's conda package
    subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", setuptools], check=True)
    missing = _post_deploy(env / "bin", None)
    assert missing.returncode != 0 and "NECOMIMI_SOURCE: is not set" in missing.stderr
    wrong = _post_deploy(env / "bin", tmp_path)
    assert wrong.returncode != 0 and f"NECOMIMI_SOURCE={tmp_path} holds no pyproject.toml" in wrong.stderr
    installed = _post_deploy(env / "bin", REPO)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    located = subprocess.run([str(env / "bin" / "python"), "-c", "import necomimi; print(necomimi.__file__)"],
                             capture_output=True, text=True, cwd=tmp_path, check=True)  # fmt: skip
    assert Path(located.stdout.strip()) == REPO / "necomimi" / "__init__.py"  # editable: the checkout's code


def test_a_config_slice_is_the_same_whatever_the_order_of_its_keys():
    first = {"b": 1, "a": {"y": [3, 1], "x": {"q": 0, "p": 2}}}
    second = {"a": {"x": {"p": 2, "q": 0}, "y": [3, 1]}, "b": 1}
    assert repr(config_slice(first)) == repr(config_slice(second))  # Snakemake compares params as text
    assert config_slice(first)["a"]["y"] == [3, 1]  # lists keep their order


def test_a_window_condition_is_checked_key_by_key(demo):
    demo["conditions"]["early"] = {"channels": "occipital", "window": [0.0, 0.2], "action": "crop"}
    check_config(demo, SCHEMA)
    demo["conditions"]["early"]["action"] = "chop"
    assert "'conditions.early.action': 'chop' is not one of" in _refused(demo)
    demo["conditions"]["early"] = {"window": [0.0, 0.2]}
    assert "conditions.early: 'action' is a required property" in _refused(demo)
    demo["conditions"]["early"] = "posterior"
    assert "'conditions.early': 'posterior' is not one of ['frontal'" in _refused(demo)
