"""The study's image tables: CAT score (Table 3), FID (Table 4), SSIM (Table 5).

Also the MindEye/ATM reconstruction-metric suite (PAPER.md 2.1). The inputs are the
per-run CSVs of the image metrics and of the CAT score, those of the gt images (scored
once, their rows repeated for every run and condition) and the CAT ceiling (the CLIP
judge on the ground-truth test images). Every table reports one value per subject (the
mean over seeds), then the mean and the 95 % Student-t half-width over subjects
(:func:`necomimi.stats.mean_ci`), as the retrieval tables of
:mod:`necomimi.evaluation.tables` do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from necomimi.stats import mean_ci
from necomimi.utils.atomic import atomic_path
from necomimi.utils.html_tables import write_html_table

#: Columns that identify one run and one set of generated images.
RUN_KEY = ("protocol", "encoder", "subject", "seed", "condition", "mode")
METRIC_COLUMNS = (*RUN_KEY, "metric", "space", "value", "n_images", "computed", "note")
CAT_COLUMNS = (*RUN_KEY, "judge", "score", "n_points", "chance")
CEILING_COLUMNS = ("judge", "score", "n_points", "chance")
#: Columns that identify one run and condition: the gt images' rows are repeated for each.
RUN_CONDITION = RUN_KEY[:-1]
#: Columns of the gt images' scores, made once for every run and condition.
GT_METRIC_COLUMNS = METRIC_COLUMNS[len(RUN_CONDITION) :]
GT_CAT_COLUMNS = CAT_COLUMNS[len(RUN_CONDITION) :]
#: One row of ``cat_scores.csv`` per group (the subjects become columns).
CAT_GROUP = ("protocol", "encoder", "condition", "mode", "judge")
#: One section of Table 3 per group.
CAT_SECTION = ("protocol", "condition", "judge")

#: Registry name -> the paper's name, in the paper's row order (baselines, then NERV).
ENCODER_NAMES = {
    "nervformer_v1": "Nervformer",
    "nice": "NICE",
    "muse": "MUSE",
    "atms": "ATM-S",
    "nerv": "NERV",
}
#: Generation mode -> the paper's row label, in row order.
MODE_NAMES = {
    "gt": "Pure Test Image (gt embedding)",
    "one_stage": "One-Stage",
    "two_stage": "Two-Stage",
}
JUDGE_NAMES = {"clip": "CLIP judge", "human": "human judges"}
#: The encoder of a ground-truth-embedding row shared by every encoder (one table row).
SHARED_GT = "*"
CI_HEADER = "Mean ± 95 % CI"
NOT_COMPUTED = "n/c"
MISSING = "–"


@dataclass(frozen=True)
class MetricInfo:
    """How a metric is labelled and printed.

    Attributes
    ----------
    label : str
        Column or heading label.
    higher_is_better : bool or None
        None where the direction is unknown.
    decimals : int
        Decimals of the mean and the CI.
    subject_decimals : int
        Decimals of the per-subject values.
    """

    label: str
    higher_is_better: bool | None
    decimals: int = 3
    subject_decimals: int = 3

    @property
    def arrow(self) -> str:
        """Return ↑ (higher is better), ↓ (lower is better) or nothing."""
        return {True: " ↑", False: " ↓", None: ""}[self.higher_is_better]


#: The known metrics, in the column order of the suite table (MindEye, then FID).
METRICS = {
    "pixcorr": MetricInfo("PixCorr", True),
    "ssim": MetricInfo("SSIM", True, 4, 4),
    "alexnet_2": MetricInfo("AlexNet(2)", True),
    "alexnet_5": MetricInfo("AlexNet(5)", True),
    "inception_2way": MetricInfo("Inception", True),
    "clip_2way": MetricInfo("CLIP", True),
    "effnet_distance": MetricInfo("EffNet-B", False),
    "swav_distance": MetricInfo("SwAV", False),
    "effnet_2way": MetricInfo("EffNet-B 2-way", True),
    "fid": MetricInfo("FID (InceptionV3 pool3)", False, 2, 1),
    "fid_clip": MetricInfo("FID-CLIP", False, 3, 3),
}
#: Short labels of the suite table's columns, where they differ from the label.
SUITE_LABELS = {"fid": "FID"}
#: Table 4: the FID variants and their section headings.
FID_VARIANTS = {
    "fid": "FID (InceptionV3 pool3, pytorch-fid weights)",
    "fid_clip": (
        "FID-CLIP: Fréchet distance in the study CLIP's image-embedding space "
        "(not comparable with the paper's FID)"
    ),
}


def metric_info(metric: str) -> MetricInfo:
    """Label and direction of ``metric``; unknown metrics by their name's pattern.

    ``*_2way``, ``ssim`` and ``pixcorr`` are higher-is-better, ``fid*`` and
    ``*_distance`` lower-is-better; any other unknown metric has no direction.
    """
    if metric in METRICS:
        return METRICS[metric]
    if metric.endswith("_2way"):
        return MetricInfo(metric, True)
    if metric.startswith("fid") or metric.endswith("_distance"):
        return MetricInfo(metric, False)
    return MetricInfo(metric, None)


def encoder_name(encoder: str) -> str:
    """Return the paper's name of a registry encoder, else the registry name."""
    return ENCODER_NAMES.get(encoder, encoder)


