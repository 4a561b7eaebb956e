# The study's retrieval tables (the per-run retrieval comes with the features, features.smk).


rule tabulate_retrieval:
    input:
        retrieval=retrieval_files(),
        histories=history_files(),
    output:
        csv="results/retrieval.csv",
        table1="results/tables/retrieval_table1.md",
        table2="results/tables/retrieval_table2.md",
        figure="results/figures/selection_accuracy.png",
    params:
        labels=RUNS,
    log:
        "logs/tabulate_retrieval.log",
    localrule: True
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/tabulate_retrieval.py"
