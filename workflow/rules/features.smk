# EEG features of each trained encoder in every condition (SPEC.md 6.1 and 6.5), and
# their zero-shot retrieval (SPEC.md 5), one job per run each. Retrieval scores the
# same test features that the one-stage images render, so both see the same noise in
# a perturbed condition; its settings rerun only the retrieval.


rule extract_features:
    input:
        model=results(f"encoders/{RUN}/model.pt"),
        train=training_eeg,
        test=PREPROCESSED_TEST,
        info=PREPROCESSED_INFO,
    output:
        train=for_conditions(results(f"features/{RUN}/{{condition}}/eeg_train.pt")),
        test=for_conditions(results(f"features/{RUN}/{{condition}}/eeg_test.pt")),
        provenance=results(f"provenance/extract_features/{RUN_NAME}.json"),
    params:
        conditions=CONDITION_CHANNELS,
        batch_size=config["features"]["batch_size"],
        seed=config["features"]["seed"],
        device=config["device"],
    log:
        logs(f"extract_features/{RUN_NAME}.log"),
    benchmark:
        benchmarks(f"extract_features/{RUN_NAME}.tsv")
    resources:
        gpu=GPU_JOB,
        mem_mb=8000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/extract_features.py"


rule evaluate_retrieval:
    input:
        model=results(f"encoders/{RUN}/model.pt"),
        features=for_conditions(results(f"features/{RUN}/{{condition}}/eeg_test.pt")),
        targets=results("targets/clip_targets.h5"),
    output:
        retrieval=for_conditions(results(f"retrieval/{RUN}/{{condition}}.csv")),
        provenance=results(f"provenance/evaluate_retrieval/{RUN_NAME}.json"),
    params:
        conditions=CONDITIONS,
        draws=config["retrieval"]["monte_carlo_draws"],
        seed=config["retrieval"]["seed"],
    log:
        logs(f"evaluate_retrieval/{RUN_NAME}.log"),
    benchmark:
        benchmarks(f"evaluate_retrieval/{RUN_NAME}.tsv")
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/evaluate_retrieval.py"
