"""Bad THINGS-MEG input is refused with a message naming the file and the problem.

Entry point A (the derivative): wrong trial counts per type, a training concept with
a missing image, catch and test metadata that contradict the event codes, and more.
Entry point B (the raw runs): trigger and events.tsv that do not pair, malformed
events.tsv, and channel surprises. A failed run leaves no output behind.
"""

from __future__ import annotations

import re
import shutil

import mne
import numpy as np
import pandas as pd
import pytest

from necomimi.data.synthetic.meg_signal import SENSORS
from necomimi.data.synthetic.meg_spec import SyntheticMegSpec
from necomimi.data.synthetic.meg_writer import (
    bids_root,
    things_tables,
    write_meg_participant,
)
from necomimi.data.things_meg import (
    CATCH_EVENT,
    DEAD_CHANNEL,
    METADATA_CONCEPT,
    METADATA_SESSION,
    METADATA_TRIAL_TYPE,
    TRIGGER_CHANNEL,
    derivative_file,
    read_things_images,
)
from necomimi.preprocessing.meg_derivative import preprocess_meg_derivative
from necomimi.preprocessing.meg_raw import (
    derivative_from_raw,
    find_runs,
    repair_dropouts,
)
from tests.meg_fixtures import MEG_SPEC


@pytest.fixture(scope="session")
def loaded(meg_root):
    """Participant 1's derivative, loaded: (epochs, data)."""
    epochs = mne.read_epochs(derivative_file(bids_root(meg_root), 1), preload=True, verbose="error")
    return epochs, epochs.get_data()


def _bad_derivative(loaded, path, *, keep=None, events=None, metadata=None, data=None, info=None):
    """Save a copy of the derivative with some epochs dropped or fields changed."""
    epochs, original = loaded
    events = epochs.events.copy() if events is None else events
    metadata = epochs.metadata.copy() if metadata is None else metadata
    data = original if data is None else data
    keep = np.arange(len(events)) if keep is None else keep
    bad = mne.EpochsArray(
        data[keep], epochs.info if info is None else info, events=events[keep], tmin=epochs.tmin,
        event_id={str(c): int(c) for c in np.unique(events[keep, 2])},
        metadata=None if metadata is False else metadata.iloc[keep].reset_index(drop=True), verbose="error",
    )  # fmt: skip
    bad.save(path, fmt="single", overwrite=True, verbose="error")
    return path


def _refused(meg_root, derivative, out_dir, match, error=ValueError, tables=None):
    image_paths, concept_index = things_tables(meg_root) if tables is None else tables
    with pytest.raises(error, match=match):
        preprocess_meg_derivative(derivative, out_dir, image_paths=image_paths, image_concept_index=concept_index,
                                  cache_dir=out_dir.parent / "sha256")  # fmt: skip
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def _types(loaded):
    return loaded[0].metadata[METADATA_TRIAL_TYPE].to_numpy()


def test_missing_derivative(meg_root, tmp_path):
    _refused(meg_root, tmp_path / "preprocessed_P9-epo.fif", tmp_path / "out",
             r"preprocessed_P9-epo\.fif: no such derivative", FileNotFoundError)  # fmt: skip


def test_test_image_without_all_repetitions(meg_root, loaded, tmp_path):
    dropped = np.flatnonzero(_types(loaded) == "test")[0]
    image = loaded[0].events[dropped, 2]
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", keep=np.delete(np.arange(len(loaded[1])), dropped))
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: test image\(s\) \[{image}\] without {MEG_SPEC.n_sessions} repetitions, "
             rf"one in each of the {MEG_SPEC.n_sessions} sessions")  # fmt: skip


def test_test_image_twice_in_one_session(meg_root, loaded, tmp_path):
    metadata = loaded[0].metadata.copy()
    rows = np.flatnonzero(_types(loaded) == "test")
    first_image = loaded[0].events[rows[0], 2]
    same = rows[loaded[0].events[rows, 2] == first_image]
    metadata.loc[same[1], METADATA_SESSION] = metadata.loc[same[0], METADATA_SESSION]
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", metadata=metadata)
    _refused(meg_root, path, tmp_path / "out", rf"bad-epo\.fif: test image\(s\) \[{first_image}\] without")


