"""Adapter: rule meg_derivative_from_raw -> necomimi.preprocessing.meg_raw.derivative_from_raw."""

from necomimi.preprocessing.meg_raw import derivative_from_raw
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
derivative_from_raw(
    snakemake.params.bids_root,  # noqa: F821
    snakemake.params.participant,  # noqa: F821
    snakemake.params.path,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
