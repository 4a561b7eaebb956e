"""The image grid of a run and the CAT-score bar chart."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from necomimi.image_study.figures import (
    DPI,
    TILE_INCHES,
    grid_figure_size,
    plot_cat_scores,
    plot_image_grid,
    plot_run_grids,
)

CONCEPTS = ("00001_aircraft_carrier", "00002_antelope", "00003_backscratcher")
CONCEPTS += ("00004_balance_beam", "00005_banana")
MODES = ("gt", "one_stage", "two_stage")


def _png(path, colour, size=(24, 24)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def _ground_truth(tmp_path):
    """THINGS-EEG2 layout: one folder per test concept, one image in each."""
    return [
        _png(
            tmp_path / "test_images" / c / f"{c.split('_', 1)[1]}_01b.jpg",
            (i * 40, 0, 0),
        )
        for i, c in enumerate(CONCEPTS)
    ]


def _mode_folder(folder, mode):
    """Write a generated mode folder: ``NNN_<concept>.png`` and ``images.json``."""
    entries = []
    for i, concept in enumerate(CONCEPTS):
        name = f"{i:03d}_{concept.split('_', 1)[1]}.png"
        _png(folder / name, (0, i * 40, MODES.index(mode) * 100))
        entries.append({"index": i, "concept": concept, "file": name, "seed": i})
    sidecar = {"mode": mode, "images": entries}
    (folder / "images.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return folder


def _folders(tmp_path, conditions):
    return {
        condition: {m: _mode_folder(tmp_path / condition / m, m) for m in MODES}
        for condition in conditions
    }


def _pixels(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        return image.size


def test_grid_has_one_row_per_condition_and_mode(tmp_path):
    """Rows: ground truth, then condition x mode; the size follows the grid."""
    ground_truth = _ground_truth(tmp_path)
    one = tmp_path / "one.png"
    plot_image_grid(
        ground_truth_files=ground_truth,
        folders=_folders(tmp_path, ["original"]),
        out_file=one,
        concepts=4,
    )
    two = tmp_path / "figures" / "two.png"
    folders = _folders(tmp_path, ["original", "perturbed_visual"])
    plot_image_grid(
        ground_truth_files=ground_truth, folders=folders, out_file=two, concepts=4
    )
    (w1, h1), (w2, h2) = _pixels(one), _pixels(two)
    expected = [round(x * DPI) for x in grid_figure_size(1 + 3, 4, False)]
    assert (w1, h1) == pytest.approx(expected, abs=1)
    assert w2 == w1 and h2 - h1 == pytest.approx(3 * TILE_INCHES * DPI, abs=1)
    assert (w2, h2) == pytest.approx(
        [round(x * DPI) for x in grid_figure_size(1 + 6, 4, False)], abs=1
    )
    # Fewer concepts -> narrower; a title adds height; more concepts than images
    # -> all of them.
    three = tmp_path / "three.png"
    plot_image_grid(
        ground_truth_files=ground_truth,
        folders=folders,
        out_file=three,
        concepts=[4, 0],
        title="sub-01 seed 0",
    )
    w3, h3 = _pixels(three)
    assert w3 < w2 and h3 > h2
    many = tmp_path / "many.png"
    plot_image_grid(ground_truth_files=ground_truth, folders={}, out_file=many)
    expected = [round(x * DPI) for x in grid_figure_size(1, len(CONCEPTS), False)]
    assert _pixels(many) == pytest.approx(expected, abs=1)


def test_grid_errors_name_the_folder(tmp_path):
    """A missing image or sidecar is reported with its folder."""
    ground_truth = _ground_truth(tmp_path)
    folders = _folders(tmp_path, ["original"])
    out = tmp_path / "grid.png"
    broken = folders["original"]["two_stage"]
    (broken / "002_backscratcher.png").unlink()
    with pytest.raises(
        FileNotFoundError, match=rf"{broken}: image 2 \(002_backscratcher"
    ):
        plot_image_grid(ground_truth_files=ground_truth, folders=folders, out_file=out)
    # The first two concepts do not need the missing image.
    plot_image_grid(
        ground_truth_files=ground_truth, folders=folders, out_file=out, concepts=2
    )
    assert out.is_file()
    (folders["original"]["gt"] / "images.json").unlink()
    with pytest.raises(
        FileNotFoundError, match=rf"{folders['original']['gt']}/images\.json: missing"
    ):
        plot_image_grid(ground_truth_files=ground_truth, folders=folders, out_file=out)
    with pytest.raises(ValueError, match=r"indices must be in 0\.\.4"):
        plot_image_grid(
            ground_truth_files=ground_truth, folders={}, out_file=out, concepts=[5]
        )


def test_grid_refuses_an_image_of_another_concept(tmp_path):
    """A sidecar naming another concept than the column's is an error."""
    ground_truth = _ground_truth(tmp_path)
    folders = _folders(tmp_path, ["original"])
    folder = folders["original"]["one_stage"]
    sidecar = json.loads((folder / "images.json").read_text())
    sidecar["images"][1]["concept"] = "00007_bear"
    (folder / "images.json").write_text(json.dumps(sidecar))
    with pytest.raises(
        ValueError, match=rf"{folder}: image of column 1 is of concept 'bear'"
    ):
        plot_image_grid(
            ground_truth_files=ground_truth,
            folders=folders,
            out_file=tmp_path / "g.png",
            concepts=3,
        )


