"""Perturbation, per-run retrieval rows and the study's tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necomimi.data.things_eeg2 import CHANNEL_NAMES, VISUAL_CORTEX_CHANNELS
from necomimi.evaluation.perturbation import perturb_channels
from necomimi.evaluation.tables import tabulate_retrieval


def test_perturbation_replaces_only_the_listed_channels_with_matched_noise():
    rng = np.random.default_rng(0)
    eeg = (rng.standard_normal((5, 63, 2000)) * 3 + 7).astype(np.float32)
    out = perturb_channels(eeg, list(VISUAL_CORTEX_CHANNELS), np.random.default_rng(1))
    index = [CHANNEL_NAMES.index(n) for n in VISUAL_CORTEX_CHANNELS]
    others = [i for i in range(63) if i not in index]
    np.testing.assert_array_equal(out[:, others], eeg[:, others])
    assert not np.allclose(out[:, index], eeg[:, index])
    np.testing.assert_allclose(out[:, index].mean(-1), eeg[:, index].mean(-1), atol=0.3)
    np.testing.assert_allclose(out[:, index].std(-1), eeg[:, index].std(-1, ddof=1), rtol=0.1)
    # Seeded: the same generator state gives the same noise.
    again = perturb_channels(eeg, list(VISUAL_CORTEX_CHANNELS), np.random.default_rng(1))
    np.testing.assert_array_equal(out, again)
    with pytest.raises(ValueError, match=r"unknown channel\(s\) \['OZ'\]"):
        perturb_channels(eeg, ["OZ"], rng)


def test_tables_are_written_and_test_selection_is_labelled(tmp_path):
    files, histories, labels = [], [], []
    for encoder in ("nerv", "atms"):
        for subject in ("01", "02"):
            rows = [{"protocol": "intra", "encoder": encoder, "subject": subject, "seed": 0,
                     "condition": condition, "selection": "test", "k": k, "top": top,
                     "accuracy": 0.5 if condition == "original" else 0.1, "mc_accuracy": 0.5,
                     "mc_stderr": 0.01}
                    for condition in ("original", "perturbed_visual")
                    for k, top in ((2, 1), (4, 1), (20, 1), (20, 5))]  # fmt: skip
            path = tmp_path / f"{encoder}-{subject}.csv"
            pd.DataFrame(rows).to_csv(path, index=False)
            files.append(path)
            history = tmp_path / f"{encoder}-{subject}-history.csv"
            history.write_text("epoch,train_loss,selection_set,selection_top1,logit_scale,best\n1,1.0,test,0.2,2.6,1\n2,0.9,test,0.3,2.6,1\n")
            histories.append(history)
            labels.append({"protocol": "intra", "encoder": encoder, "subject": subject, "seed": 0})
    out = {name: tmp_path / name for name in ("retrieval.csv", "t1.md", "t2.md", "fig.png")}
    tabulate_retrieval(retrieval_files=files, history_files=histories, history_labels=labels,
                       out_csv=out["retrieval.csv"], table1=out["t1.md"], table2=out["t2.md"],
                       figure=out["fig.png"])  # fmt: skip
    table = pd.read_csv(out["retrieval.csv"], dtype={"subject": str})
    assert len(table) == 32 and set(table["selection"]) == {"test"}
    first = out["t1.md"].read_text()
    assert "| nerv | 2-way | 50.0 | 50.0 | 50.0 ± 0.0 |" in first
    assert "TEST set" in first and "perturbed_visual" in first
    second = out["t2.md"].read_text()
    assert "20-way top-5" in second
    assert out["fig.png"].read_bytes()[:4] == b"\x89PNG"