def test_training_concept_with_a_missing_image(meg_root, loaded, tmp_path):
    images = read_things_images(*things_tables(meg_root))
    codes = loaded[0].events[:, 2]
    test_concepts = set(images.loc[np.unique(codes[_types(loaded) == "test"]), "things_category_nr"])
    exp = np.flatnonzero(_types(loaded) == "exp")
    victim = next(i for i in exp if images.loc[codes[i], "things_category_nr"] not in test_concepts)
    folder = images.loc[codes[victim], "folder"]
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", keep=np.delete(np.arange(len(codes)), victim))
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: training concept\(s\) \[\('{folder}', {MEG_SPEC.exp_images_per_concept - 1}\)\] "
             rf"do not have the {MEG_SPEC.exp_images_per_concept} 'exp' images")  # fmt: skip


def test_catch_code_with_another_trial_type(meg_root, loaded, tmp_path):
    metadata = loaded[0].metadata.copy()
    catch = np.flatnonzero(_types(loaded) == "catch")[0]
    metadata.loc[catch, METADATA_TRIAL_TYPE] = "exp"
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", metadata=metadata)
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: catch trials inconsistent: epoch\(s\) \[{catch}\] "
             rf"have event code {CATCH_EVENT}")  # fmt: skip


def test_catch_type_with_an_image_number(meg_root, loaded, tmp_path):
    events = loaded[0].events.copy()
    catch = np.flatnonzero(_types(loaded) == "catch")[0]
    events[catch, 2] = 1
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", events=events)
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: catch trials inconsistent: .* epoch\(s\) \[{catch}\] "
             r"are trial_type 'catch' with an image number")  # fmt: skip


def test_test_image_also_typed_exp(meg_root, loaded, tmp_path):
    metadata = loaded[0].metadata.copy()
    repetition = np.flatnonzero(_types(loaded) == "test")[0]
    metadata.loc[repetition, METADATA_TRIAL_TYPE] = "exp"
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", metadata=metadata)
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: test metadata inconsistent: image\(s\) \[{loaded[0].events[repetition, 2]}\] "
             r"occur both")  # fmt: skip


def test_exp_image_shown_twice(meg_root, loaded, tmp_path):
    events = loaded[0].events.copy()
    exp = np.flatnonzero(_types(loaded) == "exp")
    events[exp[1], 2] = events[exp[0], 2]
    metadata = loaded[0].metadata.copy()
    metadata.loc[exp[1], METADATA_CONCEPT] = metadata.loc[exp[0], METADATA_CONCEPT]
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", events=events, metadata=metadata)
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: 'exp' image\(s\) \[{events[exp[0], 2]}\] occur more than once")


def test_unknown_trial_type(meg_root, loaded, tmp_path):
    metadata = loaded[0].metadata.copy()
    metadata.loc[0, METADATA_TRIAL_TYPE] = "oddball"
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", metadata=metadata)
    _refused(meg_root, path, tmp_path / "out", r"bad-epo\.fif: unknown trial_type value\(s\) \['oddball'\]")


def test_no_trial_type_column(meg_root, loaded, tmp_path):
    metadata = loaded[0].metadata.drop(columns=[METADATA_TRIAL_TYPE])
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", metadata=metadata)
    _refused(meg_root, path, tmp_path / "out", r"bad-epo\.fif: the epochs metadata has no 'trial_type' column")
    path = _bad_derivative(loaded, tmp_path / "none-epo.fif", metadata=False)
    _refused(meg_root, path, tmp_path / "out", r"none-epo\.fif: the epochs metadata has no 'trial_type' column")


def test_image_number_unknown_to_things(meg_root, loaded, tmp_path):
    events = loaded[0].events.copy()
    exp = np.flatnonzero(_types(loaded) == "exp")[0]
    events[exp, 2] = 5000
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", events=events)
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: image number\(s\) \[5000\] are not THINGS images 1\.\.\d+ "
             rf"of {re.escape(str(things_tables(meg_root)[1]))}")  # fmt: skip


def test_metadata_concept_disagrees_with_things(meg_root, loaded, tmp_path):
    metadata = loaded[0].metadata.copy()
    exp = np.flatnonzero(_types(loaded) == "exp")[0]
    metadata.loc[exp, METADATA_CONCEPT] = metadata.loc[exp, METADATA_CONCEPT] + 1
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", metadata=metadata)
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: the metadata 'things_category_nr' of exp epoch\(s\) \[{exp}\] differs "
             rf"from the concept of their image in {re.escape(str(things_tables(meg_root)[1]))}")  # fmt: skip


def test_nan_in_the_data(meg_root, loaded, tmp_path):
    data = loaded[1].copy()
    exp = np.flatnonzero(_types(loaded) == "exp")[0]
    data[exp, 3, 50] = np.nan
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", data=data)
    _refused(meg_root, path, tmp_path / "out", rf"bad-epo\.fif: epoch {exp} holds NaN or Inf")


