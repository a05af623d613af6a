#!/usr/bin/env bash
# Issue 14's next run: the same 809-query dataset as bench/thinking_real_run.sh, trained with the decision loss.
#   1. 200 LoRA steps of `cpu-small-long-query` with `decision_weight` (default 0.5: the BCE of p_close against the
#      committee's decision, beside lambda = 0.8 InfoNCE and 0.2 LM) and 20% of the query ids held out
#      (`holdout_share`), about 45 min on 2 cores;
#   2. bench/decision_auc.py on the held-out queries: does p_close separate "no thought beats the query" from
#      "a thought wins" on queries the model never trained on (AUC against chance)? The first run's model, trained
#      without the decision loss, scores 0.532 on its own training queries;
#   3. the close threshold chosen on those held-out training queries (SciFact train split, the model's own
#      cost-quality sweep of `trained-auto`: the threshold of the best nDCG@10, the least thinking on a tie), never
#      on a test set;
#   4. the same report as the first run (bench/thinking_report.sh: same sets, systems and settings) with the auto
#      systems at that threshold,
#      and bench/thinking_target.py's verdict.
# Every stage resumes (newest checkpoint, cached document vectors and thoughts); a stage whose output exists is
# skipped. Needs the first run's dataset: run bench/thinking_real_run.sh's synthesis first.
# Usage: O1EMBED_DATA=/path/to/data [DECISION_WEIGHT=0.5] nice -n 5 bash bench/decision_run.sh
# Outputs under $O1EMBED_DATA/runs/decision-809 (model/, decision_auc.txt, holdout_report/, threshold.txt, report/);
# the figures are copied to docs/results/decision-809/ at the end.
set -euo pipefail
source "$(dirname "$0")/thinking_report.sh"  # checks O1EMBED_DATA, sets the environment
DATA="$O1EMBED_DATA/runs/thinking-809/data"
RUN="$O1EMBED_DATA/runs/decision-809"
mkdir -p "$RUN"
[ -d "$DATA" ] || { echo "no dataset at $DATA: run bench/thinking_real_run.sh first" >&2; exit 2; }

thinking_train "$DATA" "$RUN/model" --set "decision_weight=${DECISION_WEIGHT:-0.5}" --set holdout_share=0.2
stage "decision AUC on the held-out queries"
python bench/decision_auc.py "$RUN/model" --dtype bfloat16 | tee "$RUN/decision_auc.txt"

if [ ! -f "$RUN/holdout_report/report.md" ]; then
    stage "the held-out training queries: the threshold sweep"
    o1embed evaluate scifact --model "$RUN/model/model" --set split=train \
        --set "query_ids_file=$RUN/model/holdout.parquet" --set dtype=bfloat16 --set doc_max_tokens=256 \
        --system trained-never --system trained-auto --out "$RUN/holdout_report"
fi
python bench/pick_threshold.py "$RUN/holdout_report/cost_quality.parquet" | tee "$RUN/threshold.txt"
THRESHOLD=$(tail -1 "$RUN/threshold.txt" | cut -d= -f2)

if [ ! -f "$RUN/report/report.md" ]; then
    stage evaluate
    thinking_report "$RUN/model/model" "$RUN/report" --set "close_threshold=$THRESHOLD"
fi
stage "the target (issue 14, must-show 4)"
python bench/thinking_target.py "$RUN/report" --in-domain scifact | tee "$RUN/report/target.txt"
stage "copy the figures to docs/results/decision-809"
DOCS=docs/results/decision-809
copy_figures "$RUN/model" "$RUN/report" "$DOCS"  # makes $DOCS
cp "$RUN/decision_auc.txt" "$RUN/threshold.txt" "$DOCS/"
cp "$RUN/holdout_report/report.md" "$DOCS/holdout_report.md"
cp "$RUN/holdout_report/cost_quality.parquet" "$DOCS/holdout_cost_quality.parquet"
stage done
