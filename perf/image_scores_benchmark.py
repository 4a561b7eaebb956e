"""Benchmark: pixel metrics of a run's image groups, per pair vs a prepared reference.

A run of the real study scores 6 groups of 200 generated images (2 conditions x 3
modes) against the same 200 ground-truth test images. The reference's
``calculate_metrics.py`` reads and resizes both images of every pair (SPEC.md 7.2);
``necomimi.metrics.PixelReference`` reads and resizes each ground-truth image once and
scores every group against it, with the same numbers.

Both sides run in one invocation, each in a fresh process on the same files (real
THINGS-EEG2 sizes: 500 x 500 JPEG test images, 512 x 512 PNG generated images);
recorded are the wall time and the peak resident memory, and that both give the same
SSIM and PixCorr. Results go to ``perf/results/image_scores.{csv,md}``.

Usage::

    python perf/image_scores_benchmark.py --images 200 --groups 6
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "perf" / "results"


def _write_images(root: Path, n_images: int, n_groups: int) -> None:
    """Smooth random colour images: ground truth 500 px JPEG, generated 512 px PNG."""
    from PIL import Image
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    for folder, size, count, suffix in (("truth", 500, n_images, "jpg"),
                                        *[(f"group{g}", 512, n_images, "png") for g in range(n_groups)]):  # fmt: skip
        (root / folder).mkdir(parents=True)
        for index in range(count):
            noise = gaussian_filter(rng.random((size, size, 3)), sigma=(12, 12, 0))
            pixels = np.clip((noise - noise.min()) / np.ptp(noise) * 255, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / folder / f"{index:03d}.{suffix}")


def _child(side: str, root: Path, n_groups: int) -> None:
    """Score every group on one side; print time, peak memory and the group means."""
    import necomimi  # noqa: F401
    from necomimi.metrics import PixelReference, pixcorr, ssim

    truth = sorted((root / "truth").glob("*.jpg"))
    groups = [sorted((root / f"group{g}").glob("*.png")) for g in range(n_groups)]
    start = time.perf_counter()
    means = []
    if side == "per_pair":
        for generated in groups:
            means.append([float(np.mean([ssim(g, t) for g, t in zip(generated, truth, strict=True)])),
                          float(np.mean([pixcorr(g, t) for g, t in zip(generated, truth, strict=True)]))])  # fmt: skip
    else:
        reference = PixelReference(truth)
        for generated in groups:
            means.append([float(np.mean(reference.ssim(generated))), float(np.mean(reference.pixcorr(generated)))])
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"side": side, "seconds": seconds, "peak_mb": peak_mb, "means": means}))


def main() -> None:
    """Time both sides on the same images, check they agree, record the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200, help="test images (200 on THINGS-EEG2)")
    parser.add_argument("--groups", type=int, default=6, help="groups per run (2 conditions x 3 modes)")
    parser.add_argument("--child", choices=["per_pair", "prepared"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.root, args.groups)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write_images(root, args.images, args.groups)
        rows = []
        for side in ("per_pair", "prepared"):
            command = [sys.executable, __file__, "--child", side, "--root", str(root), "--groups", str(args.groups)]
            rows.append(json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout))
    per_pair, prepared = rows
    same = np.allclose(per_pair["means"], prepared["means"], rtol=0, atol=1e-9)
    table = pd.DataFrame([{"side": r["side"], "seconds": round(r["seconds"], 2), "peak_mb": round(r["peak_mb"])}
                          for r in rows])  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS / "image_scores.csv", index=False)
    text = [
        "# Pixel metrics of one run: per pair vs prepared ground truth\n",
        f"{args.groups} groups of {args.images} generated images (512 px PNG) against {args.images} ground-truth "
        "images (500 px JPEG), SSIM (the reference's protocol) and PixCorr, one process per side, "
        f"`python perf/image_scores_benchmark.py --images {args.images} --groups {args.groups}`.\n",
        "| side | seconds | peak resident memory (MB) |",
        "|---|---|---|",
        *[f"| {r.side} | {r.seconds:.2f} | {r.peak_mb} |" for r in table.itertuples()],
        "",
        f"Time ratio per pair / prepared: {per_pair['seconds'] / prepared['seconds']:.2f}x; memory ratio "
        f"{per_pair['peak_mb'] / prepared['peak_mb']:.2f}x. Same group means on both sides: {same}.",
    ]
    (RESULTS / "image_scores.md").write_text("\n".join(text) + "\n")
    print("\n".join(text))


if __name__ == "__main__":
    main()
