#!/usr/bin/env bash
# Issue 14's third run: the same 809-query dataset as bench/thinking_real_run.sh, and a learned think gate.
#   1. the dataset (thinking_dataset: synthesis with the chosen defaults, K = 6, the paper's prompt; the expert's
#      responses are cached, so an interrupted prefill resumes);
#   2. 200 LoRA steps of `cpu-small-long-query`, as the first run (no decision loss: it learned nothing and took LoRA
#      capacity in decision-809), with 20% of the query ids held out (`holdout_share=0.2`), ~45 min on 2 cores;
#   3. a report on the held-out training queries with `trained-always` (the thought vector) and `trained-auto` at
#      threshold 0 (the skip vector): the model's own per-query gains of thinking; its cost-quality sweep also gives
#      p_close's threshold (bench/pick_threshold.py), as in decision-809, and at that threshold the fusion weight of
#      trained-auto-fused (bench/pick_fusion.py; the earlier runs fixed alpha at 0.5);
#   4. `o1embed model fit-gate`: the gate on the hidden state at <thought>, fitted on those gains, its threshold
#      chosen out of fold; gate.json holds the fit's cross-validated AUC and gain. The gain is GATE_METRIC's
#      (default rr, the reciprocal rank over the top 100: on nDCG@10, 103 of decision-809's 158 held-out queries tie,
#      which leaves a 576-wide logistic gate 55 examples that say anything; GATE_METRIC=ndcg_at_10 for the other);
#   5. the same report as the earlier runs, plus `trained-auto-gate`, and bench/thinking_target.py's verdict with
#      the gate as a third candidate; bench/gate_ceiling.py on the held-out gains (what a perfect gate would add).
# Every stage resumes (cached responses, newest checkpoint, cached document vectors and thoughts); a stage whose
# output exists is skipped. The dataset and the trained weights are kept in docs/results/gate-809/{dataset,weights}
# and seeded from there into a fresh data root, which must be at the same path (the training configuration's hash
# includes the dataset's root): commit them, and a later session starts at the held-out report.
# Usage: O1EMBED_DATA=/path/to/data nice -n 5 bash bench/gate_run.sh
# Outputs under $O1EMBED_DATA/runs/gate-809 (model/, holdout_report/, gate.json, threshold.txt, report/); the figures
# are copied to docs/results/gate-809/ at the end.
set -euo pipefail
source "$(dirname "$0")/thinking_report.sh"  # checks O1EMBED_DATA, sets the environment
DATA_RUN="$O1EMBED_DATA/runs/thinking-809"
RUN="$O1EMBED_DATA/runs/gate-809"
mkdir -p "$RUN"

# the synthesized dataset (4.4 MB) and the trained weights (19.6 MB) are committed, so a later session on a fresh machine
# neither synthesizes nor trains again
THINKING_DATASET=docs/results/gate-809/dataset thinking_dataset "$DATA_RUN"

THINKING_WEIGHTS=docs/results/gate-809/weights thinking_train "$DATA_RUN/data" "$RUN/model" --set holdout_share=0.2

if [ ! -f "$RUN/holdout_report/report.md" ]; then
    stage "the held-out training queries: the model's own gains of thinking"
    o1embed evaluate scifact --model "$RUN/model/model" --set split=train \
        --set "query_ids_file=$RUN/model/holdout.parquet" --set dtype=bfloat16 --set doc_max_tokens=256 \
        --set close_threshold=0 --system trained-never --system trained-always --system trained-auto \
        --out "$RUN/holdout_report"
fi
python bench/pick_threshold.py "$RUN/holdout_report/cost_quality.parquet" | tee "$RUN/threshold.txt"
THRESHOLD=$(tail -1 "$RUN/threshold.txt" | cut -d= -f2)
python bench/pick_fusion.py "$RUN/holdout_report/cost_quality.parquet" --threshold "$THRESHOLD" | tee "$RUN/fusion.txt"
ALPHA=$(tail -1 "$RUN/fusion.txt" | cut -d= -f2)
python bench/gate_ceiling.py "$RUN/holdout_report" | tee "$RUN/holdout_gate_ceiling.txt"

if [ ! -f "$RUN/model/model/think_gate.json" ] || [ ! -s "$RUN/gate.json" ]; then
    stage "fit the think gate"
    o1embed model fit-gate "$RUN/model/model" --report "$RUN/holdout_report" --dtype bfloat16 \
        --metric "${GATE_METRIC:-rr}" | tee "$RUN/gate.json"
fi

if [ ! -f "$RUN/report/report.md" ]; then
    stage evaluate
    thinking_report "$RUN/model/model" "$RUN/report" --set "close_threshold=$THRESHOLD" --set "fusion_alpha=$ALPHA" \
        --system trained-auto-gate
fi
stage "the target (issue 14, must-show 4)"
python bench/thinking_target.py "$RUN/report" --in-domain scifact | tee "$RUN/report/target.txt"
stage "copy the figures to docs/results/gate-809"
DOCS=docs/results/gate-809
copy_figures "$RUN/model" "$RUN/report" "$DOCS"  # makes $DOCS
cp "$RUN/threshold.txt" "$RUN/fusion.txt" "$RUN/gate.json" "$RUN/holdout_gate_ceiling.txt" "$DOCS/"
cp "$RUN/model/model/think_gate.json" "$DOCS/"
cp "$RUN/holdout_report/report.md" "$DOCS/holdout_report.md"
cp "$RUN/holdout_report/cost_quality.parquet" "$DOCS/holdout_cost_quality.parquet"
if [ -f "$DATA_RUN/expert_responses.parquet" ]; then  # absent where the dataset was seeded: nothing was asked
    cp "$DATA_RUN/expert_responses.parquet" "$THINKING_RESPONSES"  # the next fresh data root asks the expert nothing
fi
stage done
