# Contrastive training, one job per (protocol, encoder, subject, seed).


rule train_encoder:
    input:
        train=training_eeg,
        test=PREPROCESSED_TEST,
        targets=results("targets/clip_targets.h5"),
    output:
        model=results("encoders/{protocol}/{encoder}/sub-{subject}/seed-{seed}/model.pt"),
        last=results("encoders/{protocol}/{encoder}/sub-{subject}/seed-{seed}/last.pt"),
        history=results("encoders/{protocol}/{encoder}/sub-{subject}/seed-{seed}/history.csv"),
        provenance=results("provenance/train_encoder/{protocol}_{encoder}_sub-{subject}_seed-{seed}.json"),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.model),
        options=training_options(),
        device=config["device"],
    log:
        logs("train_encoder/{protocol}_{encoder}_sub-{subject}_seed-{seed}.log"),
    benchmark:
        benchmarks("train_encoder/{protocol}_{encoder}_sub-{subject}_seed-{seed}.tsv")
    threads: 1
    resources:
        gpu=GPU_JOB,
        mem_mb=8000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/train_encoder.py"
