#!/usr/bin/env bash
# Issue 14's real run, end to end, on the 2-core CPU machine (about 5-7 hours, most of it the expert):
#   1. synthesis with the chosen defaults (prefect.yaml's `scifact_synthesis` block: K = 6, 96 new tokens, the paper's
#      prompt) on all 809 SciFact train queries, then the committee (inside the flow) and the outside check;
#   2. 200 LoRA steps of SmolLM2-135M with the `cpu-small-long-query` preset (cpu-small with queries kept to 256
#      tokens: 42 of SciFact's 809 training queries run past 32 tokens, at most 66, and are kept whole; BIRCO's long
#      queries are not cut to 32 at inference);
#   3. the report on SciFact test, every BIRCO set and CISI, with every thinking mode, the deltas against
#      `trained-never` (counts and paired randomisation p-values) and the cost-quality sweep of `trained-auto`.
# Every stage resumes when the script is run again: cached expert responses (`bench/candidate_study_prefill.py`
# fills the cache without Ray or Prefect first, so a lost raylet cannot cost requests), finished shards, the newest
# checkpoint, cached document vectors. A stage whose output exists is skipped.
# Usage: O1EMBED_DATA=/path/to/data nice -n 5 bash bench/thinking_real_run.sh
# Outputs under $O1EMBED_DATA/runs/thinking-809: data/ (the dataset version), check.json, model/ (the run folder),
# report/ (report.md, cost_quality.png, summary and delta Parquet); the figures are copied to
# docs/results/thinking-809/ at the end.
set -euo pipefail
source "$(dirname "$0")/thinking_report.sh"  # checks O1EMBED_DATA, sets the environment
RUN="$O1EMBED_DATA/runs/thinking-809"
mkdir -p "$RUN"

thinking_dataset "$RUN"

thinking_train "$RUN/data" "$RUN/model"

if [ ! -f "$RUN/report/report.md" ]; then
    stage evaluate
    thinking_report "$RUN/model/model" "$RUN/report"
fi
stage "the target (issue 14, must-show 4)"
python bench/thinking_target.py "$RUN/report" --in-domain scifact | tee "$RUN/report/target.txt"
stage "copy the figures to docs/results/thinking-809"
DOCS=docs/results/thinking-809
copy_figures "$RUN/model" "$RUN/report" "$DOCS"  # makes $DOCS
meta=$(ls -d "$RUN"/data/_manifests/dataset=scifact/split=train/version=*/ | tail -1)
cp "$RUN/synthesis.yaml" "$RUN/synthesize.json" "$RUN/check.json" "$meta/manifest.json" "$DOCS/"
cp "$(ls "$meta"/committee-stats-*.json | tail -1)" "$DOCS/committee_stats.json"
cp "$(ls "$meta"/committee-gain-*.png | tail -1)" "$DOCS/committee_gain.png"
stage done
