"""The synthetic THINGS-MEG has the real layouts (MEG.md 1.3-1.6, 5) and is seeded."""

from __future__ import annotations

import json
import warnings

import mne
import numpy as np
import pandas as pd
import pytest

from necomimi.data.synthetic.images import FACTORS_FILE, IMAGE_SET_DIR
from necomimi.data.synthetic.meg_design import make_images
from necomimi.data.synthetic.meg_signal import OCCIPITAL_SENSORS, SENSORS
from necomimi.data.synthetic.meg_spec import SyntheticMegSpec
from necomimi.data.synthetic.meg_writer import (
    bids_root,
    things_tables,
    write_meg_dataset,
)
from necomimi.data.things_meg import (
    CATCH_EVENT,
    DEAD_CHANNEL,
    EVENTS_COLUMNS,
    METADATA_CONCEPT,
    METADATA_IMAGE,
    METADATA_SESSION,
    METADATA_TRIAL_TYPE,
    TRIGGER_CHANNEL,
    derivative_file,
    derivative_parts,
    occipital_sensors,
    read_things_images,
)
from tests.meg_fixtures import MEG_SPEC, PARTICIPANTS


def _runs(root, participant):
    return sorted((bids_root(root) / f"sub-BIGMEG{participant}").glob("ses-*/meg/*_meg.fif"))


def _events(run):
    return pd.read_csv(str(run).replace("_meg.fif", "_events.tsv"), sep="\t", keep_default_na=False)


def test_bids_layout_and_sidecars(meg_root):
    root = bids_root(meg_root)
    for name in ("dataset_description.json", "participants.tsv", "task-main_events.json", "README"):
        assert (root / name).is_file(), name
    for participant in PARTICIPANTS:
        runs = _runs(meg_root, participant)
        assert len(runs) == MEG_SPEC.n_sessions * MEG_SPEC.runs_per_session
        first = runs[0].name
        assert first == f"sub-BIGMEG{participant}_ses-01_task-main_run-01_meg.fif"
        sidecar = json.loads((runs[0].parent / first.replace("_meg.fif", "_meg.json")).read_text())
        assert sidecar["Manufacturer"] == "CTF" and sidecar["PowerLineFrequency"] == 60
        assert sidecar["SamplingFrequency"] == 1200


def test_channels_tsv_carries_the_real_dataset_types(meg_root):
    channels = pd.read_csv(str(_runs(meg_root, 1)[0]).replace("_meg.fif", "_channels.tsv"), sep="\t")
    types = dict(zip(channels["name"], channels["type"], strict=True))
    assert {types[s] for s in SENSORS} == {"OTHER"}
    assert types[TRIGGER_CHANNEL] == "MISC"
    assert DEAD_CHANNEL in types


def test_read_raw_bids_falls_into_the_channel_type_trap(meg_root):
    # MEG.md 5.4: with OTHER/MISC sidecars mne-bids makes every sensor 'misc', which is
    # why entry point B reads with mne.io.read_raw and types the channels by name.
    from mne_bids import get_bids_path_from_fname, read_raw_bids

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = read_raw_bids(get_bids_path_from_fname(_runs(meg_root, 1)[0]), verbose="error")
    assert set(raw.get_channel_types(picks=list(SENSORS))) == {"misc"}


def test_events_tsv_has_the_six_columns_and_real_coding(meg_root):
    for run in _runs(meg_root, 1):
        table = _events(run)
        assert tuple(table.columns) == EVENTS_COLUMNS
        catch = table["trial_type"] == "catch"
        assert (table.loc[catch, ["things_category_nr", "value"]] == "n/a").all().all()
        assert catch.sum() == MEG_SPEC.catch_per_run
        assert not (table.loc[~catch, "value"] == "n/a").any()
        assert table.loc[~catch, "value"].str.endswith(".0").all()  # floats, like ds004212
        assert np.allclose(table["onset"], table["sample"] / 1200.0)
        assert (table["duration"] == 0.5).all()


def test_trigger_pulses_of_64_precede_every_onset(meg_root):
    for run in _runs(meg_root, 2)[:2]:
        raw = mne.io.read_raw(run, verbose="error")
        found = mne.find_events(raw, stim_channel=TRIGGER_CHANNEL, initial_event=True, verbose="error")
        table = _events(run)
        pulses = found[found[:, 2] == 64]
        lag = table["sample"].to_numpy() - pulses[:, 0]
        assert len(pulses) == len(table) and np.all((lag >= 12) & (lag <= 24))
        assert found[-1, 2] == 32  # the end-of-run pulse


def test_design_counts(meg_root):
    for participant in PARTICIPANTS:
        tables = [_events(run).assign(session=run.name.split("_")[1]) for run in _runs(meg_root, participant)]
        trials = pd.concat(tables)
        test = trials[trials["trial_type"] == "test"]
        per_image = test.groupby("value")["session"].agg(list)
        assert len(per_image) == MEG_SPEC.n_test_concepts
        assert all(sorted(s) == [f"ses-{k:02d}" for k in range(1, MEG_SPEC.n_sessions + 1)] for s in per_image)
        exp = trials[trials["trial_type"] == "exp"]
        assert exp["value"].is_unique and len(exp) == MEG_SPEC.n_concepts * MEG_SPEC.exp_images_per_concept
        assert not set(exp["value"]) & set(test["value"])


