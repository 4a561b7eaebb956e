"""The image tables: CAT score (Table 3), FID (Table 4), SSIM (Table 5), the suite."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from necomimi.image_study.tables import (
    GT_METRIC_COLUMNS,
    METRIC_COLUMNS,
    metric_info,
    paper_row_order,
    row_label,
    tabulate_images,
)
from necomimi.stats import mean_ci

ENCODERS = ("nerv", "atms")
SUBJECTS = ("01", "02")
SEEDS = (0, 1)
CONDITIONS = ("original", "perturbed_visual")
MODES = ("gt", "one_stage", "two_stage")
ALEXNET_REASON = "not computed: metrics.weights.alexnet is not set in the config"
CLIP_SPACE = "tiny demo CLIP image space, 32-d"


def _value(metric, encoder, subject, seed, condition, mode):
    """Return a distinct, reproducible value for every run, mode and metric."""
    base = {"ssim": 0.2, "fid": 200.0, "fid_clip": 0.5}[metric]
    step = {"ssim": 0.01, "fid": 10.0, "fid_clip": 0.01}[metric]
    code = (
        ENCODERS.index(encoder) * 7
        + int(subject) * 3
        + seed * 1.5
        + CONDITIONS.index(condition) * 2
        + MODES.index(mode)
    )
    return base + step * code


def _cat_score(encoder, subject, seed, condition, mode):
    return (
        40
        + ENCODERS.index(encoder) * 5
        + int(subject) * 4
        + seed * 3
        + (MODES.index(mode) * 2 - CONDITIONS.index(condition) * 6)
    )


def _metric_rows(encoder, subject, seed, fid_computed=True):
    rows = []
    for condition in CONDITIONS:
        for mode in MODES:
            run = {"protocol": "intra", "encoder": encoder, "subject": subject}
            run |= {"seed": seed, "condition": condition, "mode": mode}
            for metric, space in (("ssim", "pixels"), ("fid", "inception_pool3")):
                computed = fid_computed or metric != "fid"
                value = _value(metric, encoder, subject, seed, condition, mode)
                note = "" if computed else "not computed: pytorch-fid is not installed"
                rows.append(
                    run
                    | {"metric": metric, "space": space}
                    | {"value": value if computed else np.nan, "n_images": 20}
                    | {"computed": computed, "note": note}
                )
            value = _value("fid_clip", encoder, subject, seed, condition, mode)
            rows.append(
                run
                | {"metric": "fid_clip", "space": "clip", "value": value}
                | {"n_images": 20, "computed": True, "note": CLIP_SPACE}
            )
            rows.append(
                run
                | {"metric": "alexnet_2", "space": "alexnet", "value": np.nan}
                | {"n_images": 20, "computed": False, "note": ALEXNET_REASON}
            )
    return rows


def _cat_rows(encoder, subject, seed, judges=("clip",)):
    rows = []
    for condition in CONDITIONS:
        for mode in MODES:
            for judge in judges:
                score = _cat_score(encoder, subject, seed, condition, mode)
                chance = 17.5 + 0.5 * MODES.index(mode) if judge == "clip" else np.nan
                rows.append(
                    {"protocol": "intra", "encoder": encoder, "subject": subject}
                    | {"seed": seed, "condition": condition, "mode": mode}
                    | {"judge": judge, "score": score + (judge == "human")}
                    | {"n_points": 100, "chance": chance}
                )
    return rows


def _write_inputs(tmp_path, subjects=SUBJECTS, fid_computed=True, judges=("clip",)):
    """One metric and one CAT file per run (encoder, subject, seed), and the ceiling."""
    metric_files, cat_files = [], []
    for encoder in ENCODERS:
        for subject in subjects:
            for seed in SEEDS:
                name = f"{encoder}_sub-{subject}_seed-{seed}"
                metric_file = tmp_path / f"{name}_metrics.csv"
                rows = _metric_rows(encoder, subject, seed, fid_computed)
                pd.DataFrame(rows).to_csv(metric_file, index=False)
                cat_file = tmp_path / f"{name}_cat.csv"
                pd.DataFrame(_cat_rows(encoder, subject, seed, judges)).to_csv(
                    cat_file, index=False
                )
                metric_files.append(metric_file)
                cat_files.append(cat_file)
    ceiling = tmp_path / "ceiling.csv"
    ceiling.write_text("judge,score,n_points,chance\nclip,78,100,17.5\n")
    # Shuffled inputs: the outputs are sorted regardless.
    return metric_files[::-1], cat_files[::-1], ceiling


def _outputs(tmp_path):
    names = ("metrics.csv", "cat.csv", "t3.md", "t4.md", "t5.md", "suite.md")
    keys = ("out_metrics_csv", "out_cat_csv", "table3", "table4", "table5")
    keys += ("table_suite",)
    return {key: tmp_path / "results" / name for key, name in zip(keys, names, strict=True)}


def _run(tmp_path, **kwargs):
    metric_files, cat_files, ceiling = _write_inputs(tmp_path, **kwargs)
    out = _outputs(tmp_path)
    tabulate_images(
        metric_files=metric_files, cat_files=cat_files, ceiling_file=ceiling, **out
    )
    return out


def _section(text: str, heading: str) -> str:
    """Return the markdown from ``heading`` to the next heading of its level."""
    start = text.index(heading)
    level = heading.split(" ", 1)[0] + " "
    end = text.find("\n" + level, start + len(heading))
    return text[start:] if end < 0 else text[start:end]


def _expected_cat(encoder, condition, mode):
    per_subject = [
        np.mean([_cat_score(encoder, s, seed, condition, mode) for seed in SEEDS])
        for s in SUBJECTS
    ]
    return per_subject, mean_ci(per_subject)


def _expected_metric(metric, encoder, condition, mode):
    per_subject = [
        np.mean([_value(metric, encoder, s, seed, condition, mode) for seed in SEEDS])
        for s in SUBJECTS
    ]
    return per_subject, mean_ci(per_subject)


def test_cat_scores_csv_has_subject_columns_and_mean_ci_over_subjects(tmp_path):
    """Subjects as columns (mean over seeds), then mean and CI over subjects."""
    out = _run(tmp_path)
    cat = pd.read_csv(out["out_cat_csv"])
    assert list(cat.columns) == [
        "protocol", "encoder", "condition", "mode", "judge", "sub-01", "sub-02",
        "mean", "ci95", "n_points", "ceiling", "chance",
    ]  # fmt: skip
    assert len(cat) == len(ENCODERS) * len(CONDITIONS) * len(MODES)
    keys = list(zip(cat["encoder"], cat["condition"], cat["mode"], strict=True))
    assert keys == sorted(keys)
    row = cat[
        (cat["encoder"] == "nerv")
        & (cat["condition"] == "perturbed_visual")
        & (cat["mode"] == "two_stage")
    ].iloc[0]
    per_subject, (mean, half) = _expected_cat("nerv", "perturbed_visual", "two_stage")
    assert row["sub-01"] == pytest.approx(per_subject[0])
    assert row["sub-02"] == pytest.approx(per_subject[1])
    assert row["mean"] == pytest.approx(mean, abs=1e-6)
    assert row["ci95"] == pytest.approx(half, abs=1e-6)
    assert row["n_points"] == 100 and row["ceiling"] == 78
    assert row["chance"] == pytest.approx(18.5)


def test_table3_rows_in_paper_order_with_ceiling_and_chance(tmp_path):
    """Table 3: the paper's row order, values, and the ceiling/chance line."""
    out = _run(tmp_path)
    text = out["table3"].read_text(encoding="utf-8")
    section = _section(text, "## original, protocol intra, CLIP judge")
    labels = [line.split(" | ")[0].lstrip("| ") for line in section.splitlines()]
    labels = [label for label in labels if label.startswith(("ATM-S", "NERV"))]
    assert labels == [
        "ATM-S Pure Test Image (gt embedding)",
        "NERV Pure Test Image (gt embedding)",
        "ATM-S One-Stage",
        "ATM-S Two-Stage",
        "NERV One-Stage",
        "NERV Two-Stage",
    ]
    assert "| Model | S01 | S02 | Mean ± 95 % CI |" in section
    per_subject, (mean, half) = _expected_cat("nerv", "original", "two_stage")
    cells = " | ".join(f"{v:g}" for v in per_subject)
    assert f"| NERV Two-Stage | {cells} | {mean:.1f} ± {half:.1f} |" in section
    assert (
        "Out of 100 points per subject. Ceiling (CLIP judge on the ground-truth "
        "images): 78. Chance (images paired with the wrong concepts, range over the "
        "rows): 17.5–18.5." in section
    )
    assert text.index("## original") < text.index("## perturbed_visual")


