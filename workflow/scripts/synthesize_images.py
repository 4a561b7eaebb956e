"""Adapter: rule synthesize_images -> necomimi.data.synthetic.write_image_set."""

from necomimi.data.synthetic import SyntheticSpec, write_image_set
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
write_image_set(snakemake.params.root, SyntheticSpec(**snakemake.params.spec))  # noqa: F821
write_provenance(snakemake)  # noqa: F821
