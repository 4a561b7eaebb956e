"""Adapter: rule extract_features -> necomimi.generation.features.extract_run_features."""

from necomimi.generation.features import extract_run_features
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
params = snakemake.params  # noqa: F821
extract_run_features(
    conditions=params.conditions,
    out_test_files=snakemake.output.test,  # noqa: F821  (eeg_train.pt beside each)
    info_file=snakemake.input.info,  # noqa: F821
    model_file=snakemake.input.model,  # noqa: F821
    train_files=list(snakemake.input.train),  # noqa: F821
    test_file=snakemake.input.test,  # noqa: F821
    seed=params.seed,
    batch_size=params.batch_size,
    device=params.device,
)
write_provenance(snakemake)  # noqa: F821
