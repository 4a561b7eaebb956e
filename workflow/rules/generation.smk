# Two-stage generation (SPEC.md 6): EEG features of each trained encoder, a diffusion
# prior per run and condition, then SDXL-Turbo + IP-Adapter images in three modes.
# The prior learns from the encoder's training subjects (the subject itself for intra,
# the others for loso); the images are of the evaluated subject's test EEG.


rule extract_features:
    input:
        model="results/encoders/{protocol}/{encoder}/sub-{subject}/seed-{seed}/model.pt",
        train=training_eeg,
        test="results/preprocessed/sub-{subject}/eeg_test.npy",
    output:
        train=f"results/features/{RUN_CONDITION}/eeg_train.pt",
        test=f"results/features/{RUN_CONDITION}/eeg_test.pt",
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.train),
        channels=lambda wildcards: config["conditions"][wildcards.condition],
        batch_size=config["features"]["batch_size"],
        seed=config["features"]["seed"],
        device=config["device"],
    log:
        "logs/extract_features/{protocol}_{encoder}_sub-{subject}_seed-{seed}_{condition}.log",
    benchmark:
        "benchmarks/extract_features/{protocol}_{encoder}_sub-{subject}_seed-{seed}_{condition}.tsv"
    resources:
        mem_mb=8000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/extract_features.py"


rule train_prior:
    input:
        features=f"results/features/{RUN_CONDITION}/eeg_train.pt",
        targets="results/targets/clip_targets.h5",
    output:
        prior=f"results/prior/{RUN_CONDITION}/prior.pt",
        history=f"results/prior/{RUN_CONDITION}/history.csv",
    params:
        options=prior_training_options(),
        device=config["device"],
    log:
        "logs/train_prior/{protocol}_{encoder}_sub-{subject}_seed-{seed}_{condition}.log",
    benchmark:
        "benchmarks/train_prior/{protocol}_{encoder}_sub-{subject}_seed-{seed}_{condition}.tsv"
    resources:
        mem_mb=8000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/train_prior.py"


rule record_decoder_weights:
    input:
        **decoder_weights(),
    output:
        "results/provenance/decoder_weights.json",
    params:
        variant=GENERATION.get("variant"),
    log:
        "logs/record_decoder_weights.log",
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/record_decoder_weights.py"


rule generate_images:
    input:
        **decoder_weights(),
        targets="results/targets/clip_targets.h5",
        features=f"results/features/{RUN_CONDITION}/eeg_test.pt",
        prior=f"results/prior/{RUN_CONDITION}/prior.pt" if "two_stage" in MODES else [],
        weights_record="results/provenance/decoder_weights.json",
    output:
        **{mode: directory(f"results/images/{RUN_CONDITION}/{mode}") for mode in MODES},
    params:
        seed=GENERATION["seed"],
        decoder=decoder_options(),
        prior_sampling=prior_sampling_options(),
        device=config["device"],
    log:
        "logs/generate_images/{protocol}_{encoder}_sub-{subject}_seed-{seed}_{condition}.log",
    benchmark:
        "benchmarks/generate_images/{protocol}_{encoder}_sub-{subject}_seed-{seed}_{condition}.tsv"
    resources:
        mem_mb=16000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/generate_images.py"
