"""Adapter: rule train_prior -> necomimi.generation.prior.train_prior, per condition."""

from necomimi.generation.prior import train_prior
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
outputs = zip(snakemake.input.features, snakemake.output.prior, snakemake.output.history, strict=True)  # noqa: F821
for features, prior, history in outputs:
    train_prior(
        features_file=features,
        targets_file=snakemake.input.targets,  # noqa: F821
        out_file=prior,
        history_file=history,
        device=snakemake.params.device,  # noqa: F821
        **snakemake.params.options,  # noqa: F821
    )
write_provenance(snakemake)  # noqa: F821
