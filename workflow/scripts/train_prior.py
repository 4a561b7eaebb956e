"""Adapter: rule train_prior -> necomimi.generation.prior.train_prior."""

from necomimi.generation.prior import train_prior
from necomimi.utils.job_log import log_job

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
train_prior(
    features_file=snakemake.input.features,  # noqa: F821
    targets_file=snakemake.input.targets,  # noqa: F821
    out_file=snakemake.output.prior,  # noqa: F821
    history_file=snakemake.output.history,  # noqa: F821
    device=snakemake.params.device,  # noqa: F821
    **snakemake.params.options,  # noqa: F821
)
