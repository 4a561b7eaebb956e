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
6. epochs -0.1..1.3 s of the sensors (picked by name: the authors' ``picks='mag'``
   on a CTF recording), no baseline, no rejection;
7. per epoch and channel, z-score against the baseline (None, 0)
   (``mne.baseline.rescale(mode='zscore')``), at the raw rate;
8. decimate to 200 Hz, stack the runs, attach the trials' metadata.

The authors z-score a whole session at once and decimate the stacked sessions; both
steps act on each epoch alone, so doing them run by run gives the same numbers. Each
run's epochs are cast to float32 (the derivative's dtype on disk) as soon as they are
decimated and appended to a staging ``.npy`` file beside the derivative, and the
derivative's split parts are then written from that file one part at a time
(:func:`write_derivative`). Memory therefore holds one raw run at a time (with its
epochs) or one part being written, never the participant's epochs: about 2.1 GiB for
runs of the real size (310 channels, 1200 Hz, 348 s) and for writing a real
participant's 7.7 GiB of epochs (``perf/results/meg_preprocessing.md``). Disk needs
room for the staged epochs and the derivative at once (about 8 GB each for a real
participant).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import mne
import numpy as np
import pandas as pd
from mne.epochs import _save_split

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
    derivative_sidecar,
    is_sensor,
    participant_label,
)
from necomimi.utils.atomic import staging_folder
from necomimi.utils.npy import NpyWriter, read_rows
from necomimi.utils.provenance import software_versions

logger = logging.getLogger(__name__)

#: Raw-file suffixes of a run: the real CTF folders and synthetic FIF files.
RAW_SUFFIXES: tuple[str, ...] = ("_meg.ds", "_meg.fif")
#: Largest accepted distance between a trigger and its optical-sensor onset, seconds:
#: a third of the shortest SOA, so a shifted pairing cannot pass.
MAX_TRIGGER_LAG_S = 0.4
#: Epoch data per split part of a derivative written here, bytes (float32 on disk).
#: MNE's writer holds a part about four times over (float64, then a big-endian float32
#: copy and its bytes), so 512 MiB parts keep writing at about 2 GB; a real
#: participant (7.7 GiB) gives 16 parts where the dataset authors' have 4 of 2 GB.
DERIVATIVE_PART_BYTES = 512 * 2**20
#: A FIF file addresses its tags with 32-bit offsets: a part must stay below 2 GiB,
#: metadata and drop log included.
_MAX_PART_BYTES = 2**31 - 2**27
_SIDECAR_PACKAGES = ("numpy", "scipy", "pandas", "mne", "mne-bids")
_RUN = re.compile(r"_run-(\d+)_")
_SPLIT = re.compile(r"_split-(\d+)(?=_meg\.fif$)")


@dataclass(frozen=True)
class EpochParameters:
    """The dataset authors' parameters of steps 5-8 (MEG.md 1.6)."""

    l_freq: float = 0.1  # band-pass edges, Hz
    h_freq: float = 40.0
    tmin: float = DERIVATIVE_TMIN  # epoch window, seconds
    tmax: float = DERIVATIVE_TMAX
    sfreq: float = DERIVATIVE_SFREQ  # output rate, Hz; the raw rate must be a multiple of it


@dataclass(frozen=True)
class MegRun:
    """One recording run of a participant: its raw file and its ``events.tsv``."""

    session: int
    run: int
    raw_path: Path
    events_path: Path


@dataclass
class RunEpochs:
    """One run after steps 1-8: its epochs, float32, and what the stacking needs."""

    data: np.ndarray  # float32 (n_trials, n_sensors, n_times) at the output rate
    events: np.ndarray  # [sample, 0, image number or 999999], the run's own sample numbers
    metadata: pd.DataFrame
    info: mne.Info  # the sensors' info at the output rate
    tmin: float
    raw_sfreq: float
    sensors: list[str]  # sensor names before the dead one is dropped
    end_sample: int  # raw.last_samp + 1: the first sample number after the run
    raw_files: list[Path] = field(default_factory=list)
    repaired_dropout: bool = False


@dataclass(frozen=True)
class StagedEpochs:
    """A participant's epochs whose data wait in a float32 ``.npy`` file, not yet saved."""

    data_file: Path  # float32, shape ``shape``
    shape: tuple[int, int, int]  # (n_epochs, n_channels, n_times)
    info: mne.Info
    tmin: float
    raw_sfreq: float
    events: np.ndarray
    metadata: pd.DataFrame


