"""The study's image outputs in one call: tables, their HTML twins, the CAT figure, the grids.

:func:`write_image_study` is what rule ``tabulate_images`` runs: the tables of
:func:`~necomimi.image_study.tables.tabulate_images`, the CAT chart of
:func:`~necomimi.image_study.figures.plot_cat_scores` and one image grid per run
(:func:`~necomimi.image_study.figures.plot_run_grids`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from necomimi.image_study.figures import plot_cat_scores, plot_run_grids
from necomimi.image_study.tables import tabulate_images


def write_image_study(
    *,
    metric_files: Sequence[str | Path],
    cat_files: Sequence[str | Path],
    ceiling_file: str | Path,
    gt_metric_file: str | Path | None,
    gt_cat_file: str | Path | None,
    gt_folder: str | Path | None,
    runs: Sequence[Mapping],
    conditions: Sequence[str],
    run_folders: Sequence[Mapping[str, Mapping[str, str | Path]]],
    ground_truth_files: Sequence[str | Path],
    out_metrics_csv: str | Path,
    out_cat_csv: str | Path,
    tables: Mapping[str, str | Path],
    cat_figure: str | Path,
    grids: Sequence[str | Path],
    concepts: int = 8,
) -> None:
    """Write the study's image tables (with HTML twins), the CAT chart and the run grids.

    Parameters
    ----------
    metric_files, cat_files, ceiling_file, gt_metric_file, gt_cat_file, runs, conditions
        As for :func:`~necomimi.image_study.tables.tabulate_images`; the gt files
        and ``gt_folder`` are None where the study makes no gt images.
    gt_folder : path or None
        The gt images, shown in every grid.
    run_folders : list of mapping
        Per run (in ``runs`` order), condition -> (mode -> folder) of its images.
    ground_truth_files : list of path
        The test images, in test order.
    out_metrics_csv, out_cat_csv : path
        ``image_metrics.csv`` and ``cat_scores.csv``.
    tables : mapping
        ``table3``, ``table4``, ``table5`` and ``table_suite``: markdown files, each
        with its HTML twin written beside it.
    cat_figure : path
        The CAT chart (PNG).
    grids : list of path
        Per run, its grid (PNG).
    concepts : int
        Test concepts (columns) per grid.
    """
    tabulate_images(metric_files=metric_files, cat_files=cat_files, ceiling_file=ceiling_file,
                    out_metrics_csv=out_metrics_csv, out_cat_csv=out_cat_csv, gt_metric_file=gt_metric_file,
                    gt_cat_file=gt_cat_file, runs=runs, conditions=conditions, html=True, **tables)  # fmt: skip
    plot_cat_scores(out_cat_csv, cat_figure)
    plot_run_grids(runs=runs, run_folders=run_folders, out_files=grids, ground_truth_files=ground_truth_files,
                   gt_folder=gt_folder, concepts=concepts)  # fmt: skip
