"""Adapter: rule synthesize_meg -> necomimi.data.synthetic.meg_writer.write_meg_dataset."""

from necomimi.data.synthetic.meg_spec import SyntheticMegSpec
from necomimi.data.synthetic.meg_writer import write_meg_dataset
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
write_meg_dataset(
    snakemake.params.root,  # noqa: F821
    SyntheticMegSpec(**snakemake.params.spec),  # noqa: F821
    snakemake.params.participants,  # noqa: F821
    derivatives=False,
)
write_provenance(snakemake)  # noqa: F821
