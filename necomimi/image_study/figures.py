"""Figures of the generated images: a grid per run and the CAT scores.

:func:`plot_image_grid` shows the first test concepts: the ground-truth test image,
then one row per condition and generation mode; :func:`plot_run_grids` writes one per
run, with the shared gt images in one row. :func:`plot_cat_scores` draws the mean CAT
score of every encoder and mode with its 95 % interval, the judge's ceiling and the
chance level. They write PNG files through :func:`~necomimi.utils.atomic.atomic_path`.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402

from necomimi.generation.sidecar import SIDECAR, sidecar_entries
from necomimi.image_study.tables import (  # noqa: E402
    JUDGE_NAMES,
    MODE_NAMES,
    encoder_name,
    paper_row_order,
)
from necomimi.utils.atomic import atomic_path  # noqa: E402

#: Size of one image tile, the margin for the row labels and the column titles.
TILE_INCHES = 1.0
LABEL_INCHES = 1.6
TITLE_INCHES = 0.35
HEADER_INCHES = 0.3
DPI = 100
#: Tiles are downsampled to at most this many pixels per side before plotting.
THUMBNAIL = 128
MODE_ROW_LABELS = {"gt": "gt embedding", "one_stage": "one-stage"}
MODE_ROW_LABELS |= {"two_stage": "two-stage"}
#: The condition label of the gt images' row: they are the same in every condition.
GT_ROW = "every condition"
CAT_SUMMARY_COLUMNS = ("protocol", "encoder", "condition", "mode", "judge", "mean", "ci95")
CAT_SUMMARY_COLUMNS += ("ceiling", "chance")


def concept_name(folder: str) -> str:
    """Strip the leading number of a concept folder: ``00001_aircraft_carrier``."""
    return re.sub(r"^\d+_", "", str(folder))


def _read_sidecar(folder: Path) -> dict[int, dict]:
    """Index -> entry of the ``images`` list of a mode folder's ``images.json``."""
    return {int(entry["index"]): entry for entry in sidecar_entries(folder)}


def _image_file(folder: Path, entries: dict[int, dict], index: int) -> Path:
    if index not in entries:
        raise ValueError(f"{folder}: {SIDECAR} lists no image {index}")
    path = folder / entries[index]["file"]
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: image {index} ({path.name}) is missing")
    return path


