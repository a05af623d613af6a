#!/usr/bin/env bash
# The candidate study of issue 14 (K and prompt styles), on the first N SciFact train queries (default 200).
# Sampling as in the real run of docs/results/scifact-809 (at most 96 new tokens, shards of 100 queries).
# Four dataset versions under one data root, so the LLM response cache is shared: K=6 reuses K=3's requests and
# the multi-style runs reuse the paper-style candidates 0 and 3. Each synthesize run also runs the committee;
# then the outside check. Rerunning resumes: finished versions are skipped, cached responses reused.
# The first N queries of a smaller study are a prefix of a larger one's, so a 30-query pilot's responses are reused.
# Usage: O1EMBED_DATA=/path/to/data nice -n 10 bash bench/candidate_study_run.sh [N]
# Then:  python bench/candidate_study.py "$O1EMBED_DATA/runs/study/q<N>"
set -euo pipefail
: "${O1EMBED_DATA:?set O1EMBED_DATA to the data root}"
# The flows start a temporary Prefect server when PREFECT_API_URL is unset; on a busy machine it needs longer.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=${PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS:-180}
N=${1:-200}
STUDY="$O1EMBED_DATA/runs/study/q$N"
MULTI=(--set 'prompt.styles=["paper", "passage", "keywords"]')
run() {
    local name=$1 k=$2
    shift 2
    echo "=== $(date -u +%FT%TZ) synthesize $name (K=$k $*)"
    o1embed synthesize --dataset-dir data/beir/scifact --set split=train --set max_queries="$N" \
        --set candidates_per_query="$k" --set sampling.max_tokens=96 --set shard_size=100 \
        --set output_dir="$STUDY/$name" "$@" > "$STUDY/$name.synthesize.json"
    echo "=== $(date -u +%FT%TZ) outside check $name"
    o1embed committee check "$STUDY/$name" --out "$STUDY/$name.check.json" > /dev/null
    echo "=== $(date -u +%FT%TZ) done $name"
}
mkdir -p "$STUDY"
run paper-k3 3
run paper-k6 6
run multi-k3 3 "${MULTI[@]}"
run multi-k6 6 "${MULTI[@]}"
echo "=== $(date -u +%FT%TZ) study q$N finished"