def test_human_judge_has_no_ceiling_or_chance(tmp_path):
    """Human ratings: no ceiling and no chance level, said so."""
    out = _run(tmp_path, judges=("clip", "human"))
    cat = pd.read_csv(out["out_cat_csv"])
    human = cat[cat["judge"] == "human"]
    assert len(human) == 12 and human["ceiling"].isna().all()
    assert human["chance"].isna().all()
    text = out["table3"].read_text(encoding="utf-8")
    section = _section(text, "## original, protocol intra, human judges")
    assert "Ceiling: not measured for the human judges." in section
    assert "Chance: not defined for the human judges." in section
    assert text.index("CLIP judge\n") < text.index("human judges\n")


def test_ceiling_out_of_other_points_is_said(tmp_path):
    """A ceiling measured on another number of points is printed with its points."""
    metric_files, cat_files, ceiling = _write_inputs(tmp_path)
    ceiling.write_text("judge,score,n_points,chance\nclip,780,1000,175\n")
    out = _outputs(tmp_path)
    tabulate_images(
        metric_files=metric_files, cat_files=cat_files, ceiling_file=ceiling, **out
    )
    text = out["table3"].read_text(encoding="utf-8")
    assert (
        "Ceiling (CLIP judge on the ground-truth images): 780 out of 1000 points."
        in text
    )


