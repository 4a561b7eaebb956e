"""Adapter: rule extract_features -> necomimi extract_features and evaluate_retrieval, per condition."""

import os

from necomimi.evaluation.retrieval import evaluate_retrieval
from necomimi.generation.features import extract_features
from necomimi.utils.job_log import log_job

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
params, output, wildcards = snakemake.params, snakemake.output, snakemake.wildcards  # noqa: F821
outputs = zip(params.conditions.items(), output.test, output.retrieval, strict=True)
for (condition, channels), test_features, retrieval in outputs:
    extract_features(
        model_file=snakemake.input.model,  # noqa: F821
        train_files=list(snakemake.input.train),  # noqa: F821
        test_file=snakemake.input.test,  # noqa: F821
        out_dir=os.path.dirname(test_features),
        channels=channels,
        seed=params.seed,
        batch_size=params.batch_size,
        device=params.device,
    )
    evaluate_retrieval(
        features_file=test_features,
        model_file=snakemake.input.model,  # noqa: F821
        targets_file=snakemake.input.targets,  # noqa: F821
        out_file=retrieval,
        condition=condition,
        labels={"protocol": wildcards.protocol, "encoder": wildcards.encoder,
                "subject": wildcards.subject, "seed": int(wildcards.seed)},  # fmt: skip
        monte_carlo_draws=params.draws,
        seed=params.retrieval_seed,
    )
