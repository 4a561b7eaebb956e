# The demo's tiny models (data.source "synthetic" only), written in the formats of the
# real weights and loaded by the same code: a CLIP trained briefly on the synthetic
# images, and an SDXL-Turbo-shaped decoder with its IP-Adapter trained on the training
# images and their CLIP embeddings.


rule build_demo_clip:
    input:
        images=f"{IMAGE_DIR}/training_images",
        factors=f"{SYNTHETIC_ROOT}/image_factors.csv",
    output:
        config=DEMO_CLIP["model_config"],
        weights=DEMO_CLIP["pretrained"],
        provenance=results("provenance/build_demo_clip.json"),
    params:
        image_dir=lambda wildcards, input: os.path.dirname(input.images),
        out_dir=lambda wildcards, output: os.path.dirname(output.weights),
        options=config_slice(config["demo_clip"]),
        image_size=(config["meg"] if MEG else config)["synthetic"]["image_size"],
    log:
        logs("build_demo_clip.log"),
    benchmark:
        benchmarks("build_demo_clip.tsv")
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/build_demo_clip.py"


rule build_demo_decoder:
    input:
        images=f"{IMAGE_DIR}/training_images",
        targets=results("targets/clip_targets.h5"),
    output:
        sdxl_turbo=directory(DEMO_DECODER["sdxl_turbo"]),
        ip_adapter=DEMO_DECODER["ip_adapter"],
        provenance=results("provenance/build_demo_decoder.json"),
    params:
        image_dir=lambda wildcards, input: os.path.dirname(input.images),
        training=config_slice({**config["demo_decoder"], "num_inference_steps": GENERATION["num_inference_steps"]}),
    log:
        logs("build_demo_decoder.log"),
    benchmark:
        benchmarks("build_demo_decoder.tsv")
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/build_demo_decoder.py"
