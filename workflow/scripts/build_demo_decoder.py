"""Adapter: rule build_demo_decoder -> necomimi.generation.demo_decoder.train_demo_decoder."""

from necomimi.generation.demo_decoder import train_demo_decoder
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
train_demo_decoder(
    snakemake.output.sdxl_turbo,  # noqa: F821
    snakemake.output.ip_adapter,  # noqa: F821
    image_dir=snakemake.params.image_dir,  # noqa: F821
    targets_file=snakemake.input.targets,  # noqa: F821
    **snakemake.params.training,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