def test_runs_not_computed_show_as_nc_per_subject(tmp_path):
    """A subject whose runs were not computed: n/c cell, mean over the others."""
    metric_files, cat_files, ceiling = _write_inputs(tmp_path)
    for path in metric_files:
        if "nerv_sub-02" in path.name:
            frame = pd.read_csv(path, dtype={"subject": str})
            ssim = frame["metric"] == "ssim"
            frame.loc[ssim, ["value", "computed"]] = [np.nan, False]
            frame.loc[ssim, "note"] = "not computed: image 3 unreadable"
            frame.to_csv(path, index=False)
    out = _outputs(tmp_path)
    tabulate_images(
        metric_files=metric_files, cat_files=cat_files, ceiling_file=ceiling, **out
    )
    table5 = _section(out["table5"].read_text(encoding="utf-8"), "## original")
    value = np.mean([_value("ssim", "nerv", "01", s, "original", "gt") for s in SEEDS])
    label = "NERV Pure Test Image (gt embedding)"
    assert f"| {label} | {value:.4f} | n/c | {value:.4f} ± n/a |" in table5
    assert "n/c: not computed: image 3 unreadable." in table5
    suite = out["table_suite"].read_text(encoding="utf-8")
    assert "- SSIM (`ssim`) (some runs): image 3 unreadable." in suite


