# EEG features of each trained encoder in every condition (SPEC.md 6.1 and 6.5), and
# their zero-shot retrieval (SPEC.md 5): one job per run. Retrieval scores the same
# test features that the one-stage images render, so both see the same noise in a
# perturbed condition.


rule extract_features:
    input:
        model=f"results/encoders/{RUN}/model.pt",
        train=training_eeg,
        test="results/preprocessed/sub-{subject}/eeg_test.npy",
        targets="results/targets/clip_targets.h5",
    output:
        train=for_conditions(f"results/features/{RUN}/{{condition}}/eeg_train.pt"),
        test=for_conditions(f"results/features/{RUN}/{{condition}}/eeg_test.pt"),
        retrieval=for_conditions(f"results/retrieval/{RUN}/{{condition}}.csv"),
    params:
        conditions=config["conditions"],
        batch_size=config["features"]["batch_size"],
        seed=config["features"]["seed"],
        draws=config["retrieval"]["monte_carlo_draws"],
        retrieval_seed=config["retrieval"]["seed"],
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
