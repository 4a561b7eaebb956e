"""Adapter: rule import_preprocessed -> necomimi.preprocessing.legacy.import_legacy_subject."""

from necomimi.preprocessing.legacy import import_legacy_subject
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
import_legacy_subject(
    snakemake.input.training,  # noqa: F821
    snakemake.input.test,  # noqa: F821
    snakemake.params.out_dir,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