def _cat_scores(conditions):
    rows = []
    for condition in conditions:
        for encoder in ("nerv", "atms"):
            for m, mode in enumerate(MODES):
                rows.append(
                    {"protocol": "intra", "encoder": encoder, "condition": condition}
                    | {"mode": mode, "judge": "clip", "sub-01": 40.0 + m}
                    | {"mean": 40.0 + m, "ci95": np.nan if m == 0 else 2.0}
                    | {"n_points": 100, "ceiling": 78.0, "chance": 17.5}
                )
    return pd.DataFrame(rows)


def test_cat_score_chart_one_panel_per_condition(tmp_path):
    """One panel per condition; no rows of the judge is an error."""
    csv = tmp_path / "cat_scores.csv"
    _cat_scores(["original", "perturbed_visual"]).to_csv(csv, index=False)
    two = tmp_path / "two.png"
    plot_cat_scores(csv, two)
    one = tmp_path / "one.png"
    plot_cat_scores(_cat_scores(["original"]), one)
    (w1, h1), (w2, h2) = _pixels(one), _pixels(two)
    assert h1 == h2 and w2 == pytest.approx(2 * w1, abs=2)
    with pytest.raises(ValueError, match="no CAT scores of the 'human' judge"):
        plot_cat_scores(csv, tmp_path / "human.png", judge="human")
    with pytest.raises(ValueError, match=r"missing column\(s\) ci95"):
        plot_cat_scores(_cat_scores(["original"]).drop(columns="ci95"), one)


def test_run_grids_show_the_shared_gt_images_once_under_the_ground_truth(tmp_path):
    ground_truth = _ground_truth(tmp_path)
    gt = _mode_folder(tmp_path / "gt", "gt")
    runs = [{"protocol": "intra", "encoder": e, "subject": "01", "seed": 0} for e in ("nerv", "nice")]
    run_folders = [
        {c: {m: _mode_folder(tmp_path / e / c / m, m) for m in MODES[1:]} for c in ("original", "perturbed_visual")}
        for e in ("nerv", "nice")
    ]  # fmt: skip
    grids = [tmp_path / "grids" / f"{e}.png" for e in ("nerv", "nice")]
    plot_run_grids(runs=runs, run_folders=run_folders, out_files=grids, ground_truth_files=ground_truth,
                   gt_folder=gt, concepts=3)  # fmt: skip
    # ground truth, the gt images once, then 2 conditions x 2 modes; with a title
    expected = [round(x * DPI) for x in grid_figure_size(1 + 1 + 4, 3, True)]
    for grid in grids:
        assert _pixels(grid) == pytest.approx(expected, abs=1)
    plot_run_grids(runs=runs[:1], run_folders=run_folders[:1], out_files=grids[:1], ground_truth_files=ground_truth,
                   concepts=3)  # fmt: skip
    assert _pixels(grids[0]) == pytest.approx([round(x * DPI) for x in grid_figure_size(1 + 4, 3, True)], abs=1)
