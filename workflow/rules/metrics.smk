# Image metrics and the CAT score of every run's generated images (one job per run,
# every condition and mode) and of the gt images (one job: they are the same for every
# run), the CAT judge's ceiling, then the study's image tables.


rule judge_ground_truth:
    input:
        clip_files,
        image_set=IMAGE_SET_INPUT,
        tags=TAG_TABLE,
    output:
        scores=results("cat/ground_truth.csv"),
        verdicts=results("cat/ground_truth_verdicts.csv"),
        provenance=results("provenance/judge_ground_truth.json"),
    params:
        image_dir=lambda wildcards, input: os.path.dirname(input.image_set),
        clip=clip_model(),
        cat=cat_judge(),
        device=config["device"],
    log:
        logs("judge_ground_truth.log"),
    benchmark:
        benchmarks("judge_ground_truth.tsv")
    resources:
        gpu=GPU_JOB,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/judge_ground_truth.py"


rule score_gt_images:
    input:
        clip_files,
        folder=GT_IMAGES,
        image_set=IMAGE_SET_INPUT,
        tags=TAG_TABLE,
        weights=[path for path in METRIC_WEIGHTS.values() if path],
        ratings=lambda wildcards: [path for path in [gt_ratings_file(wildcards)] if path],
    output:
        metrics=results("metrics/gt/image_metrics.csv"),
        cat=results("cat/gt/cat_scores.csv"),
        verdicts=results("cat/gt/gt.csv"),
        provenance=results("provenance/score_gt_images.json"),
    params:
        image_dir=lambda wildcards, input: os.path.dirname(input.image_set),
        ratings=gt_ratings_file,
        clip=clip_model(),
        networks=METRIC_WEIGHTS,
        cat=cat_judge(),
        device=config["device"],
    log:
        logs("score_gt_images.log"),
    benchmark:
        benchmarks("score_gt_images.tsv")
    resources:
        gpu=GPU_JOB,
        mem_mb=8000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/score_gt_images.py"


rule score_images:
    input:
        clip_files,
        folders=[results(f"images/{RUN}/{condition}/{mode}") for condition, mode in IMAGE_GROUPS],
        image_set=IMAGE_SET_INPUT,
        tags=TAG_TABLE,
        weights=[path for path in METRIC_WEIGHTS.values() if path],
        ratings=lambda wildcards: list(ratings_files(wildcards).values()),
    output:
        metrics=results(f"metrics/{RUN}/image_metrics.csv"),
        cat=results(f"cat/{RUN}/cat_scores.csv"),
        verdicts=[results(f"cat/{RUN}/{condition}/{mode}.csv") for condition, mode in IMAGE_GROUPS],
        provenance=results(f"provenance/score_images/{RUN_NAME}.json"),
    params:
        groups=IMAGE_GROUPS,
        image_dir=lambda wildcards, input: os.path.dirname(input.image_set),
        ratings=ratings_files,
        clip=clip_model(),
        networks=METRIC_WEIGHTS,
        cat=cat_judge(),
        device=config["device"],
    log:
        logs(f"score_images/{RUN_NAME}.log"),
    benchmark:
        benchmarks(f"score_images/{RUN_NAME}.tsv")
    resources:
        gpu=GPU_JOB,
        mem_mb=8000,
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/score_images.py"


rule tabulate_images:
    input:
        metrics=run_files(results(f"metrics/{RUN}/image_metrics.csv")) if RUN_MODES else [],
        cat=run_files(results(f"cat/{RUN}/cat_scores.csv")) if RUN_MODES else [],
        gt_metrics=[results("metrics/gt/image_metrics.csv")] if GT else [],
        gt_cat=[results("cat/gt/cat_scores.csv")] if GT else [],
        ceiling=results("cat/ground_truth.csv"),
        folders=image_folders(),
        gt_folder=[GT_IMAGES] if GT else [],
        image_set=IMAGE_SET_INPUT,
        retrieval=RETRIEVAL_OUTPUTS,  # the study's final target waits for its first half
        ablations=ABLATION_OUTPUTS,  # and for the ablation table
    output:
        metrics=results("image_metrics.csv"),
        cat=results("cat_scores.csv"),
        table3=results("tables/cat_table3.md"),
        table4=results("tables/fid_table4.md"),
        table5=results("tables/ssim_table5.md"),
        suite=results("tables/reconstruction_metrics.md"),
        # HTML twins of the tables: the report shows HTML, not markdown.
        table3_html=report(
            results("tables/cat_table3.html"),
            caption="../report/cat_table3.rst",
            category="Tables",
            labels={"table": "Table 3: CAT score"},
        ),
        table4_html=report(
            results("tables/fid_table4.html"),
            caption="../report/fid_table4.rst",
            category="Tables",
            labels={"table": "Table 4: FID"},
        ),
        table5_html=report(
            results("tables/ssim_table5.html"),
            caption="../report/ssim_table5.rst",
            category="Tables",
            labels={"table": "Table 5: SSIM"},
        ),
        suite_html=report(
            results("tables/reconstruction_metrics.html"),
            caption="../report/reconstruction_metrics.rst",
            category="Tables",
            labels={"table": "Reconstruction metrics (MindEye/ATM suite)"},
        ),
        cat_figure=report(
            results("figures/cat_scores.png"),
            caption="../report/cat_scores.rst",
            category="Figures",
            labels={"figure": "CAT scores with ceiling and chance"},
        ),
        # One grid per run, <protocol>/<encoder>/sub-XX/seed-N.png (params.grids).
        grids=report(
            directory(results("figures/images")),
            patterns=["{protocol}/{encoder}/sub-{subject}/seed-{seed}.png"],
            caption="../report/image_grid.rst",
            category="Generated images",
            subcategory="{encoder}",
            labels={"subject": "{subject}", "seed": "{seed}", "protocol": "{protocol}"},
        ),
        provenance=results("provenance/tabulate_images.json"),
    params:
        image_dir=lambda wildcards, input: os.path.dirname(input.image_set),
        runs=RUNS,
        conditions=CONDITIONS,
        run_folders=[run_image_folders(run) for run in RUNS],
        grids=run_files(results(f"figures/images/{RUN}.png")),  # in output.grids
        concepts=8,
    log:
        logs("tabulate_images.log"),
    localrule: True
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/tabulate_images.py"
