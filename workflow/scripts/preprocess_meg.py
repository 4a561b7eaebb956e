"""Adapter: rule preprocess_meg -> necomimi.preprocessing.meg_derivative.preprocess_meg_derivative."""

from necomimi.preprocessing.meg_derivative import preprocess_meg_derivative
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
preprocess_meg_derivative(
    snakemake.params.derivative,  # noqa: F821
    snakemake.params.out_dir,  # noqa: F821
    image_paths=snakemake.input.image_paths,  # noqa: F821
    image_concept_index=snakemake.input.image_concept_index,  # noqa: F821
    image_dir=snakemake.params.image_dir,  # noqa: F821
    expect_real_counts=snakemake.params.expect_real_counts,  # noqa: F821
    **snakemake.params.options,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
