# Sourced by bench/thinking_real_run.sh and bench/decision_run.sh: issue 14's report, the same sets, systems and
# settings in every run, so the runs stay comparable.
#   thinking_report MODEL OUT [ARG ...]   evaluate the five sets with every thinking mode (extra ARGs are passed on,
#                                         e.g. --set close_threshold=0.9)
#   copy_figures MODEL_RUN REPORT DOCS    copy the run's training files and the report's figures to DOCS
# No `backbone` system: the untrained SmolLM2 would encode the five corpora (18,160 documents at 256 tokens) a second
# time, ~70 min of these 2 cores, for a figure the earlier reports already give (docs/results/eval-o1-*); issue 14
# compares the trained model's thinking modes with each other and with BM25 and MiniLM.
THINKING_SETS=(scifact birco_arguana birco_clinical_trial birco_relic cisi)
THINKING_SYSTEMS=(bm25 minilm trained-never trained-always trained-auto trained-auto-fused trained-auto-query
    bm25-thought bm25-thought-auto)

thinking_report() {
    local model=$1 out=$2
    shift 2
    local systems=() s
    for s in "${THINKING_SYSTEMS[@]}"; do systems+=(--system "$s"); done
    o1embed evaluate "${THINKING_SETS[@]}" --model "$model" --set dtype=bfloat16 --set doc_max_tokens=256 \
        "${systems[@]}" "$@" --out "$out"
}

copy_figures() {
    local run=$1 report=$2 docs=$3 f
    mkdir -p "$docs"
    for f in train_config.json train_log.jsonl loss_curve.png result.json; do cp "$run/$f" "$docs/"; done
    # the per-query Parquet stays beside the report (it holds the thoughts)
    for f in report.md config.json summary.parquet deltas.parquet out_of_domain.parquet out_of_domain_deltas.parquet \
        cost_quality.parquet metrics.png cost_quality.png target.txt; do
        if [ -f "$report/$f" ]; then cp "$report/$f" "$docs/"; fi
    done
}