def find_runs(bids_root: str | Path, participant: int) -> list[MegRun]:
    """List the runs of ``sub-BIGMEG{n}/ses-*/meg/``, ordered by session and run.

    macOS junk files (names starting with ``._``, MEG.md 1.3) are skipped. A FIF run
    that BIDS split into ``_split-01_meg.fif``, ``_split-02_meg.fif``, ... is one run:
    its first part (MNE reads the others through it) with the run's
    ``_events.tsv`` (no ``split`` entity).

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
            split = _SPLIT.search(path.name)
            if split is not None and int(split.group(1)) != 1:
                continue  # a continuation part of a split run
            match = _RUN.search(path.name)
            session = session_dir.name.removeprefix("ses-")
            if match is None or not session.isdigit():
                raise ValueError(f"{path}: expected ses-<number> and run-<number> in the path")
            events_name = re.sub(r"_meg\.(ds|fif)$", "_events.tsv", _SPLIT.sub("", path.name))
            events = path.with_name(events_name)
            if not events.is_file():
                raise FileNotFoundError(f"{path}: no events file {events.name} beside it")
            runs.append(MegRun(int(session), int(match.group(1)), path, events))
    if not runs:
        raise FileNotFoundError(f"{subject_dir}: no MEG runs (ses-*/meg/*_meg.ds or *_meg.fif)")
    return sorted(runs, key=lambda r: (r.session, r.run))


def _integer_column(table: pd.DataFrame, column: str, path: Path, *, missing: str) -> pd.Series:
    """A column as numbers; refuse text that is not a number and numbers with a fraction."""
    values = pd.to_numeric(table[column], errors="coerce")
    text = np.flatnonzero(table[column].notna().to_numpy() & values.isna().to_numpy())
    fraction = np.flatnonzero((values.notna() & (values % 1 != 0)).to_numpy())
    if len(text) or len(fraction):
        rows = sorted({*text.tolist(), *fraction.tolist()})
        shown = {int(row) + 1: str(table[column].iloc[row]) for row in rows[:5]}
        raise ValueError(
            f"{path}: row(s) {list(shown)}: '{column}' must be an integer or {missing}, found {list(shown.values())}"
        )
    return values


def read_events_table(path: str | Path) -> pd.DataFrame:
    """Read one run's ``events.tsv`` (ds004212 >= 2.0.0 columns) and check it.

    Rows are counted from 1, the first row after the header.

    Raises
    ------
    ValueError
        For missing columns, unknown trial types, image numbers (``value``) that are
        not integers, catch trials with an image number or other trials without one,
        or samples that are not increasing integers.
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
    image = _integer_column(table, EVENTS_IMAGE_COLUMN, path, missing="n/a (catch trials)")
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

    The drop-out starts :data:`~necomimi.data.things_meg.DROPOUT_REPAIRS` seconds after
    the run's first sample and lasts :data:`~necomimi.data.things_meg.DROPOUT_SECONDS`;
    every channel's samples there become the median of the whole channel.

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

    The events.tsv ``sample`` counts from the run's first sample; MNE's event samples
    include ``raw.first_samp``, which is added.

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
    channel_order: list[str] | None,
    params: EpochParameters = EpochParameters(),
    table: pd.DataFrame | None = None,
) -> RunEpochs:
    """Apply steps 1-8 of the module docstring to one run.

    Parameters
    ----------
    run : MegRun
        The run.
    run_index : int
        0-based index of the run within its session (names the drop-out repairs).
    participant : int
        Participant number.
    expected_sensors : list of str or None
        Sensor names the run must have (before the dead one is dropped).
    channel_order : list of str or None
        Order of the output channels (the first run's); by default the run's own.
    params : EpochParameters
        Filter, window and output rate.
    table : pandas.DataFrame, optional
        The run's events table, if already read.

    Returns
    -------
    RunEpochs
        The run's z-scored, decimated epochs (sensors only, dead sensor dropped), float32.
    """
    table = read_events_table(run.events_path) if table is None else table
    try:
        raw = mne.io.read_raw(run.raw_path, preload=True, verbose="error")
    except (OSError, ValueError, RuntimeError) as error:
        raise ValueError(f"{run.raw_path}: cannot read the raw recording ({error})") from error
    raw_sfreq = raw.info["sfreq"]
    decim = int(round(raw_sfreq / params.sfreq))
    if decim < 1 or not np.isclose(decim * params.sfreq, raw_sfreq):
        raise ValueError(
            f"{run.raw_path}: sampling rate {raw_sfreq} Hz is not a multiple of the output's {params.sfreq} Hz"
        )
    sensors = set_channel_types(raw, run.raw_path)
    if expected_sensors is not None and sorted(sensors) != sorted(expected_sensors):
        missing = sorted(set(expected_sensors) - set(sensors))
        extra = sorted(set(sensors) - set(expected_sensors))
        raise ValueError(
            f"{run.raw_path}: MEG sensor channels differ from the participant's other runs: "
            f"missing {missing[:10]}, unexpected {extra[:10]}"
        )
    repaired = repair_dropouts(raw, participant, run.session, run_index)
    if repaired:
        logger.info("%s: repaired the known signal drop-out", run.raw_path.name)
    if DEAD_CHANNEL in raw.ch_names:
        raw.drop_channels([DEAD_CHANNEL])
    picks = [name for name in sensors if name != DEAD_CHANNEL]
    events = run_events(raw, table, run)
    raw.filter(l_freq=params.l_freq, h_freq=params.h_freq, picks=picks, verbose="error")
    epochs = mne.Epochs(raw, events, event_id=None, tmin=params.tmin, tmax=params.tmax, picks=picks,
                        baseline=None, preload=True, verbose="error")  # fmt: skip
    end_sample, raw_files = raw.last_samp + 1, [Path(f) for f in raw.filenames if f is not None]
    del raw
    if len(epochs) != len(events):
        raise ValueError(
            f"{run.raw_path}: {len(events) - len(epochs)} epoch(s) of {params.tmin}..{params.tmax} s could not be "
            f"cut (drop log: {[r for r in epochs.drop_log if r][:3]}); onsets too close to the run's ends?"
        )
    data = epochs.get_data(copy=False)  # the epochs' own array: rescaled in place
    mne.baseline.rescale(data, epochs.times, (None, 0), mode="zscore", copy=False, verbose="error")
    epochs.decimate(decim, verbose="error")
    if channel_order is not None and epochs.ch_names != channel_order:
        try:
            epochs.reorder_channels(channel_order)
        except ValueError as error:
            raise ValueError(f"{run.raw_path}: cannot put the sensors in the first run's order ({error})") from error
    return RunEpochs(
        data=epochs.get_data(copy=False).astype(np.float32),
        events=events,
        metadata=_metadata(table, run),
        info=epochs.info,
        tmin=float(epochs.tmin),
        raw_sfreq=raw_sfreq,
        sensors=sensors,
        end_sample=int(end_sample),
        raw_files=raw_files,
        repaired_dropout=repaired,
    )