def test_metrics_csv_is_tidy_and_sorted(tmp_path):
    """All metric rows, tidy and sorted by run, mode and metric."""
    out = _run(tmp_path)
    metrics = pd.read_csv(out["out_metrics_csv"], dtype={"subject": str})
    assert list(metrics.columns) == list(METRIC_COLUMNS)
    assert len(metrics) == 2 * 2 * 2 * 2 * 3 * 4
    key = ["protocol", "encoder", "subject", "seed", "condition", "mode", "metric"]
    expected = metrics.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(metrics, expected)
    assert metrics["subject"].iloc[0] == "01" and metrics["encoder"].iloc[0] == "atms"
    alexnet = metrics[metrics["metric"] == "alexnet_2"]
    assert alexnet["value"].isna().all() and not alexnet["computed"].any()


def test_table4_fid_and_fid_clip_sections(tmp_path):
    """Table 4: FID and FID-CLIP tables with the group size beside."""
    out = _run(tmp_path)
    text = out["table4"].read_text(encoding="utf-8")
    section = _section(text, "## perturbed_visual, protocol intra")
    fid = _section(section, "### FID (InceptionV3 pool3")
    header = "| Method | S01 | S02 | Mean ± 95 % CI | Images per group |"
    assert header in fid
    per_subject, (mean, half) = _expected_metric(
        "fid", "atms", "perturbed_visual", "one_stage"
    )
    cells = " | ".join(f"{v:.1f}" for v in per_subject)
    assert f"| ATM-S One-Stage | {cells} | {mean:.2f} ± {half:.2f} | 20 |" in fid
    clip = _section(section, "### FID-CLIP")
    assert "not comparable with the paper's FID" in clip
    assert f"Note: {CLIP_SPACE}." in clip and "Space: clip." in clip
    per_subject, (mean, half) = _expected_metric(
        "fid_clip", "nerv", "perturbed_visual", "gt"
    )
    cells = " | ".join(f"{v:.3f}" for v in per_subject)
    row = f"| NERV Pure Test Image (gt embedding) | {cells} | {mean:.3f} ± {half:.3f} |"
    assert row in clip


def test_table4_states_why_fid_was_not_computed(tmp_path):
    """A FID variant not computed gets its reason instead of a table."""
    out = _run(tmp_path, fid_computed=False)
    text = out["table4"].read_text(encoding="utf-8")
    fid = _section(_section(text, "## original"), "### FID (InceptionV3 pool3")
    assert "FID (InceptionV3 pool3): not computed: pytorch-fid is not installed." in fid
    assert "| Method" not in fid
    assert "| NERV Two-Stage |" in _section(text, "### FID-CLIP")


def test_table5_ssim_four_decimals(tmp_path):
    """Table 5: SSIM with four decimals, no group-size column."""
    out = _run(tmp_path)
    text = out["table5"].read_text(encoding="utf-8")
    section = _section(text, "## original, protocol intra")
    per_subject, (mean, half) = _expected_metric(
        "ssim", "nerv", "original", "one_stage"
    )
    cells = " | ".join(f"{v:.4f}" for v in per_subject)
    assert f"| NERV One-Stage | {cells} | {mean:.4f} ± {half:.4f} |" in section
    assert "Images per group" not in section


def test_suite_table_marks_metrics_not_computed_with_their_reason(tmp_path):
    """The suite: arrows, mean ± CI cells, n/c with a footnote per metric."""
    out = _run(tmp_path)
    text = out["table_suite"].read_text(encoding="utf-8")
    section = _section(text, "## original, protocol intra")
    header = "| Method | SSIM ↑ | AlexNet(2) ↑ | FID ↓ | FID-CLIP ↓ |"
    assert header in section
    _, (ssim, ssim_ci) = _expected_metric("ssim", "nerv", "original", "two_stage")
    _, (fid, fid_ci) = _expected_metric("fid", "nerv", "original", "two_stage")
    _, (clip, clip_ci) = _expected_metric("fid_clip", "nerv", "original", "two_stage")
    row = (
        f"| NERV Two-Stage | {ssim:.4f} ± {ssim_ci:.4f} | n/c | {fid:.2f} ± "
        f"{fid_ci:.2f} | {clip:.3f} ± {clip_ci:.3f} |"
    )
    assert row in section
    assert (
        "- AlexNet(2) (`alexnet_2`): metrics.weights.alexnet is not set in the config."
        in section
    )
    assert f"- FID-CLIP (`fid_clip`): clip — {CLIP_SPACE}." in section
    assert "- SSIM (`ssim`): pixels." in section