def test_things_tables_and_image_folders(meg_root):
    images = read_things_images(*things_tables(meg_root))
    per_concept = MEG_SPEC.exp_images_per_concept + MEG_SPEC.unused_images_per_concept
    assert len(images) == MEG_SPEC.n_concepts * per_concept + MEG_SPEC.n_test_concepts
    assert images["things_category_nr"].is_monotonic_increasing  # THINGS numbers images by concept
    factors = pd.read_csv(meg_root / FACTORS_FILE)
    test = factors[factors["role"] == "test"]
    training = factors[(factors["role"] == "exp") & ~factors["things_category_nr"].isin(test["things_category_nr"])]
    for partition, rows in (("test_images", test), ("training_images", training)):
        folder = meg_root / IMAGE_SET_DIR / partition
        on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.glob("*/*.jpg"))
        assert on_disk == sorted(f"{r.folder}/{r.file}" for r in rows.itertuples())
    numbered = zip(factors["folder"], factors["things_category_nr"], strict=True)
    assert all(f.split("_", 1)[0] == f"{n:05d}" for f, n in numbered)


def test_derivative_is_split_and_shaped_like_the_real_one(meg_root):
    path = derivative_file(bids_root(meg_root), 1)
    assert len(derivative_parts(path)) >= 2
    epochs = mne.read_epochs(path, preload=False, verbose="error")
    assert epochs.info["sfreq"] == 200.0 and len(epochs.times) == 281
    assert np.isclose(epochs.times[0], -0.1) and np.isclose(epochs.times[-1], 1.3)
    assert epochs.ch_names == [s for s in SENSORS if s != DEAD_CHANNEL]
    assert set(epochs.get_channel_types()) == {"mag"}
    meta = epochs.metadata
    for column in (METADATA_TRIAL_TYPE, METADATA_IMAGE, METADATA_CONCEPT, METADATA_SESSION):
        assert column in meta.columns
    catch = (meta[METADATA_TRIAL_TYPE] == "catch").to_numpy()
    assert np.array_equal(catch, epochs.events[:, 2] == CATCH_EVENT)
    assert np.array_equal(epochs.events[~catch, 2], meta.loc[~catch, METADATA_IMAGE].to_numpy(int))
    assert len(np.unique(epochs.events[:, 0])) == len(epochs)


def test_occipital_set_is_named_by_region_letter():
    assert OCCIPITAL_SENSORS == ("MLO11-1609", "MLO21-1609", "MLO31-1609", "MRO21-1609", "MRO31-1609",
                                 "MZO01-1609", "MZO02-1609")  # fmt: skip
    assert occipital_sensors(["MLO11-1609", "MLC11-1609", "UPPT001", "BG1-1609", "MZO03"]) == ["MLO11-1609", "MZO03"]


def test_images_of_a_concept_share_its_factors():
    images = make_images(MEG_SPEC)
    for concept_nr in {i.concept_nr for i in images}:
        concepts = {i.concept for i in images if i.concept_nr == concept_nr}
        assert len(concepts) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("n_concepts", 0), ("n_test_concepts", 10), ("catch_per_run", -1), ("image_size", 8), ("noise_ft", -1.0)],
)
def test_spec_refuses_bad_sizes(field, value):
    with pytest.raises(ValueError, match=f"synthetic_meg.{field}"):
        SyntheticMegSpec(**{field: value})


def test_spec_refuses_a_design_with_possibly_empty_runs():
    # One test image and at most one exp image per session, three runs, no catch
    # trials: a run could hold no trial, which the generator cannot write.
    with pytest.raises(ValueError, match=r"synthetic_meg.runs_per_session \(3\) exceeds the 1 trials every session"):
        SyntheticMegSpec(n_concepts=2, exp_images_per_concept=1, n_test_concepts=1, n_sessions=2,
                         runs_per_session=3, catch_per_run=0)  # fmt: skip
    # Catch trials fill every run.
    SyntheticMegSpec(n_concepts=2, exp_images_per_concept=1, n_test_concepts=1, n_sessions=2,
                     runs_per_session=3, catch_per_run=1)  # fmt: skip


def _raw_files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file() and "derivatives" not in p.parts)


def _derivative_content(root):
    epochs = mne.read_epochs(derivative_file(bids_root(root), 1), preload=True, verbose="error")
    return epochs.get_data(), epochs.events, epochs.metadata


def test_same_seed_same_dataset(tmp_path):
    spec = SyntheticMegSpec(n_concepts=4, exp_images_per_concept=2, n_test_concepts=1, n_sessions=2,
                            runs_per_session=1, catch_per_run=1, min_run_s=35.0)  # fmt: skip
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_meg_dataset(first, spec, [1])
    write_meg_dataset(second, spec, [1])
    write_meg_dataset(other, SyntheticMegSpec(**{**spec.__dict__, "seed": spec.seed + 1}), [1])
    files = _raw_files(first)
    assert files == _raw_files(second)
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    data, events, metadata = _derivative_content(first)
    again = _derivative_content(second)
    assert np.array_equal(data, again[0]) and np.array_equal(events, again[1])
    pd.testing.assert_frame_equal(metadata, again[2])
    assert not np.array_equal(data[:, :, :10], _derivative_content(other)[0][:, :, :10])
