"""The ablation table and figure: every condition of the study against the original data.

The reference code ran its region and time-window ablations as 29 copied scripts, each
retraining an encoder on a slice of the data (SPEC.md 1.5, 3.12, 3.13). Here a region
or window is a condition (:mod:`necomimi.conditions.condition`) applied to the EEG of
the encoders trained on all of it, so one study gives every ablation from its config:
this module sets each condition's retrieval accuracy and image metrics beside the
original's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from necomimi.conditions.condition import Condition, parse_conditions  # noqa: E402
from necomimi.stats import mean_ci  # noqa: E402
from necomimi.utils.atomic import atomic_path  # noqa: E402
from necomimi.utils.html_tables import write_html_table  # noqa: E402

#: The figure's panels, in order: the kinds of condition it compares with the reference.
FIGURE_KINDS: dict[str, str] = {"region": "Channel regions", "window": "Time windows", "channels": "Channel lists"}
_KEY = ["protocol", "encoder", "condition"]
_RETRIEVAL_MEASURE = re.compile(r"retrieval (\d+)-way top-1 \(%\)")


def _retrieval_measures(retrieval: pd.DataFrame) -> pd.DataFrame:
    """Tidy rows (run, condition, measure, value) of top-1 accuracy, %, at 2-way and the largest k."""
    largest = int(retrieval["k"].max())
    rows = retrieval[(retrieval["top"] == 1) & retrieval["k"].isin({2, largest})].sort_values("k", kind="stable")
    rows["measure"] = [f"retrieval {k}-way top-1 (%)" for k in rows["k"]]
    rows["value"] = 100 * rows["accuracy"]
    return rows[[*_KEY, "subject", "seed", "measure", "value"]]


def _image_measures(metrics: pd.DataFrame) -> pd.DataFrame:
    """Tidy rows of every computed image metric of the EEG-made images (not gt)."""
    rows = metrics[metrics["computed"].astype(bool) & (metrics["mode"] != "gt")].copy()
    rows["measure"] = [f"{metric}, {mode}" for metric, mode in zip(rows["metric"], rows["mode"], strict=True)]
    return rows[[*_KEY, "subject", "seed", "measure", "value"]]


def reference_condition(conditions: Mapping[str, Condition]) -> str | None:
    """The first condition that leaves the data as it is (the original), or None."""
    return next((name for name, condition in conditions.items() if condition.is_reference), None)


def ablation_table(
    retrieval: pd.DataFrame, conditions: Mapping[str, object], image_metrics: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every condition's measures beside the reference condition's.

    Parameters
    ----------
    retrieval : pandas.DataFrame
        ``results/retrieval.csv`` (subject read as text).
    conditions : mapping
        The config's conditions, name -> value, in order.
    image_metrics : pandas.DataFrame, optional
        The runs' image metrics (``results/image_metrics.csv``'s rows); the computed metrics of the one- and two-stage
        images join the table.

    Returns
    -------
    pandas.DataFrame
        Columns ``protocol, encoder, condition, kind, replaces, measure, sub-XX...,
        mean, ci95, change``: per subject the mean over seeds, then the mean and 95 %
        t half-width over subjects, and ``change``, the mean minus the reference
        condition's (NaN when the config has no condition leaving the data as it is).
        Rows follow the config's order of conditions.
    """
    parsed = parse_conditions(conditions)
    unknown = sorted(set(retrieval["condition"]) - set(parsed))
    if unknown:
        raise ValueError(f"retrieval results of condition(s) {unknown} that the config does not define")
    parts = [_retrieval_measures(retrieval)]
    if image_metrics is not None and not image_metrics.empty:
        parts.append(_image_measures(image_metrics))
    tidy = pd.concat(parts, ignore_index=True)
    per_subject = tidy.groupby([*_KEY, "measure", "subject"])["value"].mean().unstack("subject")
    per_subject.columns = [f"sub-{subject}" for subject in per_subject.columns]
    summary = per_subject.apply(lambda row: pd.Series(mean_ci(row.dropna().to_numpy()), index=["mean", "ci95"]), axis=1)
    table = per_subject.join(summary).reset_index()
    reference = reference_condition(parsed)
    if reference is None:
        table["change"] = math.nan
    else:
        keys = ["protocol", "encoder", "measure"]
        baseline = table[table["condition"] == reference].set_index(keys)["mean"]
        table["change"] = table["mean"].to_numpy() - baseline.reindex(pd.MultiIndex.from_frame(table[keys])).to_numpy()
    table.insert(3, "kind", [parsed[name].kind for name in table["condition"]])
    table.insert(4, "replaces", [parsed[name].describe() for name in table["condition"]])
    # Retrieval first (2-way, then the largest k), then the image metrics; conditions in config order.
    order = {"measure": dict.fromkeys(tidy["measure"]), "condition": parsed}
    ranks = {column: {name: i for i, name in enumerate(names)} for column, names in order.items()}
    def rank(column: pd.Series) -> pd.Series:
        return column.map(ranks[column.name]) if column.name in ranks else column

    table = table.sort_values(["protocol", "measure", "encoder", "condition"], kind="stable", key=rank)
    return table.reset_index(drop=True)


def _cell(mean: float, half: float, change: float) -> str:
    ci = "" if np.isnan(half) else f" ± {half:.2f}"
    delta = "" if np.isnan(change) else f" ({change:+.2f})"
    return f"{mean:.2f}{ci}{delta}"


