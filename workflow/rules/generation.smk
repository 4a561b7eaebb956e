# Two-stage generation (SPEC.md 6): a diffusion prior per run and condition on the EEG
# features (features.smk), then SDXL-Turbo + IP-Adapter images in three modes. The
# prior learns from the encoder's training subjects (the subject itself for intra, the
# others for loso); the one-stage and two-stage images are of the evaluated subject's
# test EEG, each job handling every condition of one run. The gt images (the test
# images' own CLIP embeddings) depend on no run: one job renders them once.


rule train_prior:
    input:
        features=for_conditions(results(f"features/{RUN}/{{condition}}/eeg_train.pt")),
        targets=results("targets/clip_targets.h5"),
    output:
        prior=for_conditions(results(f"prior/{RUN}/{{condition}}/prior.pt")),
        history=for_conditions(results(f"prior/{RUN}/{{condition}}/history.csv")),
        provenance=results(f"provenance/train_prior/{RUN_NAME}.json"),
    params:
        options=prior_training_options(),
        device=config["device"],
    log:
        logs(f"train_prior/{RUN_NAME}.log"),
    benchmark:
        benchmarks(f"train_prior/{RUN_NAME}.tsv")
    resources:
        gpu=GPU_JOB,
        mem_mb=8000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/train_prior.py"


rule record_decoder_weights:
    input:
        **decoder_weights(),
    output:
        results("provenance/decoder_weights.json"),
        provenance=results("provenance/record_decoder_weights.json"),
    params:
        variant=GENERATION.get("variant"),
    log:
        logs("record_decoder_weights.log"),
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/record_decoder_weights.py"


rule generate_gt_images:
    input:
        **decoder_weights(),
        targets=results("targets/clip_targets.h5"),
        weights_record=results("provenance/decoder_weights.json"),
    output:
        folder=directory(GT_IMAGES),
        provenance=results("provenance/generate_gt_images.json"),
    params:
        seed=GENERATION["seed"],
        decoder=decoder_options(),
        device=config["device"],
    log:
        logs("generate_gt_images.log"),
    benchmark:
        benchmarks("generate_gt_images.tsv")
    resources:
        gpu=GPU_JOB,
        mem_mb=16000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/generate_gt_images.py"


rule generate_images:
    input:
        **decoder_weights(),
        targets=results("targets/clip_targets.h5"),
        features=for_conditions(results(f"features/{RUN}/{{condition}}/eeg_test.pt")),
        prior=for_conditions(results(f"prior/{RUN}/{{condition}}/prior.pt")) if "two_stage" in MODES else [],
        weights_record=results("provenance/decoder_weights.json"),
    output:
        folders=[directory(results(f"images/{RUN}/{condition}/{mode}")) for condition, mode in IMAGE_GROUPS],
        provenance=results(f"provenance/generate_images/{RUN_NAME}.json"),
    params:
        conditions=CONDITIONS,
        modes=RUN_MODES,
        seed=GENERATION["seed"],
        decoder=decoder_options(),
        prior_sampling=prior_sampling_options(),
        device=config["device"],
    log:
        logs(f"generate_images/{RUN_NAME}.log"),
    benchmark:
        benchmarks(f"generate_images/{RUN_NAME}.tsv")
    resources:
        gpu=GPU_JOB,
        mem_mb=16000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/generate_images.py"
