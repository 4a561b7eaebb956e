"""Benchmark: peak memory of the THINGS-MEG entry points A and B (and ATM's preload=True read).

**Entry point A** (derivative -> arrays). Writes synthetic derivatives with the real
design (MEG.md 1.1: 1,854 concepts x 12 exp images, 200 test images x 12 sessions,
200 catch trials per session, 271 sensors x 281 samples at 200 Hz, float32 split parts
of at most 2 GB like the dataset authors' ``preprocessed_P{n}-epo.fif``), then runs,
each in a fresh process:

* **ours**: :func:`necomimi.preprocessing.meg_derivative.preprocess_meg_derivative`
  (``preload=False``, chunks of 256 MiB, float32 ``.npy`` outputs, SHA-256 of the
  sources);
* **atm**: ``tests/reference_meg_preprocessing.atm_reference``, ATM's notebook
  steps 1-10 (``mne.read_epochs(preload=True)``, crop, sort, select, ``get_data``),
  without the pickling.

Both run on fractions of a participant (fewer concepts and test images, same
sessions); ours also on the full participant (27,048 epochs, 8.2 GB on disk). ATM's
read of a full participant needs more memory than this machine has (15.35 GiB for
the float64 epochs alone), so its full-size peak is extrapolated linearly from the
fractions, and says so.

**Entry point B** (raw runs -> derivative). A real participant has 120 raw runs
(about 250 GB), more than this machine's disk, so B is measured in two parts, each in
a fresh process:

* **runs**: :func:`necomimi.preprocessing.meg_raw.derivative_from_raw` on a synthetic
  participant of 1, 2, 4, ... full-size runs (272 CTF-named sensors with the dead
  ``MRO11-1609``, 28 reference and 10 misc channels incl. ``UPPT001``, 1200 Hz,
  348 s, about 226 trials each, float32 FIF like the 0.5 GB CTF runs), the whole entry
  point: read, filter, epoch, z-score, decimate, stage, write;
* **write**: :func:`necomimi.preprocessing.meg_raw.write_derivative` alone on the staged
  epochs of a full participant (27,048 x 271 x 281 float32, 7.7 GiB, written by this
  script), the one step whose input grows with the participant.

B's full-participant peak is then the larger of the two (the per-run peak does not
grow with the number of runs if B holds one run at a time, which the 1, 2, 4 runs
show); its time is extrapolated from the per-run time, and says so.

The peak is the process's maximum resident set size (``VmHWM``). Results go to
``perf/results/meg_preprocessing.csv`` (A), ``meg_preprocessing_raw.csv`` (B) and
``meg_preprocessing.md``.

Usage (from the repository root; A's full size needs about 20 GB free in the work
folder, B's write step about 17 GB)::

    python perf/meg_preprocessing_memory.py --work-dir /tmp/meg-bench

The work folder is deleted afterwards unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "perf" / "results"
A_CSV, B_CSV = RESULTS / "meg_preprocessing.csv", RESULTS / "meg_preprocessing_raw.csv"
N_CHANNELS = 271
SFREQ = 200.0
TMIN, TMAX = -0.1, 1.3
N_TIMES = 281
REAL_EPOCHS = 27048
_SPACING = 300  # samples between epochs of the stand-in continuous recording
_BASE_EPOCHS = 300  # distinct epochs of noise, repeated to fill the derivative
RAW_SFREQ = 1200.0
RUN_SECONDS = 348.0
N_REFERENCE, N_MISC = 28, 10  # MEG.md 1.2; UPPT001 is one of the misc channels


def _sensor_names(n: int, *, dead: bool) -> list[str]:
    """``n`` CTF-style sensor names; with ``dead``, ``MRO11-1609`` is one of them."""
    from necomimi.data.things_meg import DEAD_CHANNEL

    names = [f"M{side}{region}{k:02d}-1609" for k in range(11, 100) for side in "LRZ" for region in "CFOPT"]
    names = [name for name in names if name != DEAD_CHANNEL][: n - dead]
    return sorted([*names, DEAD_CHANNEL] if dead else names)


def _spec(fraction: float):
    from necomimi.data.synthetic.meg_spec import SyntheticMegSpec

    return SyntheticMegSpec(
        n_concepts=max(2, round(1854 * fraction)),
        exp_images_per_concept=12,
        n_test_concepts=max(1, round(200 * fraction)),
        unused_images_per_concept=1,
        n_sessions=12,
        runs_per_session=10,
        catch_per_run=max(1, round(20 * fraction)),
    )


def write_synthetic_derivative(root: Path, fraction: float) -> tuple[Path, Path, Path]:
    """Write a derivative at ``fraction`` of a participant and its THINGS tables.

    The design (events and metadata) is the synthetic THINGS-MEG's at that size; the
    data are standard-normal noise (the derivative is z-scored), streamed to disk
    through a lazily read stand-in recording so that writing needs no more memory
    than one split part.

    Returns
    -------
    (derivative, image_paths, image_concept_index)
    """
    import mne

    from necomimi.data.synthetic.meg_design import make_images, session_runs
    from necomimi.data.things_meg import (
        CATCH_EVENT,
        IMAGE_CONCEPT_INDEX_FILE,
        IMAGE_PATHS_FILE,
    )

    spec = _spec(fraction)
    root.mkdir(parents=True, exist_ok=True)
    derivative = root / "preprocessed_P1-epo.fif"
    image_paths, concept_index = root / IMAGE_PATHS_FILE.name, root / IMAGE_CONCEPT_INDEX_FILE.name
    images = make_images(spec)
    image_paths.write_text("".join(f"{i.things_path}\n" for i in images))
    concept_index.write_text("".join(f"{i.concept_nr}\n" for i in images))
    if derivative.is_file():
        return derivative, image_paths, concept_index

    rows = []
    for session, runs in enumerate(session_runs(spec, images, 1), start=1):
        for run, trials in enumerate(runs, start=1):
            for trial in trials:
                rows.append({
                    "trial_type": trial.trial_type,
                    "things_image_nr": float(trial.image.number) if trial.image else np.nan,
                    "things_category_nr": float(trial.image.concept_nr) if trial.image else np.nan,
                    "session_nr": session,
                    "run_nr": run,
                })  # fmt: skip
    metadata = pd.DataFrame(rows)
    codes = metadata["things_image_nr"].fillna(CATCH_EVENT).to_numpy(np.int64)
    n = len(codes)
    events = np.column_stack([_SPACING * np.arange(n) + 100, np.zeros(n, np.int64), codes])

    info = mne.create_info(_sensor_names(N_CHANNELS, dead=False), SFREQ, "mag")
    rng = np.random.default_rng(0)
    base = mne.io.RawArray(rng.standard_normal((N_CHANNELS, _BASE_EPOCHS * _SPACING)), info, verbose="error")
    base_file = root / "stand_in_raw.fif"
    base.save(base_file, fmt="single", overwrite=True, verbose="error")
    del base
    copies = int(np.ceil((events[-1, 0] + _SPACING) / (_BASE_EPOCHS * _SPACING)))
    raw = mne.concatenate_raws([mne.io.read_raw_fif(base_file, verbose="error") for _ in range(copies)],
                               verbose="error")  # fmt: skip
    epochs = mne.Epochs(raw, events, event_id={str(c): int(c) for c in np.unique(codes)}, tmin=TMIN, tmax=TMAX,
                        baseline=None, preload=False, metadata=metadata, reject_by_annotation=False,
                        verbose="error")  # fmt: skip
    if len(epochs.drop_bad(verbose="error")) != n:
        raise RuntimeError(f"{derivative}: {n - len(epochs)} epochs of the stand-in recording were dropped")
    epochs.save(derivative, split_size="2GB", fmt="single", overwrite=True, verbose="error")
    base_file.unlink()
    return derivative, image_paths, concept_index


def write_raw_participant(bids_root: Path, n_runs: int) -> float:
    """Write ``n_runs`` full-size raw runs of sub-BIGMEG1 (one run per session), BIDS-named.

    Each run: 272 sensors, 28 reference and 10 misc channels (``UPPT001`` among them),
    1200 Hz, 348 s of noise; a trial every 1.5 s from 3 s on (exp, test and catch
    like the real runs' 186/20/20), trigger pulses of 64 15 samples before the
    ``events.tsv`` onsets and one of 32 at the end. Returns the GB written.
    """
    import mne

    from necomimi.data.things_meg import EVENTS_COLUMNS, TRIGGER_CHANNEL, TRIGGER_VALUE

    names = (_sensor_names(272, dead=True) + [f"BR{k}-1609" for k in range(N_REFERENCE)]
             + [f"UADC{k:03d}-2104" for k in range(N_MISC - 1)] + [TRIGGER_CHANNEL])  # fmt: skip
    types = ["mag"] * 272 + ["ref_meg"] * N_REFERENCE + ["misc"] * (N_MISC - 1) + ["stim"]
    info = mne.create_info(names, RAW_SFREQ, types)
    n_samples = int(RUN_SECONDS * RAW_SFREQ)
    rng = np.random.default_rng(1)
    onsets = np.arange(int(3.0 * RAW_SFREQ), n_samples - int(3.0 * RAW_SFREQ), int(1.5 * RAW_SFREQ))
    written = 0
    for run in range(1, n_runs + 1):
        kinds = np.array(["exp"] * len(onsets), dtype=object)
        special = rng.choice(len(onsets), 40, replace=False)
        kinds[special[:20]], kinds[special[20:]] = "test", "catch"
        values = np.where(kinds == "exp", 1000 * run + np.arange(len(onsets)), 0).astype(float)
        values[kinds == "test"] = np.arange(1, 21) * 7 + 90000
        values[kinds == "catch"] = np.nan
        data = rng.standard_normal((len(names), n_samples)) * 1e-13
        data[-1] = 0
        for onset in onsets:
            data[-1, onset - 15 : onset - 3] = TRIGGER_VALUE
        data[-1, n_samples - 1200 : n_samples - 1188] = 32
        meg = bids_root / "sub-BIGMEG1" / f"ses-{run:02d}" / "meg"
        meg.mkdir(parents=True, exist_ok=True)
        stem = f"sub-BIGMEG1_ses-{run:02d}_task-main_run-01"
        raw = mne.io.RawArray(data, info, verbose="error")
        del data
        raw.save(meg / f"{stem}_meg.fif", fmt="single", overwrite=True, verbose="error")
        del raw
        pd.DataFrame(
            {"onset": onsets / RAW_SFREQ, "duration": 0.5, "trial_type": kinds, "things_category_nr": values // 14,
             "value": values, "sample": onsets},
            columns=list(EVENTS_COLUMNS),
        ).to_csv(meg / f"{stem}_events.tsv", sep="\t", index=False, na_rep="n/a")  # fmt: skip
        written += (meg / f"{stem}_meg.fif").stat().st_size
    return round(written / 1e9, 2)


def write_staged_epochs(path: Path, n_epochs: int) -> None:
    """Write ``n_epochs`` x 271 x 281 float32 noise as the ``.npy`` entry point B stages."""
    from necomimi.utils.npy import NpyWriter

    rng = np.random.default_rng(2)
    block = rng.standard_normal((500, N_CHANNELS, N_TIMES)).astype(np.float32)
    with NpyWriter(path, (n_epochs, N_CHANNELS, N_TIMES), np.float32) as writer:
        for start in range(0, n_epochs, len(block)):
            writer.write(block[: min(len(block), n_epochs - start)])


def _staged(data_file: Path, n_epochs: int):
    """The StagedEpochs of :func:`write_staged_epochs`' file, with metadata of B's columns."""
    import mne

    from necomimi.preprocessing.meg_raw import StagedEpochs

    info = mne.create_info(_sensor_names(N_CHANNELS, dead=False), SFREQ, "mag")
    codes = np.arange(1, n_epochs + 1)
    events = np.column_stack([2000 * codes, np.zeros(n_epochs, np.int64), codes])
    metadata = pd.DataFrame({"trial_type": "exp", "things_image_nr": codes.astype(float),
                             "things_category_nr": (codes // 12).astype(float), "session_nr": 1 + codes % 12,
                             "run_nr": 1 + codes % 10, "onset": codes * 1.5, "sample": codes * 1800})  # fmt: skip
    return StagedEpochs(data_file, (n_epochs, N_CHANNELS, N_TIMES), info, TMIN, RAW_SFREQ, events, metadata)


def _run_child(side: str, paths: list[Path]) -> None:
    """Child process: run one side, print time and peak memory as JSON."""
    sys.path.insert(0, str(REPO))
    start = time.perf_counter()
    if side == "ours":
        from necomimi.preprocessing.meg_derivative import preprocess_meg_derivative

        derivative, image_paths, concept_index, out_dir = paths
        split = preprocess_meg_derivative(derivative, out_dir, image_paths=image_paths,
                                          image_concept_index=concept_index,
                                          cache_dir=out_dir.parent / "sha256")  # fmt: skip
        n = split.counts["n_trials"]
    elif side == "atm":
        from tests.reference_meg_preprocessing import atm_reference

        derivative, _, concept_index, _ = paths
        result = atm_reference(derivative, concept_index, 12)
        n = int(result["train"].shape[0] * result["train"].shape[1])
    elif side == "b-runs":
        from necomimi.preprocessing.meg_raw import derivative_from_raw

        bids_root, out = paths
        n = len(derivative_from_raw(bids_root, 1, out / "preprocessed_P1-epo.fif"))
    else:  # b-write
        from necomimi.preprocessing.meg_raw import write_derivative

        data_file, out = paths
        n_epochs = int(np.load(data_file, mmap_mode="r").shape[0])
        staged = _staged(data_file, n_epochs)
        n = len(write_derivative(staged, out / "preprocessed_P1-epo.fif"))
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": round(seconds, 1), "peak_rss_mb": round(_peak_rss_mb()), "n": n}))


def _peak_rss_mb() -> float:
    """Return the peak resident set size of this process, MB (``VmHWM``).

    Not ``ru_maxrss``: Linux carries a parent's peak over ``fork`` and ``exec`` into
    the child's, and the parent here has written multi-GB files.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(side: str, *paths: Path) -> dict:
    command = [sys.executable, __file__, "--child", side, *map(str, paths)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return {"seconds": np.nan, "peak_rss_mb": np.nan, "n": None, "error": result.stderr.strip().splitlines()[-1:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _gb(paths) -> float:
    return round(sum(p.stat().st_size for p in paths) / 1e9, 2)


def measure_a(work_dir: Path, fractions: list[float], full_size: bool, keep: bool) -> pd.DataFrame:
    """Entry point A and ATM on each fraction; A alone on the full participant."""
    rows = []
    sizes = [(f, work_dir / f"fraction-{f:g}") for f in fractions] + ([(1.0, work_dir / "full")] if full_size else [])
    for fraction, root in sizes:
        start = time.perf_counter()
        files = write_synthetic_derivative(root, fraction)
        parts = sorted(root.glob("preprocessed_P1-epo*.fif"))
        print(f"A, fraction {fraction:g}: derivative written in {time.perf_counter() - start:.0f} s, "
              f"{_gb(parts):.2f} GB in {len(parts)} parts", flush=True)  # fmt: skip
        for side in ["ours"] if fraction == 1.0 else ["ours", "atm"]:
            rows.append(_row({"fraction_of_participant": fraction, "side": side}, parts, side, *files,
                             root / f"out-{side}"))  # fmt: skip
            shutil.rmtree(root / f"out-{side}", ignore_errors=True)
        if not keep:
            shutil.rmtree(root)
    return pd.DataFrame(rows)


def _row(fields: dict, parts: list[Path] | None, side: str, *paths: Path) -> dict:
    """Measure ``side`` in a child process; its row: ``fields``, the derivative's size, time, peak.

    ``parts``: the derivative's files, or None for those the child writes into ``paths[-1]``.
    """
    measured = _measure(side, *paths)
    parts = sorted(paths[-1].glob("preprocessed_P1-epo*.fif")) if parts is None else parts
    row = {**fields, "derivative_gb": _gb(parts), "derivative_parts": len(parts),
           **{k: v for k, v in measured.items() if k != "n"}}  # fmt: skip
    print(row, flush=True)
    return row


def measure_b(work_dir: Path, run_counts: list[int], full_write: bool, keep: bool) -> pd.DataFrame:
    """Entry point B on 1, 2, 4, ... full-size runs, and its write step at full size."""
    rows = []
    for n_runs in run_counts:
        root = work_dir / f"raw-{n_runs}"
        start = time.perf_counter()
        raw_gb = write_raw_participant(root / "bids", n_runs)
        print(f"B, {n_runs} full-size run(s): {raw_gb:.2f} GB written in {time.perf_counter() - start:.0f} s",
              flush=True)  # fmt: skip
        fields = {"step": "runs", "n_runs": n_runs, "raw_gb": raw_gb, "n_epochs": _epochs_of(root / "bids")}
        rows.append(_row(fields, None, "b-runs", root / "bids", root / "out"))
        if not keep:
            shutil.rmtree(root)
    if full_write:
        root = work_dir / "raw-write"
        root.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        write_staged_epochs(root / "epochs.npy", REAL_EPOCHS)
        print(f"B, staged epochs of a full participant written in {time.perf_counter() - start:.0f} s", flush=True)
        fields = {"step": "write", "n_runs": 120, "raw_gb": np.nan, "n_epochs": REAL_EPOCHS}
        rows.append(_row(fields, None, "b-write", root / "epochs.npy", root / "out"))
        if not keep:
            shutil.rmtree(root)
    return pd.DataFrame(rows)


def _epochs_of(bids_root: Path) -> int:
    return sum(len(pd.read_csv(p, sep="\t")) for p in bids_root.rglob("*_events.tsv"))


def main() -> None:
    """Write the inputs, run the sides, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/necomimi-meg-bench"))
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.0625, 0.125, 0.25])
    parser.add_argument("--no-full-size", action="store_true", help="skip A's full participant")
    parser.add_argument("--b-runs", type=int, nargs="+", default=[1, 2, 4], help="full-size runs for B")
    parser.add_argument("--no-b-write", action="store_true", help="skip B's write step at full size")
    parser.add_argument("--only", choices=["a", "b"], help="measure one entry point, keep the other's results")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the .md from perf/results/meg_preprocessing*.csv")  # fmt: skip
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        side, *paths = args.child
        _run_child(side, list(map(Path, paths)))
        return
    if not args.report_only:
        sys.path.insert(0, str(REPO))
        args.work_dir.mkdir(parents=True, exist_ok=True)
        print(f"{shutil.disk_usage(args.work_dir).free / 1e9:.0f} GB free for {args.work_dir}", flush=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        try:
            if args.only in (None, "a"):
                measure_a(args.work_dir, args.fractions, not args.no_full_size, args.keep).to_csv(A_CSV, index=False)
            if args.only in (None, "b"):
                measure_b(args.work_dir, args.b_runs, not args.no_b_write, args.keep).to_csv(B_CSV, index=False)
        finally:
            if not args.keep:
                shutil.rmtree(args.work_dir, ignore_errors=True)
    write_report(pd.read_csv(A_CSV), pd.read_csv(B_CSV) if B_CSV.is_file() else None)


def _machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores, {memory:.0f} GiB"


def _outcome(rows: pd.DataFrame) -> str:
    """"x GB in n parts, t s at a p GiB peak" of a one-row result."""
    row = rows.iloc[0]
    return (f"{row['derivative_gb']:.2f} GB in {int(row['derivative_parts'])} parts, {row['seconds']:.0f} s at a "
            f"{row['peak_rss_mb'] / 1024:.2f} GiB peak")  # fmt: skip


def _report_a(table: pd.DataFrame) -> str:
    wide = table.pivot(index="fraction_of_participant", columns="side", values=["seconds", "peak_rss_mb"])
    wide.columns = [f"{metric} ({side})" for metric, side in wide.columns]
    firsts = table.groupby("fraction_of_participant")[["derivative_gb", "derivative_parts"]].first()
    wide.insert(0, "derivative_parts", firsts["derivative_parts"])
    wide.insert(0, "derivative_gb", firsts["derivative_gb"])
    atm = table[table["side"] == "atm"].dropna(subset=["peak_rss_mb"])
    slope, intercept = np.polyfit(atm["fraction_of_participant"], atm["peak_rss_mb"], 1)
    ours = table[table["side"] == "ours"].dropna(subset=["peak_rss_mb"])
    our_slope, our_intercept = np.polyfit(ours["fraction_of_participant"], ours["peak_rss_mb"], 1)
    full = ours[ours["fraction_of_participant"] == 1.0]
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    text = (
        "## Entry point A vs ATM's preload=True read\n\n"
        "Synthetic derivatives with the real design (271 channels x 281 samples, float32 split\n"
        "parts of at most 2 GB); a fraction keeps the 12 sessions and scales the concepts, test\n"
        "images and catch trials. `ours` is entry point A (`preload=False`, 256 MiB chunks,\n"
        "float32 .npy outputs, SHA-256 of the sources); `atm` is ATM's notebook steps 1-10\n"
        "(tests/reference_meg_preprocessing.py) without its float64 pickling, so ATM's real peak\n"
        "is higher still. Each derivative had just been written, so it was partly in the page\n"
        "cache: the times are optimistic about disk reads for both sides.\n\n"
        + wide.reset_index().to_markdown(index=False)
        + "\n\n"
    )
    if len(full):
        text += (
            "Ours on a full participant (27,048 epochs; the real derivative is 8.25 GB in 4 parts): "
            f"{_outcome(full)}.\n"
        )
    text += (
        f"A straight line through ours' {len(ours)} sizes gives {our_intercept:.0f} MB + {our_slope:.0f} MB x the\n"
        "fraction of a participant: what grows is what is held per trial (events, metadata, index\n"
        "tables); the epochs themselves pass through one 256 MiB chunk at a time.\n\n"
        f"ATM's read of a full participant was not run: the float64 epochs alone are 15.35 GiB, and\n"
        f"its copies exceed this machine's {memory_gib:.0f} GiB. A straight line through its {len(atm)} "
        f"fractions extrapolates its peak to about **{(slope + intercept) / 1024:.0f} GiB** "
        f"({intercept:.0f} MB + {slope:.0f} MB per participant), not measured.\n"
    )
    return text


def _report_b(table: pd.DataFrame) -> str:
    runs = table[table["step"] == "runs"].dropna(subset=["peak_rss_mb"])
    write = table[table["step"] == "write"].dropna(subset=["peak_rss_mb"])
    shown = table[["step", "n_runs", "raw_gb", "n_epochs", "derivative_gb", "derivative_parts", "seconds",
                   "peak_rss_mb"]].round({"raw_gb": 2})  # fmt: skip
    text = (
        "## Entry point B: raw runs to the derivative\n\n"
        "`runs`: `derivative_from_raw` on a synthetic participant of full-size raw runs (272\n"
        "sensors incl. the dead MRO11-1609, 28 reference and 10 misc channels incl. UPPT001,\n"
        "1200 Hz, 348 s, float32 FIF; one run per session), the whole entry point. `write`:\n"
        "`write_derivative` alone on the staged float32 epochs of a full participant (27,048 x\n"
        "271 x 281), the one step whose input grows with the participant. A real participant's\n"
        "120 raw runs (about 250 GB) do not fit this machine's disk, so B was not run on one; and\n"
        "the runs are FIF, not CTF `.ds` (MNE cannot write CTF), so reading a real run may take\n"
        "longer than here.\n\n"
        + shown.to_markdown(index=False)
        + "\n\n"
    )
    if len(runs):
        per_run = float(np.polyfit(runs["n_runs"], runs["seconds"], 1)[0]) if len(runs) > 1 else float(
            runs["seconds"].iloc[0] / runs["n_runs"].iloc[0])  # fmt: skip
        low, high = runs["peak_rss_mb"].min() / 1024, runs["peak_rss_mb"].max() / 1024
        text += (
            f"From {runs['n_runs'].min()} to {runs['n_runs'].max()} runs the peak stays between {low:.2f} and "
            f"{high:.2f} GiB: B holds one raw run at a time. A run takes about {per_run:.0f} s, so a\n"
            f"participant's 120 runs take about {120 * per_run / 3600:.1f} h (extrapolated, not measured).\n"
        )
    if len(write):
        text += f"Writing a full participant's derivative: {_outcome(write)}.\n"
    if len(runs) and len(write):
        peak = max(runs["peak_rss_mb"].max(), write["peak_rss_mb"].iloc[0]) / 1024
        text += (
            f"\nB's peak for a full participant is therefore about **{peak:.1f} GiB** (the larger of the\n"
            "two; the per-trial events and metadata add a few MB), extrapolated from these two\n"
            "measurements, not measured on a real participant. Before this change B held every run's\n"
            "float64 epochs plus a concatenated copy (2 x 15.35 GiB) and more while saving; the review\n"
            "estimated about 46 GiB for a real participant (not measured).\n"
        )
    return text


def write_report(a: pd.DataFrame, b: pd.DataFrame | None) -> None:
    """Write ``perf/results/meg_preprocessing.md`` from the measured rows."""
    text = (
        "# THINGS-MEG preprocessing: peak memory\n\n"
        f"Machine: {_machine()}. Made by `perf/meg_preprocessing_memory.py`; each run is a fresh\n"
        "process, and its peak memory is the maximum resident set size (VmHWM).\n\n" + _report_a(a)
    )
    if b is not None:
        text += "\n" + _report_b(b)
    (RESULTS / "meg_preprocessing.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