def _training_exp_trials(meg_root, loaded):
    """Epoch indices of the exp trials of each training concept: {concept number: [epochs]}."""
    images = read_things_images(*things_tables(meg_root))
    codes = loaded[0].events[:, 2]
    test_concepts = set(images.loc[np.unique(codes[_types(loaded) == "test"]), "things_category_nr"])
    by_concept = {}
    for i in np.flatnonzero(_types(loaded) == "exp"):
        concept = int(images.loc[codes[i], "things_category_nr"])
        if concept not in test_concepts:
            by_concept.setdefault(concept, []).append(int(i))
    return images, by_concept


def test_training_concept_with_all_trials_removed(meg_root, loaded, tmp_path):
    images, by_concept = _training_exp_trials(meg_root, loaded)
    concept, trials = next(iter(by_concept.items()))
    folder = images.loc[images["things_category_nr"] == concept, "folder"].iloc[0]
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", keep=np.delete(np.arange(len(loaded[1])), trials))
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: concept\(s\) \['{folder}'\] of {re.escape(str(things_tables(meg_root)[1]))} are "
             r"neither test nor training concepts")  # fmt: skip


def test_catch_trials_per_session_differ(meg_root, loaded, tmp_path):
    catch = np.flatnonzero(_types(loaded) == "catch")[0]
    session = loaded[0].metadata[METADATA_SESSION].iloc[catch]
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", keep=np.delete(np.arange(len(loaded[1])), catch))
    per_session = MEG_SPEC.catch_per_run * MEG_SPEC.runs_per_session
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: the sessions hold different numbers of 'catch' trials \(session: count "
             rf"\{{.*{session}: {per_session - 1}.*\}}\)")  # fmt: skip


def test_test_trials_per_session_differ(meg_root, loaded, tmp_path):
    # An extra repetition of a test image in one session (and so one test trial more there).
    test = np.flatnonzero(_types(loaded) == "test")
    image = loaded[0].events[test[0], 2]
    events = np.vstack([loaded[0].events, loaded[0].events[test[0]] + [1, 0, 0]])  # a unique sample
    metadata = pd.concat([loaded[0].metadata, loaded[0].metadata.iloc[[test[0]]]], ignore_index=True)
    data = np.concatenate([loaded[1], loaded[1][test[:1]]])
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", keep=np.argsort(events[:, 0], kind="stable"),
                           events=events, metadata=metadata, data=data)  # fmt: skip
    _refused(meg_root, path, tmp_path / "out", rf"bad-epo\.fif: test image\(s\) \[{image}\] without")


def test_image_numbers_not_grouped_by_concept(meg_root, loaded, tmp_path):
    # Swap two training images of different concepts in THINGS' tables (and the
    # derivative's concept metadata): each concept's image numbers are no longer together.
    images, by_concept = _training_exp_trials(meg_root, loaded)
    (first, *_), (second, *_) = list(by_concept.values())[:2]
    codes = loaded[0].events[:, 2]
    a, b = int(codes[first]), int(codes[second])
    tables = []
    for original in things_tables(meg_root):
        rows = original.read_text().splitlines(keepends=True)
        rows[a - 1], rows[b - 1] = rows[b - 1], rows[a - 1]
        tables.append(tmp_path / original.name)
        tables[-1].write_text("".join(rows))
    metadata = loaded[0].metadata.copy()
    metadata.loc[[first, second], METADATA_CONCEPT] = metadata.loc[[second, first], METADATA_CONCEPT].to_numpy()
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", metadata=metadata)
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: in {re.escape(str(tables[1]))}, training image \d+ \(concept \d+\) follows image "
             r"\d+ \(concept \d+\): image numbers must group the images by concept", tables=tables)  # fmt: skip


def _with_channels(loaded, names, types):
    """The derivative's info with other channel names and types."""
    return mne.create_info(names, loaded[0].info["sfreq"], types)


def test_a_refuses_channels_other_than_sensors(meg_root, loaded, tmp_path):
    names = list(loaded[0].ch_names)
    extra = ["BG1-1609", "UPPT001"]
    data = np.concatenate([loaded[1], np.zeros((len(loaded[1]), 2, loaded[1].shape[2]))], axis=1)
    info = _with_channels(loaded, [*names, *extra], ["mag"] * len(names) + ["ref_meg", "stim"])
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", data=data, info=info)
    _refused(meg_root, path, tmp_path / "out",
             r"bad-epo\.fif: channel\(s\) \['BG1-1609', 'UPPT001'\] are not CTF MEG sensors")  # fmt: skip


