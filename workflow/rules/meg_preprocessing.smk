# THINGS-MEG preprocessing (MEG.md section 4), per participant: the derivative made
# from the raw runs (entry point B; the demo, or data.entry_point "raw"), then the
# arrays, index tables and channel names of results/meg/preprocessed/sub-XX/ from the
# derivative (entry point A). Participant n of ds004212 (sub-BIGMEGn) is subject "0n".

if MEG_FROM_RAW:

    rule meg_derivative_from_raw:
        input:
            meg_raw_files,
        output:
            derivative=directory(results("derivatives/sub-{subject}")),
            provenance=results("provenance/meg_derivative_from_raw/sub-{subject}.json"),
        params:
            bids_root=BIDS_ROOT,
            participant=lambda wildcards: int(wildcards.subject),
            path=meg_derivative,
        log:
            logs("meg_derivative_from_raw/sub-{subject}.log"),
        benchmark:
            benchmarks("meg_derivative_from_raw/sub-{subject}.tsv")
        resources:
            mem_mb=4000,
        conda:
            "../../envs/necomimi.yaml"
        script:
            "../scripts/meg_derivative_from_raw.py"


rule preprocess_meg:
    input:
        derivative=meg_derivative_files,
        image_set=IMAGE_SET_INPUT,
        **THINGS_TABLES,
    output:
        train=PREPROCESSED_TRAIN,
        test=PREPROCESSED_TEST,
        info=PREPROCESSED_INFO,
        index=multiext(f"{PREPROCESSED}/", "train_index.tsv", "test_index.tsv"),
        times=f"{PREPROCESSED}/times.npy",
        ch_names=f"{PREPROCESSED}/ch_names.txt",
        provenance=results("provenance/preprocess_meg/sub-{subject}.json"),
    params:
        derivative=meg_derivative,
        out_dir=lambda wildcards, output: os.path.dirname(output.info),
        image_dir=lambda wildcards, input: os.path.dirname(input.image_set),
        options=config_slice(MEG_CONFIG["preprocessing"]),
        expect_real_counts=not SYNTHETIC,
    log:
        logs("preprocess_meg/sub-{subject}.log"),
    benchmark:
        benchmarks("preprocess_meg/sub-{subject}.tsv")
    resources:
        mem_mb=2000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/preprocess_meg.py"
