# EEG features of each trained encoder in every condition (SPEC.md 6.1 and 6.5), and
# their zero-shot retrieval (SPEC.md 5), one job per run each. Retrieval scores the
# same test features that the one-stage images render, so both see the same noise in
# a perturbed condition; its settings rerun only the retrieval.


rule extract_features:
    input:
        model=f"results/encoders/{RUN}/model.pt",
        train=training_eeg,
        test="results/preprocessed/sub-{subject}/eeg_test.npy",
    output:
        train=for_conditions(f"results/features/{RUN}/{{condition}}/eeg_train.pt"),
        test=for_conditions(f"results/features/{RUN}/{{condition}}/eeg_test.pt"),
        provenance=f"results/provenance/extract_features/{RUN_NAME}.json",
    params:
        conditions=config["conditions"],
        batch_size=config["features"]["batch_size"],
        seed=config["features"]["seed"],
        device=config["device"],
    log:
        f"logs/extract_features/{RUN_NAME}.log",
    benchmark:
        f"benchmarks/extract_features/{RUN_NAME}.tsv"
    resources:
        gpu=GPU_JOB,
        mem_mb=8000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/extract_features.py"


rule evaluate_retrieval:
    input:
        model=f"results/encoders/{RUN}/model.pt",
        features=for_conditions(f"results/features/{RUN}/{{condition}}/eeg_test.pt"),
        targets="results/targets/clip_targets.h5",
    output:
        retrieval=for_conditions(f"results/retrieval/{RUN}/{{condition}}.csv"),
        provenance=f"results/provenance/evaluate_retrieval/{RUN_NAME}.json",
    params:
        conditions=CONDITIONS,
        draws=config["retrieval"]["monte_carlo_draws"],
        seed=config["retrieval"]["seed"],
    log:
        f"logs/evaluate_retrieval/{RUN_NAME}.log",
    benchmark:
        f"benchmarks/evaluate_retrieval/{RUN_NAME}.tsv"
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/evaluate_retrieval.py"