def _bytes_on_disk(path: Path) -> int:
    """Size of a file, or of every file in a folder (a CTF ``.ds`` run)."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def stage_epochs(
    bids_root: str | Path,
    participant: int,
    data_file: Path,
    *,
    params: EpochParameters = EpochParameters(),
    expected_sensors: list[str] | None = None,
) -> tuple[StagedEpochs, list[dict]]:
    """Run steps 1-8 on every run and append the epochs to ``data_file`` (float32 ``.npy``).

    ``bids_root``, ``participant`` and ``expected_sensors`` are those of
    :func:`derivative_from_raw`, ``params`` its filter, window and rate.

    Returns
    -------
    StagedEpochs
        All trials of all sessions in acquisition order; events
        ``[sample, 0, image number or 999999]``, the samples of each run offset by the
        ends (``last_samp + 1``) of the runs before it, so they increase throughout.
    list of dict
        One record per run (session, run, raw files and their sizes, events file,
        trials, whether the drop-out was repaired), for the sidecar.
    """
    runs = find_runs(bids_root, participant)
    tables = [read_events_table(run.events_path) for run in runs]  # all checked before hours of filtering
    n_epochs = sum(len(table) for table in tables)
    writer, first = None, None  # first: the first run's info, tmin and raw rate, the derivative's
    metadata, events, records = [], [], []
    offset, run_index, session = 0, 0, None
    with contextlib.ExitStack() as stack:  # closes the writer, checking its rows only on success
        for run, table in zip(runs, tables, strict=True):
            run_index = run_index + 1 if run.session == session else 0
            session = run.session
            epochs = epoch_run(
                run, run_index, participant, expected_sensors=expected_sensors,
                channel_order=None if first is None else first[0].ch_names, params=params, table=table,
            )  # fmt: skip
            if first is None:
                first, expected_sensors = (epochs.info, epochs.tmin, epochs.raw_sfreq), epochs.sensors
                writer = stack.enter_context(NpyWriter(data_file, (n_epochs, *epochs.data.shape[1:]), np.float32))
            elif epochs.raw_sfreq != first[2]:
                raise ValueError(f"{run.raw_path}: sampling rate differs from the participant's first run")
            writer.write(epochs.data)
            events.append(epochs.events + np.array([offset, 0, 0]))
            offset += epochs.end_sample
            metadata.append(epochs.metadata)
            records.append({
                "session": run.session, "run": run.run, "n_trials": len(epochs.data),
                "raw_files": [{"path": str(p), "bytes": _bytes_on_disk(p)} for p in epochs.raw_files],
                "events": str(run.events_path), "repaired_dropout": epochs.repaired_dropout,
            })  # fmt: skip
            del epochs
    all_events = np.concatenate(events)
    assert np.all(np.diff(all_events[:, 0]) > 0), "event samples must increase across runs"
    staged = StagedEpochs(data_file, writer.shape, *first, all_events, pd.concat(metadata, ignore_index=True))
    logger.info("sub-%s: %d epochs from %d runs", participant_label(participant), n_epochs, len(runs))
    return staged, records


def _split_fnames(path: Path, n_parts: int) -> list[Path]:
    """MNE's names of a split epochs file: ``x-epo.fif``, ``x-epo-1.fif``, ..."""
    stem = path.name.removesuffix(".fif")
    return [path, *(path.with_name(f"{stem}-{k}.fif") for k in range(1, n_parts))]


