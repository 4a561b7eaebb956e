"""`necomimi synth` writes the dataset and refuses bad options clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from necomimi.cli import main
from necomimi.data.synthetic import SyntheticSpec
from necomimi.data.things_eeg2 import raw_file

SMALL = ["--n-train-concepts", "3", "--train-images-per-concept", "2", "--n-test-concepts", "2",
         "--n-sessions", "2", "--test-reps-per-session", "2", "--image-size", "16"]  # fmt: skip


def test_synth_writes_the_layout(tmp_path):
    assert main(["synth", str(tmp_path), *SMALL, "--subjects", "03", "--seed", "5"]) == 0
    for session in (1, 2):
        for partition in ("training", "test"):
            assert raw_file(tmp_path / "raw", "03", session, partition).is_file()
    assert not (tmp_path / "raw" / "sub-01").exists()
    metadata = np.load(tmp_path / "image_set" / "image_metadata.npy", allow_pickle=True).item()
    assert len(metadata["train_img_files"]) == 6
    assert (tmp_path / "concept_tags.csv").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--subjects", "3"], "two-digit"),
        (["--n-sessions", "3"], "n_sessions"),
        (["--target-fraction", "0.9"], "target_fraction"),
    ],
)
def test_bad_options_exit_2_naming_the_problem(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", str(tmp_path), *SMALL, *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_full_size_has_the_release_counts():
    spec = SyntheticSpec.full_size()
    assert spec.n_train_images == 16540
    assert spec.n_test_concepts == 200
    assert spec.n_sessions * spec.train_reps_per_session // 2 == 4  # 4 reps per image
    assert spec.n_sessions * spec.test_reps_per_session == 80


def test_console_script_is_installed():
    executable = Path(sys.executable).parent / "necomimi"
    assert executable.is_file(), "the necomimi console script is not installed"
    result = subprocess.run([str(executable), "synth", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--full-size" in result.stdout
