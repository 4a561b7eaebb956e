"""THINGS-MEG entry point B: raw BIDS runs to the dataset authors' epochs (MEG.md 1.6, 4.1 B).

Re-implements THINGS-code ``MEG/step1_preprocessing.py`` with its parameters, per
run, in session order:

1. read the run with :func:`mne.io.read_raw` (CTF ``.ds`` and FIF alike; not
   ``mne_bids.read_raw_bids``, which types the sensors of ds004212 as ``misc``,
   MEG.md 5.4), and set the channel types by name (sensors ``mag``, ``UPPT001``
   ``stim``), whatever the file says;
2. repair the two known signal drop-outs (:data:`~necomimi.data.things_meg.DROPOUT_REPAIRS`);
3. drop the dead sensor ``MRO11-1609``;
4. events: the ``UPPT001`` pulses of 64, whose count must equal the rows of the run's
   ``events.tsv``, replaced by the optical-sensor onsets (``sample``) and THINGS image
   numbers (``value``; catch -> 999999) of that file;
5. band-pass 0.1-40 Hz (MNE's default zero-phase FIR);
6. epochs -0.1..1.3 s, ``picks='mag'``, no baseline, no rejection;
7. per epoch and channel, z-score against the baseline (None, 0)
   (``mne.baseline.rescale(mode='zscore')``), at the raw rate;
8. decimate to 200 Hz, stack the runs, attach the trials' metadata.

The authors z-score a whole session at once and decimate the stacked sessions; both
steps act on each epoch alone, so doing them run by run gives the same numbers in a
fraction of the memory. The stacked epochs are still held in memory (float64: about
15 GiB for a real participant; the authors' code held more), so full-size runs need a
large node; the synthetic data are small.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np
import pandas as pd

from necomimi.data.things_meg import (
    CATCH_EVENT,
    DEAD_CHANNEL,
    DERIVATIVE_SFREQ,
    DERIVATIVE_TMAX,
    DERIVATIVE_TMIN,
    DROPOUT_REPAIRS,
    DROPOUT_SECONDS,
    EVENTS_COLUMNS,
    EVENTS_CONCEPT_COLUMN,
    EVENTS_IMAGE_COLUMN,
    EVENTS_SAMPLE_COLUMN,
    METADATA_CONCEPT,
    METADATA_IMAGE,
    METADATA_RUN,
    METADATA_SESSION,
    METADATA_TRIAL_TYPE,
    TRIAL_CATCH,
    TRIAL_TYPES,
    TRIGGER_CHANNEL,
    TRIGGER_VALUE,
    derivative_parts,
    is_sensor,
    participant_label,
)

logger = logging.getLogger(__name__)

#: Raw-file suffixes of a run: the real CTF folders and synthetic FIF files.
RAW_SUFFIXES: tuple[str, ...] = ("_meg.ds", "_meg.fif")
#: Largest accepted distance between a trigger and its optical-sensor onset, seconds:
#: a third of the shortest SOA, so a shifted pairing cannot pass.
MAX_TRIGGER_LAG_S = 0.4
_RUN = re.compile(r"_run-(\d+)_")


@dataclass(frozen=True)
class MegRun:
    """One recording run of a participant: its raw file and its ``events.tsv``."""

    session: int
    run: int
    raw_path: Path
    events_path: Path


def find_runs(bids_root: str | Path, participant: int) -> list[MegRun]:
    """List the runs of ``sub-BIGMEG{n}/ses-*/meg/``, ordered by session and run.

    macOS junk files (names starting with ``._``, MEG.md 1.3) are skipped.

    Raises
    ------
    FileNotFoundError, ValueError
        If the participant has no runs, a run's ``events.tsv`` is missing, or a name
        carries no session or run number.
    """
    subject_dir = Path(bids_root) / f"sub-{participant_label(participant)}"
    runs = []
    for session_dir in sorted(subject_dir.glob("ses-*")):
        for path in sorted((session_dir / "meg").glob("*_meg.*")):
            if path.name.startswith("._") or not path.name.endswith(RAW_SUFFIXES):
                continue
            match = _RUN.search(path.name)
            session = session_dir.name.removeprefix("ses-")
            if match is None or not session.isdigit():
                raise ValueError(f"{path}: expected ses-<number> and run-<number> in the path")
            events = path.with_name(re.sub(r"_meg\.(ds|fif)$", "_events.tsv", path.name))
            if not events.is_file():
                raise FileNotFoundError(f"{path}: no events file {events.name} beside it")
            runs.append(MegRun(int(session), int(match.group(1)), path, events))
    if not runs:
        raise FileNotFoundError(f"{subject_dir}: no MEG runs (ses-*/meg/*_meg.ds or *_meg.fif)")
    return sorted(runs, key=lambda r: (r.session, r.run))


def read_events_table(path: str | Path) -> pd.DataFrame:
    """Read one run's ``events.tsv`` (ds004212 >= 2.0.0 columns) and check it.

    Raises
    ------
    ValueError
        For missing columns, unknown trial types, catch trials with an image number or
        other trials without one, or samples that are not increasing integers.
    """
    path = Path(path)
    table = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False)
    missing = [c for c in EVENTS_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected {list(EVENTS_COLUMNS)} (ds004212 >= 2.0.0)")
    if len(table) == 0:
        raise ValueError(f"{path}: no events")
    types = table["trial_type"].astype(str)
    unknown = sorted(set(types) - set(TRIAL_TYPES))
    if unknown:
        raise ValueError(f"{path}: unknown trial_type value(s) {unknown}; expected {list(TRIAL_TYPES)}")
    image = pd.to_numeric(table[EVENTS_IMAGE_COLUMN], errors="coerce")
    catch = (types == TRIAL_CATCH).to_numpy()
    wrong = np.flatnonzero(catch == image.notna().to_numpy())
    if len(wrong):
        raise ValueError(
            f"{path}: row(s) {(wrong + 1).tolist()[:5]}: catch trials must have value n/a and "
            "every other trial a THINGS image number"
        )
    sample = pd.to_numeric(table[EVENTS_SAMPLE_COLUMN], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(sample)) or np.any(sample % 1) or np.any(np.diff(sample) <= 0):
        raise ValueError(f"{path}: '{EVENTS_SAMPLE_COLUMN}' must hold increasing integer sample numbers")
    return table


def set_channel_types(raw: mne.io.BaseRaw, path: Path) -> list[str]:
    """Type the CTF sensors ``mag`` and the trigger ``stim``, by name; return the sensors.

    The ds004212 sidecars type the sensors ``OTHER`` and the trigger ``MISC``
    (MEG.md 1.2, 5.4); whatever a reader made of them, the names decide.

    Raises
    ------
    ValueError
        If the run has no sensor channel or no trigger channel.
    """
    sensors = [name for name in raw.ch_names if is_sensor(name)]
    if not sensors:
        raise ValueError(f"{path}: no CTF MEG sensor channels (names like MLO11-1609) among {raw.ch_names[:8]}...")
    if TRIGGER_CHANNEL not in raw.ch_names:
        raise ValueError(f"{path}: no trigger channel '{TRIGGER_CHANNEL}', so the image onsets cannot be found")
    types = dict(zip(raw.ch_names, raw.get_channel_types(), strict=True))
    mapping = {name: "mag" for name in sensors if types[name] != "mag"}
    if types[TRIGGER_CHANNEL] != "stim":
        mapping[TRIGGER_CHANNEL] = "stim"
    if mapping:
        logger.info("%s: set the type of %d channel(s) by name", path, len(mapping))
        raw.set_channel_types(mapping, on_unit_change="ignore", verbose="error")
    return sensors


def repair_dropouts(raw: mne.io.BaseRaw, participant: int, session: int, run_index: int) -> bool:
    """Replace the known drop-out of this run, if any, by each channel's median.

    Returns whether a repair was made (MEG.md 1.6 step 2).
    """
    start_s = DROPOUT_REPAIRS.get((participant, session, run_index))
    if start_s is None:
        return False
    start = int(round(start_s * raw.info["sfreq"]))
    stop = start + int(round(DROPOUT_SECONDS * raw.info["sfreq"]))

    def fill(signal: np.ndarray) -> np.ndarray:
        signal[start:stop] = np.median(signal)
        return signal

    raw.apply_function(fill, picks="all", channel_wise=True, verbose="error")
    return True


def run_events(raw: mne.io.BaseRaw, table: pd.DataFrame, run: MegRun) -> np.ndarray:
    """MNE events of a run: trigger pulses of 64, replaced by the events.tsv onsets and codes.

    Raises
    ------
    ValueError
        If the pulse count differs from the events.tsv rows, or a pulse lies more than
        :data:`MAX_TRIGGER_LAG_S` from its onset (a shifted pairing).
    """
    found = mne.find_events(raw, stim_channel=TRIGGER_CHANNEL, initial_event=True, verbose="error")
    triggers = found[found[:, 2] == TRIGGER_VALUE]
    if len(triggers) != len(table):
        raise ValueError(
            f"{run.raw_path}: {len(triggers)} '{TRIGGER_CHANNEL}' pulses of {TRIGGER_VALUE} but "
            f"{len(table)} rows in {run.events_path}; they must pair one to one"
        )
    samples = table[EVENTS_SAMPLE_COLUMN].to_numpy(np.int64) + raw.first_samp
    lag = (samples - triggers[:, 0]) / raw.info["sfreq"]
    if np.max(np.abs(lag)) > MAX_TRIGGER_LAG_S:
        worst = int(np.argmax(np.abs(lag)))
        raise ValueError(
            f"{run.events_path}: row {worst + 1} lies {lag[worst]:+.3f} s from its "
            f"'{TRIGGER_CHANNEL}' pulse in {run.raw_path}; onsets and pulses do not pair"
        )
    logger.info("%s: %d events, optical onsets %.1f ms after the triggers (median)",
                run.raw_path.name, len(samples), 1e3 * np.median(lag))  # fmt: skip
    codes = pd.to_numeric(table[EVENTS_IMAGE_COLUMN], errors="coerce").fillna(CATCH_EVENT).to_numpy(np.int64)
    return np.column_stack([samples, np.zeros_like(samples), codes])


def _metadata(table: pd.DataFrame, run: MegRun) -> pd.DataFrame:
    return pd.DataFrame(
        {
            METADATA_TRIAL_TYPE: table["trial_type"].astype(str).to_numpy(),
            METADATA_IMAGE: pd.to_numeric(table[EVENTS_IMAGE_COLUMN], errors="coerce").to_numpy(float),
            METADATA_CONCEPT: pd.to_numeric(table[EVENTS_CONCEPT_COLUMN], errors="coerce").to_numpy(float),
            METADATA_SESSION: run.session,
            METADATA_RUN: run.run,
            "onset": table["onset"].to_numpy(float),
            "sample": table[EVENTS_SAMPLE_COLUMN].to_numpy(np.int64),
        }
    )


def epoch_run(
    run: MegRun,
    run_index: int,
    participant: int,
    *,
    expected_sensors: list[str] | None,
    l_freq: float,
    h_freq: float,
    tmin: float,
    tmax: float,
    sfreq: float,
) -> tuple[mne.EpochsArray, pd.DataFrame, list[str], int]:
    """Apply steps 1-8 of the module docstring to one run.

    Returns
    -------
    epochs : mne.EpochsArray
        The run's z-scored, decimated epochs (sensors only, dead sensor dropped).
    metadata : pandas.DataFrame
        One row per epoch.
    sensors : list of str
        The run's sensor names before the drop, for the check against other runs.
    n_times : int
        Length of the run, raw samples (offsets the next run's event samples).
    """
    table = read_events_table(run.events_path)
    try:
        raw = mne.io.read_raw(run.raw_path, preload=True, verbose="error")
    except (OSError, ValueError, RuntimeError) as error:
        raise ValueError(f"{run.raw_path}: cannot read the raw recording ({error})") from error
    decim = int(round(raw.info["sfreq"] / sfreq))
    if decim < 1 or not np.isclose(decim * sfreq, raw.info["sfreq"]):
        raise ValueError(
            f"{run.raw_path}: sampling rate {raw.info['sfreq']} Hz is not a multiple of the output's {sfreq} Hz"
        )
    sensors = set_channel_types(raw, run.raw_path)
    if expected_sensors is not None and sorted(sensors) != sorted(expected_sensors):
        missing = sorted(set(expected_sensors) - set(sensors))
        extra = sorted(set(sensors) - set(expected_sensors))
        raise ValueError(
            f"{run.raw_path}: MEG sensor channels differ from the participant's other runs: "
            f"missing {missing[:10]}, unexpected {extra[:10]}"
        )
    if repair_dropouts(raw, participant, run.session, run_index):
        logger.info("%s: repaired the known signal drop-out", run.raw_path.name)
    if DEAD_CHANNEL in raw.ch_names:
        raw.drop_channels([DEAD_CHANNEL])
    events = run_events(raw, table, run)
    raw.filter(l_freq=l_freq, h_freq=h_freq, verbose="error")
    epochs = mne.Epochs(raw, events, event_id=None, tmin=tmin, tmax=tmax, picks="mag",
                        baseline=None, preload=True, verbose="error")  # fmt: skip
    if len(epochs) != len(events):
        raise ValueError(
            f"{run.raw_path}: {len(events) - len(epochs)} epoch(s) of {tmin}..{tmax} s could not be "
            f"cut (drop log: {[r for r in epochs.drop_log if r][:3]}); onsets too close to the run's ends?"
        )
    data = epochs.get_data()
    mne.baseline.rescale(data, epochs.times, (None, 0), mode="zscore", copy=False, verbose="error")
    zscored = mne.EpochsArray(data, epochs.info, events=epochs.events, tmin=epochs.tmin,
                              event_id=epochs.event_id, baseline=None, verbose="error")  # fmt: skip
    zscored.decimate(decim, verbose="error")
    return zscored, _metadata(table, run), sensors, raw.n_times


def epochs_from_raw(
    bids_root: str | Path,
    participant: int,
    *,
    l_freq: float = 0.1,
    h_freq: float = 40.0,
    tmin: float = DERIVATIVE_TMIN,
    tmax: float = DERIVATIVE_TMAX,
    sfreq: float = DERIVATIVE_SFREQ,
    expected_sensors: list[str] | None = None,
) -> mne.EpochsArray:
    """Make a participant's derivative epochs from the raw runs (entry point B).

    Parameters
    ----------
    bids_root : str or Path
        The BIDS dataset (ds004212 or the synthetic one).
    participant : int
        Participant number n of ``sub-BIGMEG{n}``.
    l_freq, h_freq : float
        Band-pass edges, Hz (0.1, 40).
    tmin, tmax : float
        Epoch window, seconds (-0.1, 1.3).
    sfreq : float
        Output rate, Hz (200); the raw rate must be a multiple of it.
    expected_sensors : list of str, optional
        Sensor names every run must have (before the dead one is dropped); by
        default the first run's.

    Returns
    -------
    mne.EpochsArray
        All trials of all sessions in acquisition order, events
        ``[sample, 0, image number or 999999]`` (samples offset run by run so they are
        unique), metadata of :mod:`necomimi.data.things_meg`'s ``METADATA_*`` columns
        plus ``onset`` and ``sample``.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the run's file, for any check of :func:`find_runs`,
        :func:`read_events_table`, :func:`set_channel_types`, :func:`run_events`, or
        runs that disagree in sensors or sampling rate.
    """
    runs = find_runs(bids_root, participant)
    parts, metadata, events = [], [], []
    offset, run_index, session = 0, 0, None
    for run in runs:
        run_index = run_index + 1 if run.session == session else 0
        session = run.session
        epochs, table, sensors, n_times = epoch_run(
            run, run_index, participant, expected_sensors=expected_sensors,
            l_freq=l_freq, h_freq=h_freq, tmin=tmin, tmax=tmax, sfreq=sfreq,
        )  # fmt: skip
        expected_sensors = sensors if expected_sensors is None else expected_sensors
        if parts and epochs.ch_names != parts[0].ch_names:
            epochs.reorder_channels(parts[0].ch_names)
        if parts and epochs.info["sfreq"] != parts[0].info["sfreq"]:
            raise ValueError(f"{run.raw_path}: sampling rate differs from the participant's first run")
        events.append(epochs.events + np.array([offset, 0, 0]))
        offset += n_times
        parts.append(epochs)
        metadata.append(table)
    data = np.concatenate([p.get_data() for p in parts])
    all_events = np.concatenate(events)
    codes = np.unique(all_events[:, 2])
    stacked = mne.EpochsArray(
        data,
        parts[0].info,
        events=all_events,
        tmin=parts[0].tmin,
        event_id={str(code): int(code) for code in codes},
        metadata=pd.concat(metadata, ignore_index=True),
        baseline=None,
        verbose="error",
    )
    logger.info("sub-%s: %d epochs from %d runs", participant_label(participant), len(stacked), len(runs))
    return stacked


def write_derivative(epochs: mne.BaseEpochs, path: str | Path, *, split_size: str | int = "2GB") -> list[Path]:
    """Save epochs as ``preprocessed_P{n}-epo.fif`` (+ split parts), float32, atomically.

    The parts are written into a staging folder beside ``path`` and moved in, the
    first file last; old parts of an earlier derivative at ``path`` are removed.

    Returns
    -------
    list of Path
        The files written, first file first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".derivative-", dir=path.parent))
    try:
        written = epochs.save(staging / path.name, split_size=split_size, fmt="single", overwrite=True, verbose="error")
        if path.exists():
            for old in derivative_parts(path):
                old.unlink()
        finals = [path.parent / Path(p).name for p in written]
        for source, final in list(zip(written, finals, strict=True))[::-1]:
            os.replace(source, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return finals