def write_derivative(
    epochs: StagedEpochs,
    path: str | Path,
    *,
    part_bytes: int = DERIVATIVE_PART_BYTES,
    sidecar: dict | None = None,
) -> list[Path]:
    """Save staged epochs as ``preprocessed_P{n}-epo.fif`` (+ split parts), float32.

    Each split part is read from the staging file, saved with MNE's own part writer
    and released before the next, so memory holds one part. The parts, the sidecar
    and the first file are written into a staging folder beside ``path``, then moved
    in with :func:`os.replace`: the split parts, the sidecar, the first file (the
    file readers open), and last the old parts numbered above the new count are
    deleted. An existing derivative is thus never deleted before its replacement is
    complete on disk; only a crash between the renames (one folder, so each is
    atomic) can leave new parts beside the old first file.

    Parameters
    ----------
    epochs : StagedEpochs
        The epochs and where their data wait.
    path : str or Path
        The first file, ``...-epo.fif``.
    part_bytes : int
        Epoch data per file, bytes (float32); at most just below 2 GiB.
    sidecar : dict, optional
        Written as JSON to :func:`~necomimi.data.things_meg.derivative_sidecar`;
        without one, an old sidecar is removed.

    Returns
    -------
    list of Path
        The files written, first file first.
    """
    path = Path(path)
    n_epochs, n_channels, n_times = epochs.shape
    epoch_bytes = n_channels * n_times * np.dtype(np.float32).itemsize
    if not epoch_bytes <= part_bytes <= _MAX_PART_BYTES:
        raise ValueError(f"{path}: part_bytes must lie between one epoch ({epoch_bytes}) and {_MAX_PART_BYTES} bytes")
    n_parts = max(1, math.ceil(n_epochs * epoch_bytes / part_bytes))
    finals = _split_fnames(path, n_parts)
    event_id = {str(code): int(code) for code in np.unique(epochs.events[:, 2])}
    side = derivative_sidecar(path)
    old_parts = derivative_parts(path)[1:] if path.exists() else []
    with staging_folder(path.parent, ".derivative-") as staging:
        staged = [staging / final.name for final in finals]
        for k, rows in enumerate(np.array_split(np.arange(n_epochs), n_parts)):
            start, stop = int(rows[0]), int(rows[-1]) + 1
            part = mne.EpochsArray(
                read_rows(epochs.data_file, start, stop).astype(np.float64), epochs.info,
                events=epochs.events[start:stop], tmin=epochs.tmin, event_id=event_id, on_missing="ignore",
                metadata=epochs.metadata.iloc[start:stop].reset_index(drop=True), selection=np.arange(start, stop),
                drop_log=tuple(() if start <= i < stop else ("IGNORED",) for i in range(n_epochs)),
                raw_sfreq=epochs.raw_sfreq, baseline=None, verbose="error",
            )  # fmt: skip
            _save_split(part, staged, k, n_parts, "single", True)
            del part
        if sidecar is not None:
            (staging / side.name).write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
        for source, final in list(zip(staged, finals, strict=True))[1:]:
            os.replace(source, final)
        if sidecar is not None:
            os.replace(staging / side.name, side)
        else:
            side.unlink(missing_ok=True)
        os.replace(staged[0], path)
        for stale in old_parts[n_parts - 1 :]:
            stale.unlink(missing_ok=True)
    return finals


