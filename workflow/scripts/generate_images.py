"""Adapter: rule generate_images -> necomimi.generation.images.generate_images."""

from necomimi.generation.images import MODES, generate_images
from necomimi.utils.job_log import log_job

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
wildcards = snakemake.wildcards  # noqa: F821
generate_images(
    targets_file=snakemake.input.targets,  # noqa: F821
    features_file=snakemake.input.features,  # noqa: F821
    prior_file=snakemake.input.prior or None,  # noqa: F821
    weights_record=snakemake.input.weights_record,  # noqa: F821
    out_dirs={mode: getattr(snakemake.output, mode) for mode in MODES if hasattr(snakemake.output, mode)},  # noqa: F821
    run={"protocol": wildcards.protocol, "encoder": wildcards.encoder, "subject": wildcards.subject,
         "seed": int(wildcards.seed), "condition": wildcards.condition},  # fmt: skip
    seed=snakemake.params.seed,  # noqa: F821
    decoder=snakemake.params.decoder,  # noqa: F821
    prior_sampling=snakemake.params.prior_sampling,  # noqa: F821
    device=snakemake.params.device,  # noqa: F821
)
