# Zero-shot retrieval per run and condition, then the study's tables.


rule evaluate_retrieval:
    input:
        model="results/encoders/{protocol}/{encoder}/sub-{subject}/seed-{seed}/model.pt",
        test="results/preprocessed/sub-{subject}/eeg_test.npy",
        targets="results/targets/clip_targets.h5",
    output:
        "results/retrieval/{protocol}/{encoder}/sub-{subject}/seed-{seed}/{condition}.csv",
    params:
        channels=lambda wildcards: config["conditions"][wildcards.condition],
        draws=config["retrieval"]["monte_carlo_draws"],
        seed=config["retrieval"]["seed"],
    log:
        "logs/evaluate_retrieval/{protocol}_{encoder}_sub-{subject}_seed-{seed}_{condition}.log",
    benchmark:
        "benchmarks/evaluate_retrieval/{protocol}_{encoder}_sub-{subject}_seed-{seed}_{condition}.tsv"
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/evaluate_retrieval.py"


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
