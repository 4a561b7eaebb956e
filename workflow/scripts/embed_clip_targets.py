"""Adapter: rule embed_clip_targets -> necomimi.clip.targets.embed_targets."""

from necomimi.clip.targets import embed_targets
from necomimi.data.things_meg import image_set_lists, read_things_images
from necomimi.utils.job_log import log_job
from necomimi.utils.provenance import write_provenance

log_job(snakemake.log[0], snakemake.params)  # noqa: F821
things_tables = {key: snakemake.input.get(key) for key in ("image_paths", "image_concept_index")}  # noqa: F821
embed_targets(
    snakemake.params.image_dir,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    batch_size=snakemake.params.batch_size,  # noqa: F821
    device=snakemake.params.device,  # noqa: F821
    # THINGS-MEG: in the arrays' image-number order; THINGS-EEG2: condition order.
    image_lists=image_set_lists(snakemake.params.image_dir, read_things_images(**things_tables))  # noqa: F821
    if all(things_tables.values())
    else None,
    **snakemake.params.clip,  # noqa: F821
)
write_provenance(snakemake)  # noqa: F821
