"""Adapter: rule tabulate_images -> necomimi.image_study.outputs.write_image_study."""

from necomimi.data.things_eeg2 import image_paths
from necomimi.image_study.outputs import write_image_study
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
params, inputs, output = snakemake.params, snakemake.input, snakemake.output  # noqa: F821
write_image_study(
    metric_files=inputs.metrics,
    cat_files=inputs.cat,
    ceiling_file=inputs.ceiling,
    gt_metric_file=next(iter(inputs.gt_metrics), None),
    gt_cat_file=next(iter(inputs.gt_cat), None),
    gt_folder=next(iter(inputs.gt_folder), None),
    runs=params.runs,
    conditions=params.conditions,
    run_folders=params.run_folders,
    ground_truth_files=image_paths(params.image_dir, "test"),
    out_metrics_csv=output.metrics,
    out_cat_csv=output.cat,
    tables={"table3": output.table3, "table4": output.table4, "table5": output.table5, "table_suite": output.suite},
    cat_figure=output.cat_figure,
    grids=params.grids,  # in output.grids, one per run
)
write_provenance(snakemake)  # noqa: F821
