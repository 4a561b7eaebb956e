"""Adapter: rule train_prior -> necomimi.generation.prior.train_run_priors."""

from necomimi.generation.prior import train_run_priors
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
train_run_priors(
    features_files=snakemake.input.features,  # noqa: F821
    out_files=snakemake.output.prior,  # noqa: F821
    history_files=snakemake.output.history,  # noqa: F821
    targets_file=snakemake.input.targets,  # noqa: F821
    device=snakemake.params.device,  # noqa: F821
    **snakemake.params.options,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