def test_a_refuses_sensors_not_typed_mag(meg_root, loaded, tmp_path):
    names = list(loaded[0].ch_names)
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", info=_with_channels(loaded, names, "misc"))
    _refused(meg_root, path, tmp_path / "out",
             rf"bad-epo\.fif: {len(names)} sensor\(s\) typed other than 'mag'")  # fmt: skip


def test_a_refuses_the_dead_sensor(meg_root, loaded, tmp_path):
    names = [DEAD_CHANNEL if k == 0 else name for k, name in enumerate(loaded[0].ch_names)]
    path = _bad_derivative(loaded, tmp_path / "bad-epo.fif", info=_with_channels(loaded, names, "mag"))
    _refused(meg_root, path, tmp_path / "out", r"bad-epo\.fif: holds the dead sensor MRO11-1609")


def test_things_tables_of_different_length(meg_root, tmp_path):
    image_paths, concept_index = things_tables(meg_root)
    short = tmp_path / "image_concept_index.csv"
    short.write_text("".join(concept_index.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(ValueError, match=r"image_paths\.csv lists \d+ images but .*image_concept_index\.csv lists"):
        read_things_images(image_paths, short)


# -- entry point B --------------------------------------------------------------------

#: Two sessions of one run: enough for every check of the raw path.
RAW_SPEC = SyntheticMegSpec(n_concepts=4, exp_images_per_concept=2, n_test_concepts=1, n_sessions=2,
                            runs_per_session=1, catch_per_run=1, min_run_s=35.0)  # fmt: skip


@pytest.fixture(scope="session")
def raw_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("things-meg-raw")
    write_meg_participant(root, RAW_SPEC, 1)
    return bids_root(root)


@pytest.fixture
def bids(raw_root, tmp_path):
    """A writable copy of the raw BIDS dataset; its runs."""
    shutil.copytree(raw_root, tmp_path / "bids")
    return tmp_path / "bids", find_runs(tmp_path / "bids", 1)


def _b(root, participant=1, **options):
    """Run entry point B into ``<root>/../b-out``; return its epochs, loaded.

    On an error, check that nothing was left behind (no derivative, no staging folder).
    """
    out = root.parent / "b-out"
    path = out / f"preprocessed_P{participant}-epo.fif"
    try:
        derivative_from_raw(root, participant, path, **options)
    except (ValueError, FileNotFoundError):
        assert not out.exists() or list(out.iterdir()) == []
        raise
    return mne.read_epochs(path, preload=True, verbose="error")


def _edit_events(run, change):
    table = pd.read_csv(run.events_path, sep="\t", keep_default_na=False)
    change(table).to_csv(run.events_path, sep="\t", index=False)


def _edit_raw(run, change):
    raw = mne.io.read_raw(run.raw_path, preload=True, verbose="error")
    raw = change(raw)
    raw.save(run.raw_path, overwrite=True, verbose="error")


def test_b_runs_on_the_untouched_copy(bids):
    root, runs = bids
    assert len(_b(root)) == sum(len(pd.read_csv(r.events_path, sep="\t")) for r in runs)


def test_b_events_tsv_row_missing(bids):
    root, runs = bids
    _edit_events(runs[1], lambda t: t.iloc[:-1])
    with pytest.raises(ValueError, match=rf"{re.escape(runs[1].raw_path.name)}: \d+ 'UPPT001' pulses of 64 but "
                                         rf"\d+ rows in .*{re.escape(runs[1].events_path.name)}"):  # fmt: skip
        _b(root)


def test_b_onsets_that_do_not_pair_with_the_pulses(bids):
    root, runs = bids
    _edit_events(runs[0], lambda t: t.assign(sample=t["sample"] + 720))
    with pytest.raises(ValueError, match=r"_events\.tsv: row \d+ lies \+0\.6\d\d s from its 'UPPT001' pulse"):
        _b(root)


def test_b_events_tsv_missing_column(bids):
    root, runs = bids
    _edit_events(runs[0], lambda t: t.drop(columns=["sample"]))
    with pytest.raises(ValueError, match=r"run-01_events\.tsv: missing column\(s\) \['sample'\]"):
        _b(root)


def test_b_catch_with_an_image_number(bids):
    root, runs = bids

    def number_the_catch(table):
        table.loc[table["trial_type"] == "catch", "value"] = "7.0"
        return table

    _edit_events(runs[0], number_the_catch)
    with pytest.raises(ValueError,
                       match=r"run-01_events\.tsv: row\(s\) \[\d+(, \d+)*\]: catch trials must have value n/a"):
        _b(root)


@pytest.mark.parametrize(("value", "shown"), [("24812.5", "'24812.5'"), ("image", "'image'")])
def test_b_image_number_not_an_integer(bids, value, shown):
    root, runs = bids

    def spoil(table):
        row = int(np.flatnonzero(table["trial_type"] != "catch")[1])
        table.loc[row, "value"] = value
        return table

    _edit_events(runs[1], spoil)
    row = int(np.flatnonzero(pd.read_csv(runs[1].events_path, sep="\t")["trial_type"] != "catch")[1]) + 1
    with pytest.raises(ValueError, match=rf"{re.escape(runs[1].events_path.name)}: row\(s\) \[{row}\]: 'value' must "
                                         r"be an integer or n/a \(catch trials\), "
                                         rf"found \[{re.escape(shown)}\]"):  # fmt: skip
        _b(root)


def test_b_channel_order_error_names_the_file(bids, monkeypatch):
    root, runs = bids
    _edit_raw(runs[1], lambda raw: raw.reorder_channels(raw.ch_names[::-1]))

    def refuse(self, ch_names):
        raise ValueError("cannot reorder")

    monkeypatch.setattr(mne.BaseEpochs, "reorder_channels", refuse)
    with pytest.raises(ValueError, match=rf"{re.escape(runs[1].raw_path.name)}: cannot put the sensors in the "
                                         r"first run's order \(cannot reorder\)"):  # fmt: skip
        _b(root)


def test_repair_dropouts_fills_the_known_segment_with_the_median():
    rng = np.random.default_rng(3)
    data = rng.standard_normal((3, 2000))
    raw = mne.io.RawArray(data.copy(), mne.create_info(["MLC11-1609", "MLC21-1609", TRIGGER_CHANNEL], 100.0,
                                                        ["mag", "mag", "stim"]), verbose="error")  # fmt: skip
    assert not repair_dropouts(raw, 1, 11, 3)  # no known drop-out there
    assert np.array_equal(raw.get_data(), data)
    assert repair_dropouts(raw, 1, 11, 4)  # participant 1, session 11, 5th run: 13.4 s, for 0.2 s
    repaired = raw.get_data()
    segment = slice(1340, 1360)
    assert np.array_equal(repaired[:, segment], np.repeat(np.median(data, axis=1)[:, None], 20, axis=1))
    outside = np.arange(1340, 1360)
    assert np.array_equal(np.delete(repaired, outside, axis=1), np.delete(data, outside, axis=1))


def test_b_a_run_missing_sensors(bids):
    root, runs = bids
    _edit_raw(runs[1], lambda raw: raw.drop_channels(["MLO11-1609", "MZO02-1609"]))
    with pytest.raises(ValueError, match=rf"{re.escape(runs[1].raw_path.name)}: MEG sensor channels differ from "
                                         r"the participant's other runs: "
                                         r"missing \['MLO11-1609', 'MZO02-1609'\]"):  # fmt: skip
        _b(root)


def test_b_expected_sensors_missing_everywhere(bids):
    root, _ = bids
    with pytest.raises(ValueError, match=r"run-01_meg\.fif: MEG sensor channels differ .* missing \['MLO41-1609'\]"):
        _b(root, expected_sensors=[*SENSORS, "MLO41-1609"])


def test_b_no_sensor_names(bids):
    root, runs = bids
    _edit_raw(runs[0], lambda raw: raw.rename_channels({s: s.lower() for s in SENSORS}))
    with pytest.raises(ValueError, match=r"run-01_meg\.fif: no CTF MEG sensor channels"):
        _b(root)


def test_b_no_trigger_channel(bids):
    root, runs = bids
    _edit_raw(runs[0], lambda raw: raw.drop_channels([TRIGGER_CHANNEL]))
    with pytest.raises(ValueError, match=r"run-01_meg\.fif: no trigger channel 'UPPT001'"):
        _b(root)


def test_b_missing_events_file(bids):
    root, runs = bids
    runs[0].events_path.unlink()
    with pytest.raises(FileNotFoundError, match=r"run-01_meg\.fif: no events file .*run-01_events\.tsv"):
        _b(root)


def test_b_no_runs(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"sub-BIGMEG3: no MEG runs"):
        _b(tmp_path, participant=3)
