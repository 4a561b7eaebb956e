# CLIP targets: image and text embeddings of every stimulus.

rule embed_clip_targets:
    input:
        clip_files,
        image_set=IMAGE_SET_INPUT,
        # THINGS-MEG: the targets follow the arrays' image-number order (MEG.md 4.2).
        **(THINGS_TABLES if MEG else {}),
    output:
        results("targets/clip_targets.h5"),
        provenance=results("provenance/embed_clip_targets.json"),
    params:
        image_dir=lambda wildcards, input: os.path.dirname(input.image_set),
        clip=clip_model(),
        batch_size=config.get("clip", {}).get("batch_size", 64),
        device=config["device"],
    log:
        logs("embed_clip_targets.log"),
    benchmark:
        benchmarks("embed_clip_targets.tsv")
    resources:
        gpu=GPU_JOB,
        mem_mb=8000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/embed_clip_targets.py"
