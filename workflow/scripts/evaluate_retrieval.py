"""Adapter: rule evaluate_retrieval -> necomimi.evaluation.retrieval.evaluate_retrieval."""

from necomimi.evaluation.retrieval import evaluate_retrieval
from necomimi.utils.job_log import log_job

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
wildcards = snakemake.wildcards  # noqa: F821
evaluate_retrieval(
    model_file=snakemake.input.model,  # noqa: F821
    test_file=snakemake.input.test,  # noqa: F821
    targets_file=snakemake.input.targets,  # noqa: F821
    out_file=snakemake.output[0],  # noqa: F821
    condition=wildcards.condition,
    channels=snakemake.params.channels,  # noqa: F821
    labels={"protocol": wildcards.protocol, "encoder": wildcards.encoder,
            "subject": wildcards.subject, "seed": int(wildcards.seed)},  # fmt: skip
    monte_carlo_draws=snakemake.params.draws,  # noqa: F821
    seed=snakemake.params.seed,  # noqa: F821
)
