"""Adapter: rule generate_gt_images -> necomimi.generation.images.generate_gt_images."""

from necomimi.generation.images import generate_gt_images
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
generate_gt_images(
    targets_file=snakemake.input.targets,  # noqa: F821
    weights_record=snakemake.input.weights_record,  # noqa: F821
    out_dir=snakemake.output.folder,  # noqa: F821
    seed=snakemake.params.seed,  # noqa: F821
    decoder=snakemake.params.decoder,  # noqa: F821
    device=snakemake.params.device,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
