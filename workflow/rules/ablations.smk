# The ablation table and figure: every condition's retrieval accuracy and image metrics
# beside the original data's (necomimi.conditions.ablations). Regions and time windows
# are conditions of the config; the encoders trained on the original data read them.


rule tabulate_ablations:
    input:
        retrieval=results("retrieval.csv"),
        image_metrics=run_files(results(f"metrics/{RUN}/image_metrics.csv")) if RUN_MODES else [],
    output:
        csv=results("ablations.csv"),
        table=results("tables/ablations.md"),
        table_html=report(
            results("tables/ablations.html"),
            caption="../report/ablations_table.rst",
            category="Tables",
            labels={"table": "Ablations: every condition against the original data"},
        ),
        figure=report(
            results("figures/ablations.png"),
            caption="../report/ablations_figure.rst",
            category="Figures",
            labels={"figure": "Retrieval per region and time window"},
        ),
        provenance=results("provenance/tabulate_ablations.json"),
    params:
        conditions=CONDITION_CHANNELS,
    log:
        logs("tabulate_ablations.log"),
    localrule: True
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/tabulate_ablations.py"
