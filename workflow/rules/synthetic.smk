# The embedded synthetic THINGS-EEG2 (demo only): images first, then each subject's EEG.


rule synthesize_images:
    output:
        training=directory("resources/synthetic/image_set/training_images"),
        test=directory("resources/synthetic/image_set/test_images"),
        metadata="resources/synthetic/image_set/image_metadata.npy",
        factors="resources/synthetic/image_factors.csv",
        tags="resources/synthetic/concept_tags.csv",
        provenance=results("provenance/synthesize_images.json"),
    params:
        root=lambda wildcards, output: os.path.dirname(output.factors),
        spec=synthetic_spec(),
    log:
        logs("synthesize_images.log"),
    benchmark:
        benchmarks("synthesize_images.tsv")
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/synthesize_images.py"


rule synthesize_subject:
    input:
        factors="resources/synthetic/image_factors.csv",
    output:
        synthetic_raw_files("{subject}"),
        provenance=results("provenance/synthesize_subject/sub-{subject}.json"),
    params:
        root=lambda wildcards, input: os.path.dirname(input.factors),
        spec=synthetic_spec(),
    log:
        logs("synthesize_subject/sub-{subject}.log"),
    benchmark:
        benchmarks("synthesize_subject/sub-{subject}.tsv")
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/synthesize_subject.py"
