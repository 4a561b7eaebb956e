"""Adapter: rule tabulate_retrieval -> necomimi.evaluation.tables.tabulate_retrieval."""

from necomimi.evaluation.tables import tabulate_retrieval
from necomimi.utils.job_log import log_job

log_job(snakemake.log[0])  # noqa: F821
tabulate_retrieval(
    retrieval_files=list(snakemake.input.retrieval),  # noqa: F821
    history_files=list(snakemake.input.histories),  # noqa: F821
    history_labels=snakemake.params.labels,  # noqa: F821
    out_csv=snakemake.output.csv,  # noqa: F821
    table1=snakemake.output.table1,  # noqa: F821
    table2=snakemake.output.table2,  # noqa: F821
    figure=snakemake.output.figure,  # noqa: F821
)
