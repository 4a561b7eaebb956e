"""The workflow tests: Snakemake on the demo study, end to end, locally and on SLURM."""
