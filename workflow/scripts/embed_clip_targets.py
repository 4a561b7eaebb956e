"""Adapter: rule embed_clip_targets -> necomimi.clip.targets.embed_targets."""

from necomimi.clip.targets import embed_targets
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
embed_targets(
    snakemake.params.image_dir,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    batch_size=snakemake.params.batch_size,  # noqa: F821
    device=snakemake.params.device,  # noqa: F821
    **snakemake.params.clip,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
