"""Adapter: rule record_decoder_weights -> necomimi.generation.decoder.record_decoder_weights."""

from necomimi.generation.decoder import record_decoder_weights
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
record_decoder_weights(
    snakemake.input.sdxl_turbo,  # noqa: F821
    snakemake.input.ip_adapter,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    variant=snakemake.params.variant,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
