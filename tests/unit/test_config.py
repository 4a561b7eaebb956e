"""The config schema accepts the shipped configs and names every bad key."""

from __future__ import annotations

import copy

import tomllib

import pytest
import yaml

from necomimi.config import ConfigError, check_config, load_schema
from necomimi.data.synthetic import SyntheticSpec
from tests.conftest import REPO

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _load(name):
    return yaml.safe_load((REPO / "config" / name).read_text())


@pytest.fixture
def demo():
    return _load("config.yaml")


@pytest.mark.parametrize("name", ["config.yaml", "things-eeg2.yaml"])
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
        ("cat", "top_k", {"broad_1": 0, "broad_2": 1, "specific": 1, "concept": 1, "background": 1}, "cat.top_k.broad_1"),
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


def test_conda_env_mirrors_the_package_pins():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "envs" / "necomimi.yaml").read_text())
    pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert sorted(pip) == sorted(project["dependencies"])
    assert all("==" in requirement for requirement in project["dependencies"])


def test_constraints_pin_every_dependency_as_in_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = (REPO / "constraints.txt").read_text().splitlines()
    constraints = {
        line.split("==")[0].lower().replace("_", "-"): line
        for line in lines
        if line and not line.startswith("#")
    }
    for requirement in project["dependencies"]:
        name = requirement.split("==")[0].lower().replace("_", "-")
        assert constraints[name].lower().replace("_", "-") == requirement.lower().replace("_", "-")


def test_every_top_level_key_is_explained_in_config_readme():
    readme = (REPO / "config" / "README.md").read_text()
    missing = [key for key in load_schema(SCHEMA)["properties"] if f"`{key}`" not in readme]
    assert not missing


def test_gpu_stages_ask_for_a_gpu_where_the_device_is_cuda(monkeypatch):
    import necomimi.utils.gpus as gpus

    assert gpus.job_gpus("cuda") == 1 and gpus.job_gpus("cuda:1") == 1 and gpus.job_gpus("cpu") == 0
    monkeypatch.setattr(gpus.glob, "glob", lambda pattern: ["/dev/nvidia0"] if pattern == gpus.NVIDIA_DEVICE_FILES else [])
    assert gpus.job_gpus("auto") == 1
    monkeypatch.setattr(gpus.glob, "glob", lambda pattern: [])
    assert gpus.job_gpus("auto") == 0
