"""Adapter: rule tabulate_images -> necomimi.evaluation.image_tables and image_figures."""

from pathlib import Path

from necomimi.data.things_eeg2 import image_paths
from necomimi.evaluation.html_tables import write_html_table
from necomimi.evaluation.image_figures import plot_cat_scores, plot_image_grid
from necomimi.evaluation.image_tables import tabulate_images
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
params, output = snakemake.params, snakemake.output  # noqa: F821
tabulate_images(
    metric_files=snakemake.input.metrics,  # noqa: F821
    cat_files=snakemake.input.cat,  # noqa: F821
    ceiling_file=snakemake.input.ceiling,  # noqa: F821
    out_metrics_csv=output.metrics,
    out_cat_csv=output.cat,
    table3=output.table3,
    table4=output.table4,
    table5=output.table5,
    table_suite=output.suite,
)
for name in ("table3", "table4", "table5", "suite"):
    write_html_table(output[name], output[f"{name}_html"])
plot_cat_scores(output.cat, output.cat_figure)
ground_truth = image_paths(params.image_dir, "test")
grids = [Path(output.grids, name) for name in params.grids]  # one per run
for run, folders, grid in zip(params.runs, params.run_folders, grids, strict=True):
    plot_image_grid(ground_truth_files=ground_truth, folders=folders, out_file=grid, concepts=params.concepts,
                    title="{encoder} sub-{subject} seed {seed} ({protocol})".format(**run))  # fmt: skip
write_provenance(snakemake)  # noqa: F821
