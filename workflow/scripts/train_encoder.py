"""Adapter: rule train_encoder -> necomimi.training.loop.train_encoder."""

import torch

from necomimi.training.loop import train_encoder
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
torch.set_num_threads(snakemake.threads)  # noqa: F821
train_encoder(
    encoder=snakemake.wildcards.encoder,  # noqa: F821
    encoder_kwargs={},
    train_files=list(snakemake.input.train),  # noqa: F821
    test_file=snakemake.input.test,  # noqa: F821
    targets_file=snakemake.input.targets,  # noqa: F821
    out_dir=snakemake.params.out_dir,  # noqa: F821
    seed=int(snakemake.wildcards.seed),  # noqa: F821
    device=snakemake.params.device,  # noqa: F821
    **snakemake.params.options,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