def row_label(encoder: str, mode: str) -> str:
    """Return a table row label, e.g. ``"NERV Two-Stage"``."""
    if encoder == SHARED_GT:
        return MODE_NAMES.get(mode, mode)
    return f"{encoder_name(encoder)} {MODE_NAMES.get(mode, mode)}"


def merge_shared_gt(frame: pd.DataFrame, values: Sequence[str]) -> pd.DataFrame:
    """Keep the ``gt`` rows once where every encoder's are identical.

    ``gt`` images are rendered once from the test images' own CLIP embeddings, so their
    scores repeat across encoders; the paper prints
    them as one "Pure Test Image" row. Where each subject, seed, condition and
    metric (or judge) has the same ``values`` for every encoder, the ``gt`` rows are
    kept once with encoder :data:`SHARED_GT`; otherwise the frame is returned as is.
    """
    gt = frame[frame["mode"] == "gt"]
    encoders = frame["encoder"].nunique()
    if gt.empty or encoders < 2:
        return frame
    key = [c for c in ("protocol", "subject", "seed", "condition", "metric", "judge") if c in frame.columns]
    groups = gt.groupby(key, dropna=False)
    same = (groups.size() == encoders) & (groups[list(values)].nunique(dropna=False) == 1).all(axis=1)
    if not same.all():
        return frame
    shared = gt.drop_duplicates(key).assign(encoder=SHARED_GT)
    return pd.concat([frame[frame["mode"] != "gt"], shared], ignore_index=True)


def _encoder_key(encoder: str) -> tuple[int, str]:
    order = list(ENCODER_NAMES)
    return (order.index(encoder), "") if encoder in order else (len(order), encoder)


def _mode_key(mode: str) -> tuple[int, str]:
    order = list(MODE_NAMES)
    return (order.index(mode), "") if mode in order else (len(order), mode)


