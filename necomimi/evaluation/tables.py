"""The study's retrieval tables (the paper's Tables 1 and 2) and the training figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from necomimi.stats import mean_ci  # noqa: E402
from necomimi.utils.atomic import atomic_path  # noqa: E402
from necomimi.utils.html_tables import write_html_table  # noqa: E402

RUN_COLUMNS = ["protocol", "encoder", "subject", "seed", "condition"]


def _table(results: pd.DataFrame, settings: list[tuple[str, int, int]]) -> str:
    """Markdown: one row per (encoder, setting), one column per subject, then mean +- CI."""
    subjects = sorted(results["subject"].unique())
    header = ["Model", "Setting", *[f"S{s}" for s in subjects], "Mean ± 95 % CI"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for encoder in results["encoder"].unique():
        for label, k, top in settings:
            rows = results[(results["encoder"] == encoder) & (results["k"] == k) & (results["top"] == top)]
            if rows.empty:
                continue
            per_subject = rows.groupby("subject")["accuracy"].mean() * 100  # averaged over seeds
            mean, half = mean_ci(per_subject.to_numpy())
            cells = [f"{per_subject.get(s, np.nan):.1f}" for s in subjects]
            ci = "n/a" if np.isnan(half) else f"{half:.1f}"
            lines.append("| " + " | ".join([encoder, label, *cells, f"{mean:.1f} ± {ci}"]) + " |")
    return "\n".join(lines)


def _markdown(results: pd.DataFrame, title: str, settings_of) -> str:
    parts = [f"# {title}\n", "Accuracy in %, the exact expectation over distractor draws; per subject "
             "(mean over seeds), then mean ± 95 % t interval over subjects.\n"]  # fmt: skip
    for (protocol, condition, selection), group in results.groupby(["protocol", "condition", "selection"]):
        note = " (epoch selected on the TEST set, as the paper did)" if selection == "test" else ""
        parts.append(f"## {condition}, protocol {protocol}, selection {selection}{note}\n")
        parts.append(_table(group, settings_of(group)) + "\n")
    return "\n".join(parts)


def tabulate_retrieval(
    *,
    retrieval_files: list[str | Path],
    history_files: list[str | Path],
    history_labels: list[dict],
    out_csv: str | Path,
    table1: str | Path,
    table2: str | Path,
    figure: str | Path,
    html: bool = False,
) -> None:
    """Gather per-run retrieval CSVs into the study's tables and figure.

    Writes ``out_csv`` (tidy: one row per run, condition, k and top), ``table1``
    (2-way and 4-way top-1, the paper's Table 1), ``table2`` (top-1 and top-5 at the
    largest k, 200-way on THINGS-EEG2, the paper's Table 2) and ``figure`` (the
    per-epoch selection accuracy of every training run).

    Parameters
    ----------
    retrieval_files : list of path
        Outputs of :func:`necomimi.evaluation.retrieval.evaluate_retrieval`.
    history_files : list of path
        ``history.csv`` of every training run.
    history_labels : list of dict
        Encoder, protocol, subject and seed of each history file, in the same order.
    out_csv, table1, table2, figure : path
        Outputs.
    html : bool
        Also write each table's HTML twin, ``<name>.html`` beside ``<name>.md``
        (:func:`necomimi.utils.html_tables.write_html_table`), for the report.
    """
    results = pd.concat([pd.read_csv(f, dtype={"subject": str}) for f in retrieval_files], ignore_index=True)
    results = results.sort_values([*RUN_COLUMNS, "k", "top"]).reset_index(drop=True)
    with atomic_path(out_csv) as tmp:
        results.to_csv(tmp, index=False, float_format="%.6f")

    def small_k(group):
        return [(f"{k}-way", k, 1) for k in (2, 4) if k in set(group["k"])]

    def largest_k(group):
        k = int(group["k"].max())
        return [(f"{k}-way top-1", k, 1), (f"{k}-way top-5", k, 5)]

    for path, title, settings in (
        (table1, "Table 1: 2-way and 4-way zero-shot top-1 accuracy", small_k),
        (table2, "Table 2: zero-shot top-1 and top-5 accuracy at the largest k", largest_k),
    ):
        with atomic_path(path) as tmp:
            tmp.write_text(_markdown(results, title, settings), encoding="utf-8")
        if html:
            write_html_table(path, Path(path).with_suffix(".html"))

    fig, ax = plt.subplots(figsize=(7, 4))
    for path, labels in zip(history_files, history_labels, strict=True):
        history = pd.read_csv(path)
        name = f"{labels['encoder']} sub-{labels['subject']} seed {labels['seed']} ({labels['protocol']})"
        ax.plot(history["epoch"], 100 * history["selection_top1"], label=name)
        selection_set, k = history["selection_set"].iloc[0], history["selection_k"].iloc[0]
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{selection_set} {k}-way top-1 (%)")
    ax.set_title("Epoch selection accuracy of every training run")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    with atomic_path(figure) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
