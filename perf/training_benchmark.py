"""Benchmark: necomimi's training data path vs a literal reference-style loop.

Both train the same encoder (NICE, 63 x 250 -> 1024) with the same loss and optimiser
on a full-size subject's training data (16540 images x 4 repetitions, float32 on disk
as written by the preprocessing). The reference-style side does what
``Retrieval/eegdatasets_leaveone.py`` and the training loop of the NECOMIMI reference do
(SPEC.md 1.3, 4.1): load the whole array into memory as float64, convert it to one
float32 tensor of (66160, 63, 250), and serve it through a ``torch.utils.data.Dataset``
whose ``__getitem__`` returns one trial with its features, batched by a shuffling
``DataLoader`` (batch 1024, drop_last). Ours reads each batch's trials from the
memory-mapped array. Each side runs in a fresh process; recorded are the start-up
time, the training throughput over a few steps, and peak resident memory, in
``perf/results/training.csv`` and ``perf/results/training.md``.

Usage::

    python perf/training_benchmark.py --eeg-train /tmp/bench/out/ours/eeg_train.npy --steps 5
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "perf" / "results"
BATCH = 1024


def _child(side: str, eeg_train: Path, steps: int) -> None:
    sys.path.insert(0, str(REPO))
    import torch

    import necomimi  # noqa: F401
    from necomimi.models import create
    from necomimi.training.losses import ContrastiveLoss

    torch.manual_seed(0)
    start = time.perf_counter()
    shape = np.load(eeg_train, mmap_mode="r").shape
    n_images, n_reps = shape[:2]
    rng = np.random.default_rng(0)
    image = torch.from_numpy(rng.standard_normal((n_images, 1024), dtype=np.float32))
    image = torch.nn.functional.normalize(image, dim=-1)
    if side == "reference":
        data = torch.from_numpy(np.load(eeg_train).astype(np.float64)).float().view(-1, *shape[2:])

        class TrialDataset(torch.utils.data.Dataset):
            def __len__(self):
                return len(data)

            def __getitem__(self, index):
                return data[index], index // n_reps, image[index // n_reps], image[index // n_reps]

        loader = torch.utils.data.DataLoader(TrialDataset(), batch_size=BATCH, shuffle=True, drop_last=True)
        batches = iter(loader)

        def next_batch():
            eeg, _, img, txt = next(batches)
            return eeg, img, txt

    else:
        from necomimi.training.loop import _batch_eeg, _TrainingData

        source = _TrainingData(eeg=[np.load(eeg_train, mmap_mode="r")], trials=None, image=image,
                               text=image, selection_eeg=None, selection_image=None)  # fmt: skip
        order = rng.permutation(n_images * n_reps)

        def next_batch(step=[0]):  # noqa: B006 - a step counter
            trials = order[step[0] * BATCH : (step[0] + 1) * BATCH]
            step[0] += 1
            batch = np.stack([np.zeros_like(trials), trials // n_reps, trials % n_reps], axis=1)
            return _batch_eeg(source, batch), image[batch[:, 1]], image[batch[:, 1]]

    setup = time.perf_counter() - start
    epoch_batches = n_images * n_reps // BATCH
    data_seconds = []
    for _ in range(2):  # a first (cold) and a second (warm) epoch of batches, no model
        tick = time.perf_counter()
        for _ in range(epoch_batches):
            next_batch()
        data_seconds.append((time.perf_counter() - tick) / epoch_batches)
        if side == "reference":
            batches = iter(loader)
        else:
            next_batch.__defaults__[0][0] = 0
    model = create("nice")
    criterion = ContrastiveLoss("reference")
    optimiser = torch.optim.AdamW([*model.parameters(), *criterion.parameters()], lr=3e-4, weight_decay=0.01)
    start = time.perf_counter()
    for _ in range(steps):
        eeg, img, txt = next_batch()
        loss = criterion(model(eeg), img, txt)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "setup_seconds": round(setup, 1),
        "data_seconds_per_batch_epoch1": round(data_seconds[0], 3),
        "data_seconds_per_batch_epoch2": round(data_seconds[1], 3),
        "train_samples_per_second": round(steps * BATCH / elapsed, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))  # fmt: skip


def main() -> None:
    """Run both sides and record the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eeg-train", type=Path, required=True, help="a full-size eeg_train.npy")
    parser.add_argument("--steps", type=int, default=3, help="training steps timed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.eeg_train, args.steps)
        return
    rows = []
    for side in ("ours", "reference"):
        command = [sys.executable, __file__, "--child", side,
                   "--eeg-train", str(args.eeg_train), "--steps", str(args.steps)]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append({"implementation": side, **json.loads(result.stdout.strip().splitlines()[-1])})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS / "training.csv", index=False)
    ours, ref = rows
    shape = np.load(args.eeg_train, mmap_mode="r").shape
    (RESULTS / "training.md").write_text(
        "# Training data path: necomimi vs a reference-style loop\n\n"
        f"Data: {shape} float32 (a full-size subject); model NICE, batch {BATCH}, "
        f"two epochs of batches without the model, then {args.steps} training steps; CPU, "
        "each side a fresh process.\n\n"
        + table.to_markdown(index=False)
        + f"\n\nRatios (reference / ours): start-up {ref['setup_seconds'] / max(ours['setup_seconds'], 0.1):.1f}x, "
        f"peak memory {ref['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x; time per batch of data, first "
        f"epoch {ref['data_seconds_per_batch_epoch1'] / ours['data_seconds_per_batch_epoch1']:.2f}x, second "
        f"{ref['data_seconds_per_batch_epoch2'] / ours['data_seconds_per_batch_epoch2']:.2f}x; training "
        f"throughput ours / reference {ours['train_samples_per_second'] / ref['train_samples_per_second']:.2f}x "
        "(the model's compute dominates a step). Peak memory includes the model's activations "
        "for a batch of 1024 and, for ours, the pages of the memory map that were touched.\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