def _thumbnail(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        image = image.convert("RGB")
        image.thumbnail((THUMBNAIL, THUMBNAIL))
        return np.asarray(image)


def _indices(concepts: int | Sequence[int], n_images: int) -> list[int]:
    if isinstance(concepts, int | np.integer):
        if concepts < 1:
            raise ValueError(f"concepts must be at least 1, got {concepts}")
        return list(range(min(int(concepts), n_images)))
    indices = [int(i) for i in concepts]
    bad = [i for i in indices if not 0 <= i < n_images]
    if not indices or bad:
        raise ValueError(
            f"concept indices must be in 0..{n_images - 1} "
            f"(one per ground-truth file), got {list(concepts)}"
        )
    return indices


def _grid_rows(
    folders: Mapping[str, Mapping[str, str | Path]], indices: list[int]
) -> list[tuple[str, Path, list[Path], list[str]]]:
    """Per condition and mode: row label, folder, image files and their concepts."""
    rows = []
    for condition, modes in folders.items():
        for mode, folder in modes.items():
            folder = Path(folder)
            entries = _read_sidecar(folder)
            files = [_image_file(folder, entries, i) for i in indices]
            concepts = [str(entries[i].get("concept", "")) for i in indices]
            parts = (f"{condition}:", MODE_ROW_LABELS.get(mode, mode))
            label = "\n".join(textwrap.fill(part, 22) for part in parts)
            rows.append((label, folder, files, concepts))
    return rows


def _column_titles(
    ground_truth: list[Path], rows: list[tuple[str, Path, list[Path], list[str]]]
) -> list[str]:
    """Concept names of the columns, checked against every folder's sidecar.

    From the sidecars, else from the test images' concept folders
    (``00001_aircraft_carrier/...``); a sidecar naming another concept for a column
    than the other sidecars, or than the test image's concept folder, is an error.
    """
    titles: list[str] = []
    for column, path in enumerate(ground_truth):
        folder = path.parent.name
        known = concept_name(folder) if re.match(r"^\d+_", folder) else None
        source = f"the ground-truth image {path}"
        for _, row_folder, _, concepts in rows:
            name = concept_name(concepts[column]) if concepts[column] else None
            if name is None:
                continue
            if known is not None and name != known:
                raise ValueError(
                    f"{row_folder}: image of column {column} is of concept {name!r}, "
                    f"{source} of {known!r}"
                )
            known, source = name, f"{row_folder}/{SIDECAR}"
        titles.append(known if known is not None else path.stem)
    return titles


def grid_figure_size(n_rows: int, n_columns: int, title: bool) -> tuple[float, float]:
    """Return the (width, height) in inches of an image grid."""
    width = LABEL_INCHES + n_columns * TILE_INCHES
    height = HEADER_INCHES + n_rows * TILE_INCHES + (TITLE_INCHES if title else 0)
    return width, height


def _draw_tile(ax, image: np.ndarray) -> None:
    ax.imshow(image)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def plot_image_grid(
    *,
    ground_truth_files: Sequence[str | Path],
    folders: Mapping[str, Mapping[str, str | Path]],
    out_file: str | Path,
    concepts: int | Sequence[int] = 8,
    title: str = "",
) -> None:
    """Write a grid of generated images: concepts as columns, modes as rows.

    Parameters
    ----------
    ground_truth_files : list of path
        ``ground_truth_files[i]`` is the test image of test concept ``i``.
    folders : mapping
        Condition -> (mode -> mode folder), in row order, e.g.
        ``{"original": {"gt": ..., "one_stage": ..., "two_stage": ...}}``. Every
        folder holds ``images.json`` whose ``images`` entries give the ``index``,
        ``concept`` and ``file`` (in the folder) of each generated image.
    out_file : path
        The PNG.
    concepts : int or list of int
        The first ``concepts`` test concepts, or these test indices.
    title : str
        Figure title.

    Raises
    ------
    FileNotFoundError
        For a folder without ``images.json`` or a missing image, naming the folder.
    ValueError
        For indices out of range or an image of another concept than its column.
    """
    ground_truth_files = [Path(p) for p in ground_truth_files]
    if not ground_truth_files:
        raise ValueError("no ground-truth test images given")
    indices = _indices(concepts, len(ground_truth_files))
    ground_truth = [ground_truth_files[i] for i in indices]
    for path in ground_truth:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: ground-truth test image not found")
    rows = _grid_rows(folders, indices)
    titles = _column_titles(ground_truth, rows)
    rows = [("ground truth", None, ground_truth, []), *rows]
    width, height = grid_figure_size(len(rows), len(indices), bool(title))
    fig, axes = plt.subplots(len(rows), len(indices), squeeze=False)
    fig.set_size_inches(width, height)
    top = HEADER_INCHES + (TITLE_INCHES if title else 0)
    fig.subplots_adjust(
        left=LABEL_INCHES / width, right=1, bottom=0, top=1 - top / height
    )
    fig.subplots_adjust(wspace=0.04, hspace=0.04)
    for r, (label, _, files, _) in enumerate(rows):
        for c, path in enumerate(files):
            _draw_tile(axes[r, c], _thumbnail(path))
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    for c, name in enumerate(titles):
        axes[0, c].set_title(textwrap.fill(name, 16), fontsize=6)
    if title:
        fig.suptitle(title, fontsize=9, y=1 - 0.05 / height, va="top")
    _save(fig, out_file)


def plot_run_grids(
    *,
    runs: Sequence[Mapping],
    run_folders: Sequence[Mapping[str, Mapping[str, str | Path]]],
    out_files: Sequence[str | Path],
    ground_truth_files: Sequence[str | Path],
    gt_folder: str | Path | None = None,
    concepts: int | Sequence[int] = 8,
) -> None:
    """Write the image grid of every run (:func:`plot_image_grid`).

    Parameters
    ----------
    runs : list of mapping
        Protocol, encoder, subject and seed of each run (the grid's title).
    run_folders : list of mapping
        Per run, condition -> (mode -> folder) of its generated images.
    out_files : list of path
        Per run, the PNG.
    ground_truth_files : list of path
        The test images, in test order.
    gt_folder : path, optional
        The gt images, the same for every run and condition: one row under the
        ground truth, labelled :data:`GT_ROW`.
    concepts : int or list of int
        As for :func:`plot_image_grid`.
    """
    shared = {GT_ROW: {"gt": gt_folder}} if gt_folder is not None else {}
    for run, folders, out_file in zip(runs, run_folders, out_files, strict=True):
        title = "{encoder} sub-{subject} seed {seed} ({protocol})".format(**run)
        plot_image_grid(ground_truth_files=ground_truth_files, folders={**shared, **folders}, out_file=out_file,
                        concepts=concepts, title=title)  # fmt: skip


def _save(fig, out_file: str | Path) -> None:
    with atomic_path(out_file) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    plt.close(fig)


def _read_cat_scores(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        frame, name = source, "the CAT scores frame"
    else:
        if not Path(source).is_file():
            raise FileNotFoundError(f"{source}: CAT scores file not found")
        frame, name = pd.read_csv(source), str(source)
    missing = [c for c in CAT_SUMMARY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name}: missing column(s) {', '.join(missing)}; expected the columns of "
            f"cat_scores.csv ({', '.join(CAT_SUMMARY_COLUMNS)})"
        )
    return frame


def _cat_panel(ax, panel: pd.DataFrame, modes: list[str]) -> None:
    """Bars per encoder (groups) and mode (colours), the ceiling and chance lines."""
    encoders = []
    for encoder, _ in paper_row_order(zip(panel["encoder"], panel["mode"], strict=True)):
        if encoder not in encoders:
            encoders.append(encoder)
    width = 0.8 / len(modes)
    colours = plt.get_cmap("tab10").colors
    for m, mode in enumerate(modes):
        rows = panel[panel["mode"] == mode].set_index("encoder")
        x = np.arange(len(encoders)) + (m - (len(modes) - 1) / 2) * width
        present = [e in rows.index for e in encoders]
        x, names = x[present], [e for e in encoders if e in rows.index]
        means = rows.loc[names, "mean"].to_numpy(dtype=float)
        errors = np.nan_to_num(rows.loc[names, "ci95"].to_numpy(dtype=float))
        label = MODE_NAMES.get(mode, mode)
        ax.bar(x, means, width, yerr=errors, capsize=2, label=label, color=colours[m])
        chance = rows.loc[names, "chance"].to_numpy(dtype=float)
        ax.hlines(chance, x - width / 2, x + width / 2, colors="k", linestyles=":")
    ceiling = panel["ceiling"].dropna()
    if not ceiling.empty:
        ax.axhline(ceiling.iloc[0], color="grey", linestyle="--", label="ceiling")
    ax.plot([], [], "k:", label="chance")
    ax.set_xticks(np.arange(len(encoders)), [encoder_name(e) for e in encoders])


def plot_cat_scores(
    cat_scores: str | Path | pd.DataFrame, out_file: str | Path, judge: str = "clip"
) -> None:
    """Write a bar chart of the CAT scores, one panel per protocol and condition.

    Bars: the mean score over subjects of each encoder and mode with its 95 % t
    half-width; a dashed line at the judge's ceiling (its score on the ground-truth
    images) and dotted lines at each bar's chance level.

    Parameters
    ----------
    cat_scores : path or pandas.DataFrame
        ``cat_scores.csv`` of :func:`~necomimi.image_study.tables.tabulate_images`.
    out_file : path
        The PNG.
    judge : str
        The judge whose scores are drawn.

    Raises
    ------
    ValueError
        Without the columns of ``cat_scores.csv`` or without rows of ``judge``.
    """
    frame = _read_cat_scores(cat_scores)
    frame = frame[frame["judge"] == judge]
    if frame.empty:
        raise ValueError(f"no CAT scores of the {judge!r} judge to plot")
    panels = sorted({(p, c) for p, c in zip(frame["protocol"], frame["condition"], strict=True)})
    panels.sort(key=lambda pc: (pc[0], pc[1] != "original", pc[1]))
    modes = [m for m in MODE_NAMES if m in set(frame["mode"])]
    modes += sorted(set(frame["mode"]) - set(MODE_NAMES))
    n_encoders = frame["encoder"].nunique()
    size = (max(3.5, 1.0 + 0.8 * n_encoders) * len(panels), 3.8)
    fig, axes = plt.subplots(1, len(panels), figsize=size, sharey=True, squeeze=False)
    several_protocols = len({p for p, _ in panels}) > 1
    for ax, (protocol, condition) in zip(axes[0], panels, strict=True):
        panel = frame[
            (frame["protocol"] == protocol) & (frame["condition"] == condition)
        ]
        _cat_panel(ax, panel, modes)
        ax.set_title(f"{condition} ({protocol})" if several_protocols else condition)
    points = frame["n_points"].dropna() if "n_points" in frame else pd.Series([])
    unit = f" (of {int(points.iloc[0])})" if points.nunique() == 1 else ""
    judge_name = JUDGE_NAMES.get(judge, f"{judge} judge")
    axes[0, 0].set_ylabel(f"CAT score{unit}, {judge_name}")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=7)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    _save(fig, out_file)