def derivative_from_raw(
    bids_root: str | Path,
    participant: int,
    path: str | Path,
    *,
    l_freq: float = 0.1,
    h_freq: float = 40.0,
    tmin: float = DERIVATIVE_TMIN,
    tmax: float = DERIVATIVE_TMAX,
    sfreq: float = DERIVATIVE_SFREQ,
    expected_sensors: list[str] | None = None,
    part_bytes: int = DERIVATIVE_PART_BYTES,
) -> list[Path]:
    """Make a participant's derivative from the raw runs and save it (entry point B).

    Parameters
    ----------
    bids_root : str or Path
        The BIDS dataset (ds004212 or the synthetic one).
    participant : int
        Participant number n of ``sub-BIGMEG{n}``.
    path : str or Path
        The derivative's first file, ``...-epo.fif``: e.g.
        :func:`~necomimi.data.things_meg.derivative_file` of the dataset, where the real
        ds004212 keeps the dataset authors' derivative (which it then replaces).
    l_freq, h_freq : float
        Band-pass edges, Hz (0.1, 40).
    tmin, tmax : float
        Epoch window, seconds (-0.1, 1.3).
    sfreq : float
        Output rate, Hz (200); the raw rate must be a multiple of it.
    expected_sensors : list of str, optional
        Sensor names every run must have (before the dead one is dropped); by
        default the first run's.
    part_bytes : int
        Epoch data per split file, bytes (:data:`DERIVATIVE_PART_BYTES`).

    Returns
    -------
    list of Path
        The derivative's files, first file first. Beside them,
        :func:`~necomimi.data.things_meg.derivative_sidecar` records the raw files and
        their sizes, these parameters and the package versions; entry point A copies
        it into its ``info.json``.

        The epochs hold all trials of all sessions in acquisition order, events
        ``[sample, 0, image number or 999999]`` (samples offset run by run so they
        increase), metadata of :mod:`necomimi.data.things_meg`'s ``METADATA_*``
        columns plus ``onset`` and ``sample``.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the run's file, for any check of :func:`find_runs`,
        :func:`read_events_table`, :func:`set_channel_types`, :func:`run_events`, or
        runs that disagree in sensors or sampling rate. Nothing is written then.
    """
    path = Path(path)
    params = EpochParameters(l_freq=l_freq, h_freq=h_freq, tmin=tmin, tmax=tmax, sfreq=sfreq)
    with staging_folder(path.parent, ".derivative-epochs-") as staging:
        staged, runs = stage_epochs(bids_root, participant, staging / "epochs.npy", params=params,
                                    expected_sensors=expected_sensors)  # fmt: skip
        sidecar = {
            "entry_point": "raw",
            "bids_root": str(bids_root),
            "participant": participant,
            "parameters": {**dataclasses.asdict(params), "baseline": [None, 0], "baseline_mode": "zscore",
                           "dead_channel": DEAD_CHANNEL, "trigger": [TRIGGER_CHANNEL, TRIGGER_VALUE],
                           "part_bytes": part_bytes},  # fmt: skip
            "n_epochs": len(staged.events),
            "ch_names": list(staged.info.ch_names),
            "runs": runs,
            **software_versions(_SIDECAR_PACKAGES),
        }
        return write_derivative(staged, path, part_bytes=part_bytes, sidecar=sidecar)
