"""Adapter: rule preprocess_subject -> necomimi.preprocessing.preprocess_subject."""

from necomimi.preprocessing import preprocess_subject
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
preprocess_subject(
    snakemake.params.raw_dir,  # noqa: F821
    snakemake.params.out_dir,  # noqa: F821
    **snakemake.params.options,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
