"""Adapter: rule evaluate_retrieval -> necomimi.evaluation.retrieval.evaluate_run_retrieval."""

from necomimi.evaluation.retrieval import evaluate_run_retrieval
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
params, wildcards = snakemake.params, snakemake.wildcards  # noqa: F821
evaluate_run_retrieval(
    conditions=params.conditions,
    features_files=snakemake.input.features,  # noqa: F821
    out_files=snakemake.output.retrieval,  # noqa: F821
    model_file=snakemake.input.model,  # noqa: F821
    targets_file=snakemake.input.targets,  # noqa: F821
    labels={"protocol": wildcards.protocol, "encoder": wildcards.encoder,
            "subject": wildcards.subject, "seed": int(wildcards.seed)},  # fmt: skip
    monte_carlo_draws=params.draws,
    seed=params.seed,
)
write_provenance(snakemake)  # noqa: F821
