"""Adapter: rule score_images -> necomimi.image_study.scores.score_run_images."""

from necomimi.data.things_eeg2 import image_paths
from necomimi.image_study.scores import score_run_images
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
params, wildcards = snakemake.params, snakemake.wildcards  # noqa: F821
score_run_images(
    groups=params.groups,
    image_folders=snakemake.input.folders,  # noqa: F821
    ground_truth_files=image_paths(params.image_dir, "test"),
    tag_table=snakemake.input.tags,  # noqa: F821
    clip=params.clip,
    networks=params.networks,
    cat=params.cat,
    run={"protocol": wildcards.protocol, "encoder": wildcards.encoder, "subject": wildcards.subject,
         "seed": int(wildcards.seed)},  # fmt: skip
    out_metrics=snakemake.output.metrics,  # noqa: F821
    out_cat=snakemake.output.cat,  # noqa: F821
    verdict_files=snakemake.output.verdicts,  # noqa: F821
    ratings_files=params.ratings,
    device=params.device,
    batch_size=snakemake.config["metrics"]["batch_size"],  # noqa: F821  (not a param: it changes no result)
)
write_provenance(snakemake)  # noqa: F821
