"""Adapter: rule evaluate_retrieval -> necomimi.evaluation.retrieval.evaluate_retrieval, per condition."""

from necomimi.evaluation.retrieval import evaluate_retrieval
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
params, wildcards = snakemake.params, snakemake.wildcards  # noqa: F821
outputs = zip(params.conditions, snakemake.input.features, snakemake.output.retrieval, strict=True)  # noqa: F821
for condition, features, out_file in outputs:
    evaluate_retrieval(
        features_file=features,
        model_file=snakemake.input.model,  # noqa: F821
        targets_file=snakemake.input.targets,  # noqa: F821
        out_file=out_file,
        condition=condition,
        labels={"protocol": wildcards.protocol, "encoder": wildcards.encoder,
                "subject": wildcards.subject, "seed": int(wildcards.seed)},  # fmt: skip
        monte_carlo_draws=params.draws,
        seed=params.seed,
    )
write_provenance(snakemake)  # noqa: F821
