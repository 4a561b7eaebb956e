# The embedded synthetic THINGS-MEG (demo, modality "meg"): a small BIDS dataset in the
# layout of ds004212 (raw runs only, written with mne-bids), THINGS' image tables and
# an ATM-style image set. Each participant's derivative is then made by entry point B
# (meg_preprocessing.smk), as for real raw data.


rule synthesize_meg:
    output:
        bids=directory(BIDS_ROOT),
        **THINGS_TABLES,
        training=directory(f"{IMAGE_DIR}/training_images"),
        test=directory(f"{IMAGE_DIR}/test_images"),
        factors=f"{SYNTHETIC_ROOT}/image_factors.csv",
        tags=f"{SYNTHETIC_ROOT}/concept_tags.csv",
        provenance=results("provenance/synthesize_meg.json"),
    params:
        root=lambda wildcards, output: os.path.dirname(output.factors),
        spec=config_slice({k: v for k, v in MEG_CONFIG["synthetic"].items() if k != "participants"}),
        participants=list(range(1, MEG_CONFIG["synthetic"]["participants"] + 1)),
    log:
        logs("synthesize_meg.log"),
    benchmark:
        benchmarks("synthesize_meg.tsv")
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/synthesize_meg.py"
