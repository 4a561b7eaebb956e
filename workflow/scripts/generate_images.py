"""Adapter: rule generate_images -> necomimi.generation.images.generate_images."""

from necomimi.generation.images import generate_images
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
wildcards, params = snakemake.wildcards, snakemake.params  # noqa: F821
generate_images(
    targets_file=snakemake.input.targets,  # noqa: F821
    weights_record=snakemake.input.weights_record,  # noqa: F821
    conditions=params.conditions,
    modes=params.modes,
    features_files=snakemake.input.features,  # noqa: F821
    prior_files=snakemake.input.prior or None,  # noqa: F821
    out_dirs=snakemake.output.folders,  # noqa: F821  (condition-major, then mode)
    run={"protocol": wildcards.protocol, "encoder": wildcards.encoder, "subject": wildcards.subject,
         "seed": int(wildcards.seed)},  # fmt: skip
    seed=params.seed,
    decoder=params.decoder,
    prior_sampling=params.prior_sampling,
    device=params.device,
)
write_provenance(snakemake)  # noqa: F821
