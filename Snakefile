# The workflow lives in workflow/Snakefile (Snakemake's standard layout); this shim
# lets `snakemake` run from the repository root. It is the `include:` directive in its
# explicit form: the directive restores the including file's default target afterwards,
# which would drop workflow/Snakefile's `rule all` and leave `snakemake` nothing to do.
workflow.include("workflow/Snakefile", overwrite_default_target=True)
