# Per-subject preprocessing (SPEC.md section 2): raw recordings, or the reference's
# preprocessed files, to results/preprocessed/sub-XX/.

if FROM_PREPROCESSED:

    rule import_preprocessed:
        input:
            training=f"{DATA['preprocessed_dir']}/sub-{{subject}}/preprocessed_eeg_training.npy",
            test=f"{DATA['preprocessed_dir']}/sub-{{subject}}/preprocessed_eeg_test.npy",
        output:
            train=PREPROCESSED_TRAIN,
            test=PREPROCESSED_TEST,
            info=PREPROCESSED_INFO,
            provenance=results("provenance/import_preprocessed/sub-{subject}.json"),
        params:
            out_dir=lambda wildcards, output: os.path.dirname(output.info),
        log:
            logs("import_preprocessed/sub-{subject}.log"),
        benchmark:
            benchmarks("import_preprocessed/sub-{subject}.tsv")
        resources:
            mem_mb=8000,
        conda:
            "../../envs/necomimi.yaml"
        script:
            "../scripts/import_preprocessed.py"

else:

    rule preprocess_subject:
        input:
            raw_files,
        output:
            train=PREPROCESSED_TRAIN,
            test=PREPROCESSED_TEST,
            info=PREPROCESSED_INFO,
            provenance=results("provenance/preprocess_subject/sub-{subject}.json"),
        params:
            raw_dir=raw_subject_dir,
            out_dir=lambda wildcards, output: os.path.dirname(output.info),
            options=preprocessing_options(),
        log:
            logs("preprocess_subject/sub-{subject}.log"),
        benchmark:
            benchmarks("preprocess_subject/sub-{subject}.tsv")
        resources:
            mem_mb=6000,
        conda:
            "../../envs/necomimi.yaml"
        script:
            "../scripts/preprocess_subject.py"