def test_a_single_subject_has_no_interval(tmp_path):
    """One subject: NaN ci95 and an 'n/a' interval."""
    out = _run(tmp_path, subjects=("01",))
    cat = pd.read_csv(out["out_cat_csv"])
    assert "sub-02" not in cat.columns and cat["ci95"].isna().all()
    text = out["table5"].read_text(encoding="utf-8")
    value = np.mean([_value("ssim", "nerv", "01", s, "original", "gt") for s in SEEDS])
    row = f"| NERV Pure Test Image (gt embedding) | {value:.4f} | {value:.4f} ± n/a |"
    assert row in text


def test_input_errors_name_the_problem(tmp_path):
    """Empty lists, missing columns and duplicates raise, writing nothing."""
    metric_files, cat_files, ceiling = _write_inputs(tmp_path)
    out = _outputs(tmp_path)
    args = {"metric_files": metric_files, "cat_files": cat_files}
    args |= {"ceiling_file": ceiling, **out}
    with pytest.raises(ValueError, match="no image metric files given"):
        tabulate_images(**(args | {"metric_files": []}))
    with pytest.raises(ValueError, match="no CAT score files given"):
        tabulate_images(**(args | {"cat_files": []}))
    broken = tmp_path / "broken.csv"
    pd.read_csv(metric_files[0]).drop(columns=["n_images", "note"]).to_csv(
        broken, index=False
    )
    with pytest.raises(
        ValueError, match=r"broken\.csv: missing column\(s\) n_images, note"
    ):
        tabulate_images(**(args | {"metric_files": [broken]}))
    with pytest.raises(
        ValueError, match=r"duplicate image metric rows for protocol=intra"
    ):
        tabulate_images(**(args | {"metric_files": [*metric_files, metric_files[0]]}))
    with pytest.raises(ValueError, match=r"duplicate CAT score rows .*judge=clip"):
        tabulate_images(**(args | {"cat_files": [cat_files[0], cat_files[0]]}))
    cat = pd.read_csv(cat_files[0]).drop(columns=["chance"])
    cat.to_csv(broken, index=False)
    with pytest.raises(ValueError, match=r"broken\.csv: missing column\(s\) chance"):
        tabulate_images(**(args | {"cat_files": [broken]}))
    ceiling.write_text(
        "judge,score,n_points,chance\nclip,78,100,17.5\nclip,70,100,17\n"
    )
    with pytest.raises(ValueError, match="duplicate CAT ceiling rows for judge=clip"):
        tabulate_images(**args)
    assert not any(path.exists() for path in out.values())


def test_unknown_metrics_and_encoders_are_kept_generically():
    """Unknown metrics, encoders and modes get generic labels and an order."""
    assert metric_info("dino_2way").higher_is_better is True
    assert metric_info("fid_dino").higher_is_better is False
    assert metric_info("lpips_distance").arrow == " ↓"
    assert metric_info("mystery").arrow == ""
    assert row_label("eegnet", "two_stage") == "eegnet Two-Stage"
    order = paper_row_order(
        [("nerv", "two_stage"), ("eegnet", "one_stage"), ("nerv", "gt"),
         ("nice", "one_stage"), ("nerv", "one_stage")]
    )  # fmt: skip
    assert order == [
        ("nerv", "gt"), ("nice", "one_stage"), ("nerv", "one_stage"),
        ("nerv", "two_stage"), ("eegnet", "one_stage"),
    ]  # fmt: skip


