"""Adapter: rule judge_ground_truth -> necomimi.image_study.scores.judge_ground_truth."""

from necomimi.data.things_eeg2 import image_paths
from necomimi.image_study.scores import judge_ground_truth
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
judge_ground_truth(
    ground_truth_files=image_paths(snakemake.params.image_dir, "test"),  # noqa: F821
    tag_table=snakemake.input.tags,  # noqa: F821
    clip=snakemake.params.clip,  # noqa: F821
    cat=snakemake.params.cat,  # noqa: F821
    out_scores=snakemake.output.scores,  # noqa: F821
    out_verdicts=snakemake.output.verdicts,  # noqa: F821
    device=snakemake.params.device,  # noqa: F821
    batch_size=snakemake.config["metrics"]["batch_size"],  # noqa: F821  (not a param: it changes no result)
)
write_provenance(snakemake)  # noqa: F821
