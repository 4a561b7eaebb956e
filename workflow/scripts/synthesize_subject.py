"""Adapter: rule synthesize_subject -> necomimi.data.synthetic.write_subject_raw."""

from necomimi.data.synthetic import SyntheticSpec, write_subject_raw
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
write_subject_raw(
    snakemake.params.root,  # noqa: F821
    SyntheticSpec(**snakemake.params.spec),  # noqa: F821
    snakemake.wildcards.subject,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