def test_gt_rows_shared_by_every_encoder_are_shown_once():
    from necomimi.image_study.tables import SHARED_GT, merge_shared_gt

    rows = []
    for encoder in ENCODERS:
        for subject in SUBJECTS:
            for mode in MODES:
                value = 0.3 if mode == "gt" else _value("ssim", encoder, subject, 0, "original", mode)
                rows.append({"protocol": "intra", "encoder": encoder, "subject": subject, "seed": 0,
                             "condition": "original", "mode": mode, "metric": "ssim", "value": value,
                             "computed": True})  # fmt: skip
    frame = pd.DataFrame(rows)
    merged = merge_shared_gt(frame, ["value", "computed"])
    gt = merged[merged["mode"] == "gt"]
    assert set(gt["encoder"]) == {SHARED_GT} and len(gt) == len(SUBJECTS)
    assert len(merged[merged["mode"] != "gt"]) == len(frame[frame["mode"] != "gt"])
    assert row_label(SHARED_GT, "gt") == "Pure Test Image (gt embedding)"
    # one encoder's gt differs: every encoder keeps its own row
    frame.loc[(frame["mode"] == "gt") & (frame["encoder"] == "nerv") & (frame["subject"] == "02"), "value"] = 0.31
    assert merge_shared_gt(frame, ["value", "computed"]).equals(frame)


def test_gt_scored_once_is_shown_for_every_encoder_run_and_condition(tmp_path):
    """The shared gt files' rows repeat for each run and condition; tables keep one gt row."""
    metric_files, cat_files, ceiling = _write_inputs(tmp_path)
    for path in [*metric_files, *cat_files]:
        frame = pd.read_csv(path)
        frame[frame["mode"] != "gt"].to_csv(path, index=False)  # the runs score no gt images
    gt_rows = pd.DataFrame(_metric_rows("nerv", "01", 0)).query("condition == 'original' and mode == 'gt'")
    gt_metrics, gt_cat = tmp_path / "gt_metrics.csv", tmp_path / "gt_cat.csv"
    gt_rows[list(GT_METRIC_COLUMNS)].to_csv(gt_metrics, index=False)
    gt_cat_rows = pd.DataFrame([{"mode": "gt", "judge": "clip", "score": 61, "n_points": 100, "chance": 17.5}])
    gt_cat_rows.to_csv(gt_cat, index=False)
    out = _outputs(tmp_path)
    runs = [{"protocol": "intra", "encoder": e, "subject": s, "seed": n}
            for e in ENCODERS for s in SUBJECTS for n in SEEDS]  # fmt: skip
    tabulate_images(metric_files=metric_files, cat_files=cat_files, ceiling_file=ceiling, gt_metric_file=gt_metrics,
                    gt_cat_file=gt_cat, runs=runs, conditions=CONDITIONS, html=True, **out)  # fmt: skip
    cat = pd.read_csv(out["out_cat_csv"], dtype={"subject": str})
    gt = cat[cat["mode"] == "gt"]
    expected = sorted((e, c) for e in ENCODERS for c in CONDITIONS)
    assert sorted(zip(gt["encoder"], gt["condition"], strict=True)) == expected
    assert (gt[["sub-01", "sub-02", "mean"]] == 61).all().all() and (gt["ci95"] == 0).all()
    metrics = pd.read_csv(out["out_metrics_csv"], dtype={"subject": str})
    ssim = metrics[(metrics["mode"] == "gt") & (metrics["metric"] == "ssim")]
    assert len(ssim) == len(runs) * len(CONDITIONS) and ssim["value"].nunique() == 1
    table3 = out["table3"].read_text()
    assert table3.count("| Pure Test Image (gt embedding) | 61 | 61 |") == len(CONDITIONS)
    for name in ("table3", "table4", "table5", "table_suite"):
        assert "<table" in out[name].with_suffix(".html").read_text()
    with pytest.raises(ValueError, match=r"gt_metrics.csv: gt scores given, but no run or condition"):
        tabulate_images(metric_files=metric_files, cat_files=cat_files, ceiling_file=ceiling,
                        gt_metric_file=gt_metrics, gt_cat_file=gt_cat, **out)  # fmt: skip
