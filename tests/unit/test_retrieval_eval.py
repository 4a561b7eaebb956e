"""Perturbation, per-run retrieval rows and the study's tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necomimi.conditions.perturb import perturb
from necomimi.data.things_eeg2 import CHANNEL_NAMES, VISUAL_CORTEX_CHANNELS
from necomimi.evaluation.tables import tabulate_retrieval


def test_perturbation_replaces_only_the_listed_channels_with_matched_noise():
    rng = np.random.default_rng(0)
    eeg = (rng.standard_normal((5, 63, 2000)) * 3 + 7).astype(np.float32)
    out = perturb(eeg, list(VISUAL_CORTEX_CHANNELS), np.random.default_rng(1))
    index = [CHANNEL_NAMES.index(n) for n in VISUAL_CORTEX_CHANNELS]
    others = [i for i in range(63) if i not in index]
    np.testing.assert_array_equal(out[:, others], eeg[:, others])
    assert not np.allclose(out[:, index], eeg[:, index])
    np.testing.assert_allclose(out[:, index].mean(-1), eeg[:, index].mean(-1), atol=0.3)
    np.testing.assert_allclose(out[:, index].std(-1), eeg[:, index].std(-1, ddof=1), rtol=0.1)
    # Seeded: the same generator state gives the same noise.
    again = perturb(eeg, list(VISUAL_CORTEX_CHANNELS), np.random.default_rng(1))
    np.testing.assert_array_equal(out, again)
    with pytest.raises(ValueError, match=r"unknown channel\(s\) \['OZ'\]"):
        perturb(eeg, ["OZ"], rng)


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
            history.write_text("epoch,train_loss,selection_set,selection_k,selection_top1,logit_scale,best\n"
                               "1,1.0,test,20,0.2,2.6,1\n2,0.9,test,20,0.3,2.6,1\n")
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


def test_retrieval_scores_the_test_features_against_the_test_images(tmp_path):
    import torch

    from necomimi.evaluation.retrieval import evaluate_retrieval
    from tests.conftest import unit_rows, write_targets

    rng = np.random.default_rng(0)
    train, test = unit_rows(rng, 6, 8), unit_rows(rng, 10, 8)
    write_targets(tmp_path / "targets.h5", train, test)
    torch.save({"selection": "validation"}, tmp_path / "model.pt")
    kwargs = {"model_file": tmp_path / "model.pt", "targets_file": tmp_path / "targets.h5", "condition": "original",
              "labels": {"encoder": "nice", "subject": "01"}, "monte_carlo_draws": 50, "seed": 0}  # fmt: skip
    torch.save(torch.from_numpy(test) * 3.0, tmp_path / "perfect.pt")  # scale does not matter: cosines
    evaluate_retrieval(features_file=tmp_path / "perfect.pt", out_file=tmp_path / "perfect.csv", **kwargs)
    perfect = pd.read_csv(tmp_path / "perfect.csv")
    assert (perfect["accuracy"] == 1.0).all() and set(perfect["k"]) == {2, 4, 10}
    assert set(perfect["selection"]) == {"validation"} and set(perfect["encoder"]) == {"nice"}
    torch.save(torch.from_numpy(test[::-1].copy()), tmp_path / "wrong.pt")  # every feature of another image
    evaluate_retrieval(features_file=tmp_path / "wrong.pt", out_file=tmp_path / "wrong.csv", **kwargs)
    wrong = pd.read_csv(tmp_path / "wrong.csv").set_index(["k", "top"])
    assert wrong.loc[(10, 1), "accuracy"] == 0.0
    torch.save(torch.zeros(9, 8), tmp_path / "short.pt")
    with pytest.raises(ValueError, match=r"short.pt: 9 test features for 10 test images"):
        evaluate_retrieval(features_file=tmp_path / "short.pt", out_file=tmp_path / "x.csv", **kwargs)


def test_a_run_is_evaluated_in_every_condition(tmp_path):
    import torch

    from necomimi.evaluation.retrieval import evaluate_run_retrieval
    from tests.conftest import unit_rows, write_targets

    rng = np.random.default_rng(0)
    test = unit_rows(rng, 10, 8)
    write_targets(tmp_path / "targets.h5", unit_rows(rng, 6, 8), test)
    torch.save({"selection": "validation"}, tmp_path / "model.pt")
    torch.save(torch.from_numpy(test), tmp_path / "original.pt")
    torch.save(torch.from_numpy(test[::-1].copy()), tmp_path / "perturbed.pt")
    evaluate_run_retrieval(conditions=["original", "perturbed"],
                           features_files=[tmp_path / "original.pt", tmp_path / "perturbed.pt"],
                           out_files=[tmp_path / "o.csv", tmp_path / "p.csv"], model_file=tmp_path / "model.pt",
                           targets_file=tmp_path / "targets.h5", labels={"encoder": "nice"}, monte_carlo_draws=10,
                           seed=0)  # fmt: skip
    original, perturbed = pd.read_csv(tmp_path / "o.csv"), pd.read_csv(tmp_path / "p.csv")
    assert set(original["condition"]) == {"original"} and (original["accuracy"] == 1.0).all()
    assert set(perturbed["condition"]) == {"perturbed"}
    assert perturbed.set_index(["k", "top"]).loc[(10, 1), "accuracy"] == 0
