"""Adapter: rule extract_features -> necomimi.generation.features.extract_features, per condition."""

import os

from necomimi.generation.features import extract_features
from necomimi.preprocessing.outputs import read_channel_names
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
params = snakemake.params  # noqa: F821
ch_names = read_channel_names(snakemake.input.info)  # noqa: F821
for (condition, channels), test_features in zip(params.conditions.items(), snakemake.output.test, strict=True):  # noqa: F821
    extract_features(
        model_file=snakemake.input.model,  # noqa: F821
        train_files=list(snakemake.input.train),  # noqa: F821
        test_file=snakemake.input.test,  # noqa: F821
        out_dir=os.path.dirname(test_features),
        channels=channels,
        seed=params.seed,
        batch_size=params.batch_size,
        device=params.device,
        ch_names=ch_names,
    )
write_provenance(snakemake)  # noqa: F821
