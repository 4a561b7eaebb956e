"""Adapter: rule build_demo_clip -> necomimi.clip.demo_model.train_demo_clip."""

from necomimi.clip.demo_model import train_demo_clip
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
train_demo_clip(
    snakemake.params.image_dir,  # noqa: F821
    snakemake.input.factors,  # noqa: F821
    snakemake.params.out_dir,  # noqa: F821
    image_size=snakemake.params.image_size,  # noqa: F821
    **snakemake.params.options,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
