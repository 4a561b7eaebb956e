# The study's retrieval tables (the per-run retrieval comes with the features, features.smk).


rule tabulate_retrieval:
    input:
        retrieval=retrieval_files(),
        histories=history_files(),
    output:
        csv=results("retrieval.csv"),
        table1=results("tables/retrieval_table1.md"),
        table2=results("tables/retrieval_table2.md"),
        # HTML twins of the tables: the report shows HTML, not markdown.
        table1_html=report(
            results("tables/retrieval_table1.html"),
            caption="../report/retrieval_table1.rst",
            category="Tables",
            labels={"table": "Table 1: retrieval, 2-way and 4-way top-1"},
        ),
        table2_html=report(
            results("tables/retrieval_table2.html"),
            caption="../report/retrieval_table2.rst",
            category="Tables",
            labels={"table": "Table 2: retrieval, top-1 and top-5 at the largest k"},
        ),
        figure=report(
            results("figures/selection_accuracy.png"),
            caption="../report/selection_accuracy.rst",
            category="Figures",
            labels={"figure": "Epoch selection accuracy of the encoders"},
        ),
        provenance=results("provenance/tabulate_retrieval.json"),
    params:
        labels=RUNS,
    log:
        logs("tabulate_retrieval.log"),
    localrule: True
    conda:
        "../../envs/necomimi.yaml"
    script:
        "../scripts/tabulate_retrieval.py"
