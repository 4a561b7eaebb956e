"""The pieces that run the study on THINGS-MEG: image order, targets, arrays, perturbation."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from necomimi.cat.tags import read_tag_table
from necomimi.clip.targets import embed_targets, read_targets
from necomimi.conditions.perturb import perturb
from necomimi.conditions.regions import resolve_channels
from necomimi.data.synthetic.images import FACTORS_FILE, IMAGE_SET_DIR, TAGS_FILE
from necomimi.data.synthetic.meg_signal import OCCIPITAL_SENSORS
from necomimi.data.synthetic.meg_writer import things_tables
from necomimi.data.things_eeg2 import CHANNEL_NAMES, VISUAL_CORTEX_CHANNELS
from necomimi.data.things_meg import image_set_lists, read_things_images
from necomimi.preprocessing.outputs import read_channel_names, read_times
from necomimi.utils.npy import load_trials
from tests.meg_fixtures import preprocess


def _index_images(out_dir, name):
    """(folder, file) of every row of an index table."""
    paths = pd.read_csv(out_dir / name, sep="\t")["image_path"]
    return [tuple(path.split("/")[1:]) for path in paths]


def test_image_set_order_is_the_arrays_row_order(meg_root, meg_out):
    lists = image_set_lists(meg_root / IMAGE_SET_DIR, read_things_images(*things_tables(meg_root)))
    for partition, name in (("training", "train_index.tsv"), ("test", "test_index.tsv")):
        assert list(zip(*lists[partition], strict=True)) == _index_images(meg_out / "sub-BIGMEG1", name)


def test_image_set_order_refuses_an_image_the_things_tables_lack(meg_root, tmp_path):
    image_dir = tmp_path / "image_set"
    shutil.copytree(meg_root / IMAGE_SET_DIR, image_dir)
    stray = next((image_dir / "training_images").glob("*/*.jpg"))
    shutil.copy(stray, stray.with_name("stray_99b.jpg"))
    with pytest.raises(ValueError, match=r"1 training image\(s\) are not in the THINGS tables .*stray_99b\.jpg"):
        image_set_lists(image_dir, read_things_images(*things_tables(meg_root)))


def test_preprocessing_refuses_arrays_that_do_not_match_the_image_set(meg_root, tmp_path):
    preprocess(meg_root, 1, tmp_path / "ok", image_dir=meg_root / IMAGE_SET_DIR)
    options = json.loads((tmp_path / "ok" / "info.json").read_text())["options"]
    assert options["image_dir"] == str(meg_root / IMAGE_SET_DIR)
    image_dir = tmp_path / "image_set"
    shutil.copytree(meg_root / IMAGE_SET_DIR, image_dir)
    next((image_dir / "training_images").glob("*/*.jpg")).unlink()  # an image the brain data show is missing
    with pytest.raises(ValueError,
                       match=r"preprocessed_P1-epo\.fif: its \d+ training images are not the \d+ of the image set"):
        preprocess(meg_root, 1, tmp_path / "out", image_dir=image_dir)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_meg_targets_follow_the_image_number_order(meg_root, meg_out, tiny_clip, tmp_path):
    image_dir = meg_root / IMAGE_SET_DIR
    lists = image_set_lists(image_dir, read_things_images(*things_tables(meg_root)))
    embed_targets(image_dir, tmp_path / "targets.h5", batch_size=16, image_lists=lists, **tiny_clip)
    train = read_targets(tmp_path / "targets.h5", "training")
    rows = _index_images(meg_out / "sub-BIGMEG1", "train_index.tsv")
    assert train.folder == [folder for folder, _ in rows]
    assert len(train.image) == len(rows)
    labels = pd.read_csv(meg_out / "sub-BIGMEG1" / "train_index.tsv", sep="\t")["label"].to_numpy()
    np.testing.assert_array_equal(train.concept_of_image, labels)  # concepts sorted = labels by concept number


def test_meg_targets_refuse_test_images_out_of_folder_order(meg_root, tiny_clip, tmp_path):
    image_dir = meg_root / IMAGE_SET_DIR
    lists = image_set_lists(image_dir, read_things_images(*things_tables(meg_root)))
    folders, files = lists["test"]
    lists["test"] = (folders[::-1], files[::-1])
    with pytest.raises(ValueError, match=r"test_images: holds \d+ test images, the brain data \d+ in another order"):
        embed_targets(image_dir, tmp_path / "targets.h5", batch_size=16, image_lists=lists, **tiny_clip)
    assert not (tmp_path / "targets.h5").exists()


def test_synthetic_meg_has_a_tag_table_and_partitions(meg_root, meg_out):
    test_folders = [folder for folder, _ in _index_images(meg_out / "sub-BIGMEG1", "test_index.tsv")]
    table = read_tag_table(meg_root / TAGS_FILE, test_folders)
    assert list(table["concept"]) == [folder.split("_", 1)[1].replace("_", " ") for folder in test_folders]
    factors = pd.read_csv(meg_root / FACTORS_FILE, keep_default_na=False)
    shown = factors[factors["partition"] != ""]
    image_set = meg_root / IMAGE_SET_DIR
    on_disk = sorted(p.relative_to(image_set).as_posix() for p in image_set.glob("*/*/*.jpg"))
    partition_dir = {"training": "training_images", "test": "test_images"}
    assert sorted(f"{partition_dir[r.partition]}/{r.folder}/{r.file}" for r in shown.itertuples()) == on_disk
    assert set(factors.loc[factors["partition"] == "", "role"]) <= {"unused", "exp"}


def test_single_trial_arrays_load_as_one_repetition(tmp_path):
    trials = np.arange(5 * 3 * 4, dtype=np.float32).reshape(5, 3, 4)
    np.save(tmp_path / "train.npy", trials)
    view = load_trials(tmp_path / "train.npy")
    assert view.shape == (5, 1, 3, 4)
    np.testing.assert_array_equal(view[:, 0], trials)
    np.save(tmp_path / "eeg.npy", trials[:, None].repeat(2, axis=1))
    assert load_trials(tmp_path / "eeg.npy").shape == (5, 2, 3, 4)
    np.save(tmp_path / "flat.npy", trials[0])
    with pytest.raises(ValueError, match=r"flat\.npy: expected \(images, repetitions, channels, times\)"):
        load_trials(tmp_path / "flat.npy")


def test_channel_names_are_read_from_info_json(meg_out, tmp_path):
    names = read_channel_names(meg_out / "sub-BIGMEG1" / "info.json")
    assert names == (meg_out / "sub-BIGMEG1" / "ch_names.txt").read_text().splitlines()
    (tmp_path / "info.json").write_text(json.dumps({"ch_names": []}))
    with pytest.raises(ValueError, match=r"info\.json: expected a non-empty list of channel names"):
        read_channel_names(tmp_path / "info.json")
    with pytest.raises(FileNotFoundError, match="missing.json"):
        read_channel_names(tmp_path / "missing.json")


def test_the_occipital_set_perturbs_exactly_the_occipital_meg_sensors(meg_out):
    ch_names = read_channel_names(meg_out / "sub-BIGMEG1" / "info.json")
    assert resolve_channels("occipital", ch_names) == list(OCCIPITAL_SENSORS)
    data = np.load(meg_out / "sub-BIGMEG1" / "test.npy")[:, 0]
    out = perturb(data, resolve_channels("occipital", ch_names), np.random.default_rng(0), ch_names)
    changed = [ch_names[i] for i in range(len(ch_names)) if not np.array_equal(out[:, i], data[:, i])]
    assert changed == list(OCCIPITAL_SENSORS)
    by_name = perturb(data, "occipital", np.random.default_rng(0), ch_names)  # the set's name works too
    np.testing.assert_array_equal(by_name, out)


def test_named_channel_sets_are_resolved_against_the_data():
    assert resolve_channels("visual_cortex", CHANNEL_NAMES) == list(VISUAL_CORTEX_CHANNELS)
    assert resolve_channels(["O1", "Oz"], CHANNEL_NAMES) == ["O1", "Oz"]
    assert resolve_channels("occipital", CHANNEL_NAMES) == ["PO7", "PO3", "POz", "PO4", "PO8", "O1", "Oz", "O2"]
    with pytest.raises(ValueError, match=r"unknown channel set 'posterior'"):
        resolve_channels("posterior", CHANNEL_NAMES)
    with pytest.raises(ValueError, match=r"channel set 'visual_cortex' has no channel among the data's 3 channels"):
        resolve_channels("visual_cortex", ["MLO11-1609", "MRO11-1609", "MZO01-1609"])
    with pytest.raises(ValueError, match=r"unknown channel\(s\) \['MLO11-1609'\]"):
        resolve_channels(["MLO11-1609"], CHANNEL_NAMES)
    with pytest.raises(ValueError, match="63 channels in the data but 2 channel names"):
        perturb(np.zeros((1, 63, 5), np.float32), ["O1"], np.random.default_rng(0), ["O1", "O2"])


def test_the_epoch_times_are_read_from_info_json_or_refused_by_name(tmp_path):
    (tmp_path / "info.json").write_text(json.dumps({"ch_names": ["O1"], "times": [0.0, 0.01, 0.02]}))
    np.testing.assert_array_equal(read_times(tmp_path / "info.json"), [0.0, 0.01, 0.02])
    for times in (None, [], [0.0, 0.0], ["0"], [True, False]):
        (tmp_path / "info.json").write_text(json.dumps({"ch_names": ["O1"], "times": times}))
        with pytest.raises(ValueError, match=r"info\.json: expected an increasing list of times \(seconds\)"):
            read_times(tmp_path / "info.json")