def paper_row_order(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Order (encoder, mode) rows as the paper does.

    The ground-truth-embedding rows first ("Pure Test Image", Table 5), then per encoder
    in the paper's order (baselines, then NERV) One-Stage and Two-Stage (Table 4); other
    encoders and modes follow, alphabetically.
    """

    def key(pair: tuple[str, str]) -> tuple:
        encoder, mode = pair
        return (mode != "gt", _encoder_key(encoder), _mode_key(mode))

    return sorted(set(pairs), key=key)


def _section_key(values: tuple) -> tuple:
    """Sort sections by protocol, the original condition first, the CLIP judge first."""
    protocol, condition, *rest = values
    judge = [(j != "clip", j) for j in rest]
    return (protocol, condition != "original", condition, *judge)


def _sections(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple]:
    keys = {tuple(k) for k in frame[list(columns)].itertuples(index=False)}
    return sorted(keys, key=_section_key)


def _select(
    frame: pd.DataFrame, columns: Sequence[str], values: Sequence
) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in zip(columns, values, strict=True):
        mask &= (frame[column] == value).to_numpy()
    return frame[mask]


# ----------------------------------------------------------------------------- input


def _as_bool(column: pd.Series, path: Path) -> pd.Series:
    """Parse the ``computed`` column (bool, ``True``/``False`` text or 1/0)."""
    if column.dtype == bool:
        return column
    text = column.astype(str).str.strip().str.lower()
    mapping = {"true": True, "false": False, "1": True, "0": False}
    mapping |= {"1.0": True, "0.0": False}
    bad = ~text.isin(list(mapping))
    if bad.any():
        raise ValueError(
            f"{path}: column computed must be True or False, "
            f"got {column[bad].iloc[0]!r} on data row {int(np.argmax(bad)) + 1}"
        )
    return text.map(mapping).astype(bool)


def _read_csvs(
    files: Sequence[str | Path], required: Sequence[str], what: str
) -> pd.DataFrame:
    """Read and concatenate CSVs, checking their columns; ``_source`` names the file."""
    files = list(files)
    if not files:
        raise ValueError(f"no {what} files given: expected at least one CSV")
    frames = []
    for file in files:
        path = Path(file)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: {what} file not found")
        frame = pd.read_csv(path, dtype={"subject": str})
        missing = [column for column in required if column not in frame.columns]
        if missing:
            raise ValueError(
                f"{path}: missing column(s) {', '.join(missing)}; "
                f"a {what} file needs {', '.join(required)}"
            )
        if "computed" in required:
            frame["computed"] = _as_bool(frame["computed"], path)
        frames.append(frame.assign(_source=str(path)))
    return pd.concat(frames, ignore_index=True)


def _check_unique(frame: pd.DataFrame, key: Sequence[str], what: str) -> None:
    """Raise on two rows with the same ``key``, naming the key and the files."""
    repeated = frame[frame.duplicated(list(key), keep=False)]
    if repeated.empty:
        return
    first = repeated.iloc[0]
    same = _select(repeated, key, [first[c] for c in key])
    described = ", ".join(f"{c}={first[c]}" for c in key)
    files = ", ".join(sorted(set(same["_source"])))
    raise ValueError(f"duplicate {what} rows for {described} (in {files})")


def gt_keys(runs: Iterable[Mapping], conditions: Iterable[str]) -> list[dict]:
    """Every (protocol, encoder, subject, seed, condition) the gt images' rows stand for."""
    return [{**{key: run[key] for key in RUN_CONDITION[:-1]}, "condition": c} for run in runs for c in conditions]


def repeat_shared_gt(shared: pd.DataFrame, keys: Sequence[Mapping]) -> pd.DataFrame:
    """The gt images' rows (scored once) repeated for every run and condition of ``keys``.

    The gt images are the same for every run and condition, so each gets the same
    values: the tables then show gt wherever a run's modes are shown.
    """
    if not keys:
        raise ValueError(f"{shared['_source'].iloc[0]}: gt scores given, but no run or condition to show them for")
    frame = pd.DataFrame(list(keys)).astype({"subject": str})
    return frame.merge(shared, how="cross")


def _score_rows(files: Sequence[str | Path], columns: Sequence[str], what: str, gt_file: str | Path | None,
                keys: Sequence[Mapping]) -> pd.DataFrame:  # fmt: skip
    """Per-run rows of ``files`` and, if given, the gt file's rows repeated for ``keys``."""
    frames = [_read_csvs(files, columns, what)] if files or gt_file is None else []
    if gt_file is not None:
        shared = _read_csvs([gt_file], columns[len(RUN_CONDITION) :], f"gt {what}")
        frames.append(repeat_shared_gt(shared, keys))
    return pd.concat(frames, ignore_index=True)


def read_metric_files(files: Sequence[str | Path], gt_file: str | Path | None = None,
                      keys: Sequence[Mapping] = ()) -> pd.DataFrame:  # fmt: skip
    """Concatenate per-run image-metric CSVs, checked, sorted, tidy.

    Parameters
    ----------
    files : list of path
        CSVs with the columns of :data:`METRIC_COLUMNS`.
    gt_file : path, optional
        The gt images' metrics (:data:`GT_METRIC_COLUMNS`), scored once.
    keys : list of mapping
        The runs and conditions the gt rows are repeated for (:func:`gt_keys`).

    Returns
    -------
    pandas.DataFrame
        Sorted by protocol, encoder, subject, seed, condition, mode and metric; the
        value of a metric that was not computed is NaN.

    Raises
    ------
    ValueError
        For no files, a file without the required columns, or two rows of one run,
        mode and metric.
    """
    metrics = _score_rows(files, METRIC_COLUMNS, "image metric", gt_file, keys)
    _check_unique(metrics, (*RUN_KEY, "metric"), "image metric")
    metrics["value"] = pd.to_numeric(metrics["value"], errors="coerce")
    metrics.loc[~metrics["computed"], "value"] = np.nan
    metrics = metrics.sort_values([*RUN_KEY, "metric"], kind="stable")
    return metrics.reset_index(drop=True)


def read_cat_files(files: Sequence[str | Path], gt_file: str | Path | None = None,
                   keys: Sequence[Mapping] = ()) -> pd.DataFrame:  # fmt: skip
    """Concatenate per-run CAT-score CSVs (columns :data:`CAT_COLUMNS`), checked.

    ``gt_file`` and ``keys`` as for :func:`read_metric_files` (:data:`GT_CAT_COLUMNS`).
    """
    cat = _score_rows(files, CAT_COLUMNS, "CAT score", gt_file, keys)
    _check_unique(cat, (*RUN_KEY, "judge"), "CAT score")
    return cat.sort_values([*RUN_KEY, "judge"], kind="stable").reset_index(drop=True)


def read_ceiling(file: str | Path) -> dict[str, tuple[float, float]]:
    """Judge -> (score, n_points) on the ground-truth test images."""
    ceiling = _read_csvs([file], CEILING_COLUMNS, "CAT ceiling")
    _check_unique(ceiling, ("judge",), "CAT ceiling")
    return {
        row.judge: (float(row.score), float(row.n_points))
        for row in ceiling.itertuples(index=False)
    }


# ----------------------------------------------------------------------- aggregation


def subject_column(subject: str) -> str:
    """Return the ``cat_scores.csv`` column of a subject, e.g. ``sub-01``."""
    return f"sub-{subject}"


def _mean_ci(per_subject: pd.Series) -> tuple[float, float]:
    values = per_subject.dropna().to_numpy(dtype=float)
    return mean_ci(values) if len(values) else (math.nan, math.nan)


def summarise_cat(
    cat: pd.DataFrame, ceiling: dict[str, tuple[float, float]]
) -> pd.DataFrame:
    """Summarise CAT scores per protocol, encoder, condition, mode and judge.

    Parameters
    ----------
    cat : pandas.DataFrame
        From :func:`read_cat_files`.
    ceiling : dict
        From :func:`read_ceiling`.

    Returns
    -------
    pandas.DataFrame
        Columns ``protocol, encoder, condition, mode, judge, sub-XX..., mean, ci95,
        n_points, ceiling, chance``: the score of each subject averaged over seeds, the
        mean and 95 % t half-width over subjects, the points per subject, the judge's
        score on the ground-truth images and the mean chance score over subjects.
    """
    subjects = sorted(cat["subject"].unique())
    rows = []
    for key, group in cat.groupby(list(CAT_GROUP), sort=True):
        points = sorted(group["n_points"].unique())
        if len(points) != 1:
            described = ", ".join(
                f"{c}={v}" for c, v in zip(CAT_GROUP, key, strict=True)
            )
            raise ValueError(
                f"CAT scores of {described} out of different points {points}"
            )
        per_subject = group.groupby("subject")["score"].mean()
        chance = group.groupby("subject")["chance"].mean()
        mean, half = _mean_ci(per_subject)
        row = dict(zip(CAT_GROUP, key, strict=True))
        row |= {subject_column(s): per_subject.get(s, math.nan) for s in subjects}
        row |= {"mean": mean, "ci95": half, "n_points": points[0]}
        row |= {
            "ceiling": ceiling.get(key[-1], (math.nan,))[0],
            "chance": chance.mean(),
        }
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class MetricRow:
    """One (encoder, mode) row of a metric table.

    Attributes
    ----------
    per_subject : dict
        Subject -> mean over seeds; NaN where none of the subject's runs was computed.
    mean, half : float
        Mean and 95 % t half-width over the computed subjects.
    n_images : list of int
        Distinct numbers of images per group among the computed runs.
    """

    per_subject: dict[str, float]
    mean: float
    half: float
    n_images: list[int]

    @property
    def computed(self) -> bool:
        """Whether any run of the row was computed."""
        return not math.isnan(self.mean)


def _reason(note) -> str:
    """Return the reason of a not-computed metric, without a leading 'not computed'."""
    text = "" if pd.isna(note) else str(note).strip()
    if text.lower().startswith("not computed"):
        text = text[len("not computed") :].lstrip(" :,-")
    return text or "no reason given"


def _reasons(rows: pd.DataFrame) -> str:
    """Return the distinct reasons of the rows not computed, ``; ``-separated."""
    return "; ".join(sorted({_reason(n) for n in rows.loc[~rows["computed"], "note"]}))


def _distinct(values: pd.Series) -> str:
    return "; ".join(sorted({str(v).strip() for v in values.dropna()} - {""}))


def _description(rows: pd.DataFrame) -> tuple[str, str]:
    """Return the distinct spaces and notes of the computed rows."""
    done = rows[rows["computed"]]
    return _distinct(done["space"]), _distinct(done["note"])


def metric_row(rows: pd.DataFrame) -> MetricRow:
    """Summarise the runs of one encoder, mode and metric (see :class:`MetricRow`)."""
    done = rows[rows["computed"] & rows["value"].notna()]
    per_subject = done.groupby("subject")["value"].mean()
    mean, half = _mean_ci(per_subject)
    values = {s: float(per_subject.get(s, math.nan)) for s in rows["subject"].unique()}
    return MetricRow(
        per_subject=values,
        mean=mean,
        half=half,
        n_images=sorted({int(n) for n in done["n_images"].dropna()}),
    )


# ------------------------------------------------------------------------ formatting


def _number(value: float, decimals: int) -> str:
    return MISSING if pd.isna(value) else f"{value:.{decimals}f}"


def _count(value: float) -> str:
    """Print a score: an integer as such, else one decimal."""
    if pd.isna(value):
        return MISSING
    return str(int(round(value))) if float(value).is_integer() else f"{value:.1f}"


def _mean_ci_cell(mean: float, half: float, decimals: int) -> str:
    if pd.isna(mean):
        return NOT_COMPUTED
    ci = "n/a" if pd.isna(half) else f"{half:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {ci}"


def _range(values: Sequence[float], fmt) -> str:
    values = sorted(v for v in values if not pd.isna(v))
    if not values:
        return MISSING
    low, high = fmt(values[0]), fmt(values[-1])
    return low if low == high else f"{low}–{high}"


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _section_heading(protocol: str, condition: str, extra: str = "") -> str:
    return f"## {condition}, protocol {protocol}{extra}\n"


PER_SUBJECT_TEXT = (
    "Per subject: the mean over seeds; then mean ± 95 % Student-t interval over "
    "subjects (n/a with a single subject)."
)


# ----------------------------------------------------------------------- CAT: Table 3


def _cat_footnote(section: pd.DataFrame, judge: str, ceiling_points: float) -> str:
    points = _range(section["n_points"], _count)
    judge_name = JUDGE_NAMES.get(judge, f"{judge} judge")
    ceiling = section["ceiling"].dropna()
    if ceiling.empty:
        ceiling_text = f"Ceiling: not measured for the {judge_name}."
    else:
        out_of = ""
        if not pd.isna(ceiling_points) and set(section["n_points"]) != {ceiling_points}:
            out_of = f" out of {_count(ceiling_points)} points"
        ceiling_text = (
            f"Ceiling ({judge_name} on the ground-truth images): "
            f"{_count(ceiling.iloc[0])}{out_of}."
        )
    chance = section["chance"].dropna()
    if chance.empty:
        chance_text = f"Chance: not defined for the {judge_name}."
    else:
        values = _range(chance, lambda v: f"{v:.1f}")
        distinct = {f"{v:.1f}" for v in chance}
        which = "" if len(distinct) == 1 else ", range over the rows"
        chance_text = (
            f"Chance (images paired with the wrong concepts{which}): {values}."
        )
    return f"Out of {points} points per subject. {ceiling_text} {chance_text}"


def _cat_table(section: pd.DataFrame, subjects: Sequence[str]) -> str:
    header = ["Model", *[f"S{s}" for s in subjects], CI_HEADER]
    rows = []
    for encoder, mode in paper_row_order(zip(section["encoder"], section["mode"], strict=True)):
        row = _select(section, ("encoder", "mode"), (encoder, mode)).iloc[0]
        cells = [_count(row[subject_column(s)]) for s in subjects]
        mean_cell = _mean_ci_cell(row["mean"], row["ci95"], 1)
        rows.append([row_label(encoder, mode), *cells, mean_cell])
    return _markdown_table(header, rows)


def cat_markdown(
    summary: pd.DataFrame, ceiling: dict[str, tuple[float, float]] | None = None
) -> str:
    """Render Table 3, the CAT score: one section per protocol, condition and judge.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`summarise_cat`.
    ceiling : dict, optional
        From :func:`read_ceiling`; its points are printed where they differ from
        the table's.

    Returns
    -------
    str
        Markdown.
    """
    parts = [
        "# Table 3: CAT score\n",
        "Matched tags per subject (one generated image per test concept, five tags "
        f"each). {PER_SUBJECT_TEXT}\n",
    ]
    for protocol, condition, judge in _sections(summary, CAT_SECTION):
        section = _select(summary, CAT_SECTION, (protocol, condition, judge))
        columns = [subject_column(s) for s in _subjects_of(summary)]
        subjects = [c.removeprefix("sub-") for c in columns if section[c].notna().any()]
        judge_name = JUDGE_NAMES.get(judge, f"{judge} judge")
        parts.append(_section_heading(protocol, condition, f", {judge_name}"))
        parts.append(_cat_table(section, subjects) + "\n")
        points = (ceiling or {}).get(judge, (math.nan, math.nan))[1]
        parts.append(_cat_footnote(section, judge, points) + "\n")
    return "\n".join(parts)


def _subjects_of(summary: pd.DataFrame) -> list[str]:
    return [c.removeprefix("sub-") for c in summary.columns if c.startswith("sub-")]


# ------------------------------------------------------------ metrics: Tables 4 and 5


def _metric_table(rows: pd.DataFrame, metric: str) -> str:
    """Return the markdown table of the rows of one metric (Tables 4 and 5)."""
    info = metric_info(metric)
    subjects = sorted(rows["subject"].unique())
    header = ["Method", *[f"S{s}" for s in subjects], CI_HEADER]
    with_n = metric.startswith("fid")
    header += ["Images per group"] if with_n else []
    lines = []
    for encoder, mode in paper_row_order(zip(rows["encoder"], rows["mode"], strict=True)):
        summary = metric_row(_select(rows, ("encoder", "mode"), (encoder, mode)))
        cells = [_subject_cell(summary, s, info.subject_decimals) for s in subjects]
        line = [row_label(encoder, mode), *cells]
        line.append(_mean_ci_cell(summary.mean, summary.half, info.decimals))
        if with_n:
            line.append(_range(summary.n_images, str))
        lines.append(line)
    return _markdown_table(header, lines)


def _subject_cell(summary: MetricRow, subject: str, decimals: int) -> str:
    if subject not in summary.per_subject:
        return MISSING
    value = summary.per_subject[subject]
    return NOT_COMPUTED if math.isnan(value) else _number(value, decimals)


def _metric_block(section: pd.DataFrame, metric: str, label: str) -> str:
    """Return a metric's table with its notes, or a line saying why it is missing."""
    rows = section[section["metric"] == metric]
    if rows.empty:
        return f"{label}: not computed: no `{metric}` rows in the metric files.\n"
    if not rows["computed"].any():
        return f"{label}: not computed: {_reasons(rows)}.\n"
    text = [_metric_table(rows, metric) + "\n"]
    if not rows["computed"].all():
        text.append(f"{NOT_COMPUTED}: not computed: {_reasons(rows)}.\n")
    space, note = _description(rows)
    text += [f"Space: {space}.\n"] if space else []
    text += [f"Note: {note}.\n"] if note else []
    return "\n".join(text)


def fid_markdown(metrics: pd.DataFrame) -> str:
    """Render Table 4: FID and FID-CLIP per protocol and condition."""
    parts = [
        "# Table 4: FID (lower is better)\n",
        "Each group of generated images (one run, one mode) is compared with the "
        f"ground-truth test images; the group size is beside. {PER_SUBJECT_TEXT} "
        "FID is strongly biased at small sample sizes: compare only rows with the "
        "same number of images.\n",
    ]
    for protocol, condition in _sections(metrics, ("protocol", "condition")):
        section = _select(metrics, ("protocol", "condition"), (protocol, condition))
        parts.append(_section_heading(protocol, condition))
        for metric, heading in FID_VARIANTS.items():
            parts.append(f"### {heading}\n")
            parts.append(_metric_block(section, metric, metric_info(metric).label))
    return "\n".join(parts)


def ssim_markdown(metrics: pd.DataFrame) -> str:
    """Render Table 5: SSIM per protocol and condition (4 decimals)."""
    parts = [
        "# Table 5: SSIM (higher is better)\n",
        "Grayscale SSIM at 256 × 256 of each generated image with its test image "
        "(the reference's protocol), averaged over the test images. "
        f"{PER_SUBJECT_TEXT}\n",
    ]
    for protocol, condition in _sections(metrics, ("protocol", "condition")):
        section = _select(metrics, ("protocol", "condition"), (protocol, condition))
        parts.append(_section_heading(protocol, condition))
        parts.append(_metric_block(section, "ssim", "SSIM"))
    return "\n".join(parts)


# ----------------------------------------------------------------- the metric suite


def suite_metric_order(metrics: Iterable[str]) -> list[str]:
    """Known metrics in the suite's column order, then unknown ones alphabetically."""
    known = list(METRICS)
    present = set(metrics)
    return [m for m in known if m in present] + sorted(present - set(known))


def _suite_label(metric: str) -> str:
    info = metric_info(metric)
    return SUITE_LABELS.get(metric, info.label) + info.arrow


def _suite_footnote(section: pd.DataFrame, metrics: Sequence[str]) -> list[str]:
    missing, notes = [], []
    for metric in metrics:
        rows = section[section["metric"] == metric]
        label = f"{metric_info(metric).label} (`{metric}`)"
        if not rows["computed"].all():
            scope = "" if not rows["computed"].any() else " (some runs)"
            missing.append(f"- {label}{scope}: {_reasons(rows)}.")
        described = " — ".join(filter(None, _description(rows)))
        if described:
            notes.append(f"- {label}: {described}.")
    text = []
    if missing:
        text.append(f"Not computed ({NOT_COMPUTED}):\n\n" + "\n".join(missing) + "\n")
    if notes:
        text.append("Spaces and notes:\n\n" + "\n".join(notes) + "\n")
    return text


def suite_markdown(metrics: pd.DataFrame) -> str:
    """Tabulate the MindEye/ATM metric suite, one section per condition."""
    parts = [
        "# Reconstruction metrics (the MindEye/ATM suite)\n",
        "Cells: mean ± 95 % Student-t half-width over subjects (per subject: the mean "
        "over seeds). ↑ higher is better, ↓ lower is better; two-way identification "
        f"is a fraction (chance 0.5). {NOT_COMPUTED}: not computed (see below).\n",
    ]
    for protocol, condition in _sections(metrics, ("protocol", "condition")):
        section = _select(metrics, ("protocol", "condition"), (protocol, condition))
        names = suite_metric_order(section["metric"].unique())
        header = ["Method", *[_suite_label(m) for m in names]]
        rows = []
        pairs = zip(section["encoder"], section["mode"], strict=True)
        for encoder, mode in paper_row_order(pairs):
            run = _select(section, ("encoder", "mode"), (encoder, mode))
            cells = [_suite_cell(run[run["metric"] == m], m) for m in names]
            rows.append([row_label(encoder, mode), *cells])
        parts.append(_section_heading(protocol, condition))
        parts.append(_markdown_table(header, rows) + "\n")
        parts += _suite_footnote(section, names)
    return "\n".join(parts)


def _suite_cell(rows: pd.DataFrame, metric: str) -> str:
    if rows.empty:
        return MISSING
    summary = metric_row(rows)
    return _mean_ci_cell(summary.mean, summary.half, metric_info(metric).decimals)


# ---------------------------------------------------------------------- entry point


def _write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def _write_csv(path: str | Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6f")


def tabulate_images(
    *,
    metric_files: Sequence[str | Path],
    cat_files: Sequence[str | Path],
    ceiling_file: str | Path,
    out_metrics_csv: str | Path,
    out_cat_csv: str | Path,
    table3: str | Path,
    table4: str | Path,
    table5: str | Path,
    table_suite: str | Path,
    gt_metric_file: str | Path | None = None,
    gt_cat_file: str | Path | None = None,
    runs: Sequence[Mapping] = (),
    conditions: Sequence[str] = (),
    html: bool = False,
) -> None:
    """Gather the per-run image metrics and CAT scores into the study's tables.

    Parameters
    ----------
    metric_files : list of path
        Per-run image-metric CSVs (columns :data:`METRIC_COLUMNS`).
    cat_files : list of path
        Per-run CAT-score CSVs (columns :data:`CAT_COLUMNS`).
    ceiling_file : path
        The judges' scores on the ground-truth test images (:data:`CEILING_COLUMNS`).
    out_metrics_csv : path
        All metric rows, sorted by protocol, encoder, subject, seed, condition, mode
        and metric.
    out_cat_csv : path
        :func:`summarise_cat`: one row per protocol, encoder, condition, mode and
        judge, one column per subject.
    table3, table4, table5 : path
        Markdown: CAT score, FID (and FID-CLIP), SSIM, in the paper's layouts.
    table_suite : path
        Markdown: the MindEye/ATM metric suite; metrics not computed shown as n/c
        with their reasons.
    gt_metric_file, gt_cat_file : path, optional
        The gt images' scores, made once
        (:func:`necomimi.image_study.scores.score_gt_images`); their rows are
        repeated for every run and condition, so every output shows gt as a mode of
        each encoder, the same values for all.
    runs : list of mapping
        Protocol, encoder, subject and seed of every run (with gt files only).
    conditions : list of str
        The study's conditions (with gt files only).
    html : bool
        Also write each table's HTML twin, ``<name>.html`` beside ``<name>.md``
        (:func:`necomimi.utils.html_tables.write_html_table`), for the report.

    Raises
    ------
    ValueError
        For an empty list of files, a file without the required columns or two rows
        with the same key.
    """
    keys = gt_keys(runs, conditions)
    metrics = read_metric_files(metric_files, gt_metric_file, keys)
    cat = read_cat_files(cat_files, gt_cat_file, keys)
    ceiling = read_ceiling(ceiling_file)
    summary = summarise_cat(cat, ceiling)
    _write_csv(out_metrics_csv, metrics.drop(columns="_source"))
    _write_csv(out_cat_csv, summary)
    shown = merge_shared_gt(metrics, ["value", "computed"])
    shown_summary = summarise_cat(merge_shared_gt(cat, ["score", "chance"]), ceiling)
    tables = {table3: cat_markdown(shown_summary, ceiling), table4: fid_markdown(shown),
              table5: ssim_markdown(shown), table_suite: suite_markdown(shown)}  # fmt: skip
    for path, text in tables.items():
        _write_text(path, text)
        if html:
            write_html_table(path, Path(path).with_suffix(".html"))
