"""Adapter: rule build_demo_decoder -> necomimi.generation.demo_decoder.build_demo_decoder."""

from necomimi.generation.demo_decoder import build_demo_decoder
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
build_demo_decoder(
    snakemake.output.sdxl_turbo,  # noqa: F821
    snakemake.output.ip_adapter,  # noqa: F821
    image_embed_dim=snakemake.params.image_embed_dim,  # noqa: F821
    image_size=snakemake.params.image_size,  # noqa: F821
    seed=snakemake.params.seed,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
