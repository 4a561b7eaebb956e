"""Adapter: rule extract_features -> necomimi.generation.features.extract_features."""

from necomimi.generation.features import extract_features
from necomimi.utils.job_log import log_job

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
extract_features(
    model_file=snakemake.input.model,  # noqa: F821
    train_files=list(snakemake.input.train),  # noqa: F821
    test_file=snakemake.input.test,  # noqa: F821
    out_dir=snakemake.params.out_dir,  # noqa: F821
    channels=snakemake.params.channels,  # noqa: F821
    seed=snakemake.params.seed,  # noqa: F821
    batch_size=snakemake.params.batch_size,  # noqa: F821
    device=snakemake.params.device,  # noqa: F821
)
