"""Adapter: rule score_gt_images -> necomimi.image_study.scores.score_gt_images."""

from necomimi.data.things_eeg2 import image_paths
from necomimi.image_study.scores import score_gt_images
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
params, output = snakemake.params, snakemake.output  # noqa: F821
score_gt_images(
    folder=snakemake.input.folder,  # noqa: F821
    ground_truth_files=image_paths(params.image_dir, "test"),
    tag_table=snakemake.input.tags,  # noqa: F821
    clip=params.clip,
    networks=params.networks,
    cat=params.cat,
    out_metrics=output.metrics,
    out_cat=output.cat,
    verdict_file=output.verdicts,
    ratings_file=params.ratings,
    device=params.device,
    batch_size=snakemake.config["metrics"]["batch_size"],  # noqa: F821  (not a param: it changes no result)
)
write_provenance(snakemake)  # noqa: F821
