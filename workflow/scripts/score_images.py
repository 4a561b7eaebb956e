"""Adapter: rule score_images -> necomimi.evaluation.image_scores.score_run_images."""

from necomimi.data.things_eeg2 import image_paths
from necomimi.evaluation.image_scores import score_run_images
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
params, wildcards = snakemake.params, snakemake.wildcards  # noqa: F821
groups = [tuple(group) for group in params.groups]
score_run_images(
    image_folders=dict(zip(groups, snakemake.input.folders, strict=True)),  # noqa: F821
    ground_truth_files=image_paths(params.image_dir, "test"),
    tag_table=snakemake.input.tags,  # noqa: F821
    clip=params.clip,
    networks=params.networks,
    cat=params.cat,
    run={"protocol": wildcards.protocol, "encoder": wildcards.encoder, "subject": wildcards.subject,
         "seed": int(wildcards.seed)},  # fmt: skip
    out_metrics=snakemake.output.metrics,  # noqa: F821
    out_cat=snakemake.output.cat,  # noqa: F821
    verdict_files=dict(zip(groups, snakemake.output.verdicts, strict=True)),  # noqa: F821
    ratings_files={tuple(key.split("/")): path for key, path in params.ratings.items()},
    device=params.device,
    batch_size=snakemake.config["metrics"]["batch_size"],  # noqa: F821  (not a param: it changes no result)
)
write_provenance(snakemake)  # noqa: F821