def ablation_markdown(table: pd.DataFrame) -> str:
    """The ablation table as markdown: per protocol and measure, conditions by encoder."""
    encoders = list(dict.fromkeys(table["encoder"]))
    parts = ["# Ablations: every condition against the original data\n",
             "Per condition and encoder: the mean over subjects (each the mean over its seeds) ± the 95 % t "
             "half-width over subjects, and in brackets the change from the original data.\n"]  # fmt: skip
    for (protocol, measure), group in table.groupby(["protocol", "measure"], sort=False):
        header = ["Condition", "Replaces", *encoders]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for condition, rows in group.groupby("condition", sort=False):
            by_encoder = rows.set_index("encoder")
            cells = [_cell(*by_encoder.loc[e, ["mean", "ci95", "change"]]) if e in by_encoder.index else "n/a"
                     for e in encoders]  # fmt: skip
            lines.append("| " + " | ".join([condition, rows["replaces"].iloc[0], *cells]) + " |")
        parts.append(f"## {measure}, protocol {protocol}\n\n" + "\n".join(lines) + "\n")
    return "\n".join(parts)


def plot_ablations(table: pd.DataFrame, out_png: str | Path) -> None:
    """One figure: retrieval top-1 at the largest k per region and per window.

    A panel per kind of condition present (regions, windows, channel lists), a bar per
    encoder and condition (the mean over subjects) with a dot per subject, each
    encoder's original accuracy as a dashed line of its colour, and chance dotted.
    """
    largest = max(int(match[1]) for m in table["measure"] if (match := _RETRIEVAL_MEASURE.fullmatch(m)))
    measure = f"retrieval {largest}-way top-1 (%)"
    rows = table[table["measure"] == measure]
    kinds = [kind for kind in FIGURE_KINDS if kind in set(rows["kind"])]
    if not kinds:
        raise ValueError("no condition other than the original data to plot")
    encoders = list(dict.fromkeys(rows["encoder"]))
    subjects = [column for column in rows.columns if column.startswith("sub-")]
    colours = {encoder: f"C{i}" for i, encoder in enumerate(encoders)}
    reference = rows[rows["kind"] == "reference"]
    sizes = [len(set(rows.loc[rows["kind"] == kind, "condition"])) for kind in kinds]
    fig, axes = plt.subplots(1, len(kinds), figsize=(2.0 + sum(sizes) * (0.6 + 0.25 * len(encoders)), 4.0),
                             sharey=True, squeeze=False, gridspec_kw={"width_ratios": sizes})  # fmt: skip
    width = 0.8 / len(encoders)
    for ax, kind in zip(axes[0], kinds, strict=True):
        names = list(dict.fromkeys(rows.loc[rows["kind"] == kind, "condition"]))
        for i, encoder in enumerate(encoders):
            own = rows[(rows["encoder"] == encoder)].set_index("condition").reindex(names)
            x = np.arange(len(names)) + (i - (len(encoders) - 1) / 2) * width
            ax.bar(x, own["mean"], width, color=colours[encoder], label=encoder)
            for column in subjects:
                ax.plot(x, own[column], "o", color="black", markersize=2.5)
            baseline = reference.loc[reference["encoder"] == encoder, "mean"]
            if not baseline.empty:
                ax.axhline(baseline.iloc[0], color=colours[encoder], linestyle="--", linewidth=1)
        ax.axhline(100 / largest, color="grey", linestyle=":", linewidth=1)
        ax.set_xticks(np.arange(len(names)), names, rotation=30, ha="right")
        ax.set_title(FIGURE_KINDS[kind])
    axes[0][0].set_ylabel(f"{largest}-way top-1 (%)")
    axes[0][0].set_ylim(0, None)
    axes[0][-1].legend(fontsize=7, title="dashed: original\ndotted: chance", title_fontsize=7, loc="upper left",
                       bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def tabulate_ablations(
    *,
    retrieval_file: str | Path,
    conditions: Mapping[str, object],
    out_csv: str | Path,
    out_markdown: str | Path,
    out_figure: str | Path,
    image_metrics_files: Sequence[str | Path] = (),
    html: bool = False,
) -> None:
    """Write the ablation table (CSV and markdown) and figure of a finished study.

    Parameters
    ----------
    retrieval_file : path
        ``results/retrieval.csv``.
    conditions : mapping
        The config's conditions, name -> value, in order.
    out_csv, out_markdown, out_figure : path
        ``results/ablations.csv`` (:func:`ablation_table`), its markdown table and the
        figure (:func:`plot_ablations`).
    image_metrics_files : sequence of path
        The runs' ``image_metrics.csv`` (``results/metrics/<run>/``), when the study
        makes images.
    html : bool
        Also write the markdown table's HTML twin beside it, for the report.
    """
    retrieval = pd.read_csv(retrieval_file, dtype={"subject": str})
    metrics = pd.concat([pd.read_csv(path, dtype={"subject": str}) for path in image_metrics_files],
                        ignore_index=True) if image_metrics_files else None  # fmt: skip
    table = ablation_table(retrieval, conditions, metrics)
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6f")
    with atomic_path(out_markdown) as tmp:
        tmp.write_text(ablation_markdown(table), encoding="utf-8")
    if html:
        write_html_table(out_markdown, Path(out_markdown).with_suffix(".html"))
    plot_ablations(table, out_figure)
