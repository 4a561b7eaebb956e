"""Adapter: rule tabulate_ablations -> necomimi.conditions.ablations.tabulate_ablations."""

from necomimi.conditions.ablations import tabulate_ablations
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0])  # noqa: F821
output = snakemake.output  # noqa: F821
tabulate_ablations(
    retrieval_file=snakemake.input.retrieval,  # noqa: F821
    image_metrics_files=list(snakemake.input.image_metrics),  # noqa: F821
    conditions=dict(snakemake.params.conditions),  # noqa: F821
    out_csv=output.csv,
    out_markdown=output.table,
    out_figure=output.figure,
    html=True,  # table_html
)
write_provenance(snakemake)  # noqa: F821
