# CLIP targets: image and text embeddings of every stimulus (the demo first trains its
# tiny CLIP on the synthetic images).

if SYNTHETIC:

    rule build_demo_clip:
        input:
            images="resources/synthetic/image_set/training_images",
            factors="resources/synthetic/image_factors.csv",
        output:
            config=DEMO_CLIP["model_config"],
            weights=DEMO_CLIP["pretrained"],
        params:
            image_dir=lambda wildcards, input: os.path.dirname(input.images),
            out_dir=lambda wildcards, output: os.path.dirname(output.weights),
            options=config.get("demo_clip"),
            image_size=config["synthetic"]["image_size"],
        log:
            "logs/build_demo_clip.log",
        benchmark:
            "benchmarks/build_demo_clip.tsv"
        conda:
            "../../envs/necomimi.yaml"
        script:
            "../scripts/build_demo_clip.py"


rule embed_clip_targets:
    input:
        clip_files,
        metadata=f"{IMAGE_DIR}/image_metadata.npy",
    output:
        "results/targets/clip_targets.h5",
    params:
        image_dir=lambda wildcards, input: os.path.dirname(input.metadata),
        clip=clip_model(),
        batch_size=config.get("clip", {}).get("batch_size", 64),
    log:
        "logs/embed_clip_targets.log",
    benchmark:
        "benchmarks/embed_clip_targets.tsv"
    resources:
        mem_mb=8000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/embed_clip_targets.py"
