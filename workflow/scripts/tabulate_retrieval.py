"""Adapter: rule tabulate_retrieval -> necomimi.evaluation.tables.tabulate_retrieval."""

from necomimi.evaluation.tables import tabulate_retrieval
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0])  # noqa: F821
output = snakemake.output  # noqa: F821
tabulate_retrieval(
    retrieval_files=list(snakemake.input.retrieval),  # noqa: F821
    history_files=list(snakemake.input.histories),  # noqa: F821
    history_labels=snakemake.params.labels,  # noqa: F821
    out_csv=output.csv,
    table1=output.table1,
    table2=output.table2,
    figure=output.figure,
    html=True,  # table1_html, table2_html
)
write_provenance(snakemake)  # noqa: F821
