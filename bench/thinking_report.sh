# Sourced by bench/thinking_real_run.sh, bench/decision_run.sh and bench/gate_run.sh: issue 14's dataset and report,
# the same sets, systems and settings in every run, so the runs stay comparable.
#   thinking_dataset RUN                  synthesize the 809-query K = 6 dataset into RUN/data and run the outside
#                                         check into RUN/check.json (resumes; skipped once check.json exists);
#                                         the expert's response cache is seeded from $THINKING_RESPONSES and
#                                         exported, whole, to RUN/expert_responses.parquet; with THINKING_DATASET
#                                         set, the finished dataset is kept there (and seeded from there into a
#                                         fresh data root: no second synthesis)
#   thinking_train DATA OUT [ARG ...]     200 LoRA steps of cpu-small-long-query on the dataset version under DATA
#                                         into the run folder OUT, preparing the backbone first where the data root
#                                         lacks it (resumes; skipped once OUT/result.json exists); with
#                                         THINKING_WEIGHTS set, the finished run's weights are kept there (and
#                                         seeded from there into a fresh data root: no second training), both
#                                         with `o1embed model copy-weights`
#   thinking_report MODEL OUT [ARG ...]   evaluate the five sets with every thinking mode (extra ARGs are passed on,
#                                         e.g. --set close_threshold=0.9)
#   copy_figures MODEL_RUN REPORT DOCS    copy the run's training files and the report's figures to DOCS
#   stage WORDS                           print a timestamped stage line
# Sourcing it also checks O1EMBED_DATA and sets the environment every run needs: Prefect's history beside the data
# (as scripts/services.sh), a patient first start of Prefect's temporary server and patient Ray health checks (the
# expert, the trainer and the committee's actors share 2 cores).
# No `backbone` system: the untrained SmolLM2 would encode the five corpora (18,160 documents at 256 tokens) a second
# time, ~70 min of these 2 cores, for a figure the earlier reports already give (docs/results/eval-o1-*); issue 14
# compares the trained model's thinking modes with each other and with BM25 and MiniLM.
: "${O1EMBED_DATA:?set O1EMBED_DATA to the data root}"
export PREFECT_HOME=${PREFECT_HOME:-$O1EMBED_DATA/prefect}
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=${PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS:-180}
export RAY_health_check_timeout_ms=${RAY_health_check_timeout_ms:-60000}
export RAY_health_check_failure_threshold=${RAY_health_check_failure_threshold:-30}
stage() { echo "=== $(date -u +%FT%TZ) $*"; }

# every response the dataset's synthesis asked the expert for (o1embed llm cache-export; copied there by gate_run.sh)
THINKING_RESPONSES=docs/results/thinking-809/expert_responses.parquet
THINKING_SETS=(scifact birco_arguana birco_clinical_trial birco_relic cisi)
THINKING_SYSTEMS=(bm25 minilm trained-never trained-always trained-auto trained-auto-fused trained-auto-query
    bm25-thought bm25-thought-auto)

thinking_dataset() {
    local run=$1
    mkdir -p "$run"
    # The synthesis config is the deployment's block, verbatim, plus where to write (run-only fields: the version id
    # is the deployment's).
    python - "$run" <<'EOF'
import sys
from pathlib import Path

import yaml

block = yaml.safe_load(Path("prefect.yaml").read_text())["definitions"]["scifact_synthesis"]
block |= {"output_dir": f"{sys.argv[1]}/data", "parallel_shards": 1}
Path(sys.argv[1], "synthesis.yaml").write_text(yaml.safe_dump(block, sort_keys=False))
EOF
    # The dataset a finished synthesis wrote, kept beside the figures ($THINKING_DATASET: data/, synthesize.json,
    # check.json): a fresh data root trains on it at once (the synthesis and the outside check took 13 min of
    # these 2 cores even with every response cached). Seed it at the path it was made at: the training
    # configuration's hash, which a resume of kept weights checks, includes the dataset's root.
    if [ -n "${THINKING_DATASET:-}" ] && [ -f "$THINKING_DATASET/check.json" ] && [ ! -f "$run/check.json" ]; then
        stage "seed the synthesized dataset from $THINKING_DATASET"
        rm -rf "$run/data"
        cp -r "$THINKING_DATASET/data" "$run/data"
        cp "$THINKING_DATASET/synthesize.json" "$run/"
        cp "$THINKING_DATASET/check.json" "$run/"  # last: it marks the dataset complete
    fi
    if [ -f "$run/check.json" ]; then return; fi
    # The expert's responses of an earlier run, committed beside its figures: a fresh data root asks the expert
    # only what they lack (the prefill is 4,854 requests, ~3 h of these 2 cores).
    if [ -f "$THINKING_RESPONSES" ]; then
        stage "seed the expert's response cache from $THINKING_RESPONSES"
        o1embed llm cache-import "$THINKING_RESPONSES"
    fi
    echo "=== $(date -u +%FT%TZ) expert requests (cache prefill)"
    # two servers, each on llama-cpp-python's default threads: 1.37x one server's requests per second on 2 cores
    # (bench/expert_servers.py, docs/results/expert-threads)
    python bench/candidate_study_prefill.py 809 paper-k6 --servers 2
    o1embed llm cache-export "$run/expert_responses.parquet"
    echo "=== $(date -u +%FT%TZ) synthesize"
    o1embed synthesize --config "$run/synthesis.yaml" > "$run/synthesize.json"
    echo "=== $(date -u +%FT%TZ) outside check"
    o1embed committee check "$run/data" --out "$run/check.json" > /dev/null
    if [ -n "${THINKING_DATASET:-}" ] && [ ! -d "$THINKING_DATASET" ]; then
        stage "keep the synthesized dataset in $THINKING_DATASET"
        mkdir -p "$THINKING_DATASET"
        cp -r "$run/data" "$THINKING_DATASET/"
        find "$THINKING_DATASET/data" -name .lock -delete  # the writer's flock file (a stale pid), not data
        cp "$run/synthesize.json" "$run/check.json" "$THINKING_DATASET/"
    fi
}

thinking_train() {
    local data=$1 out=$2
    shift 2
    if [ -f "$out/result.json" ]; then return; fi
    # A finished run's weights committed beside its figures ($THINKING_WEIGHTS/checkpoints/step-NNNNNNN, trainable
    # weights and state.json, and train_log.jsonl): the run resumes at its last step and only writes the model
    # (trainer/checkpoint.py), minutes instead of the training's ~45. The data root must be at the same path: the
    # configuration hash that a resume checks includes the dataset's root.
    if [ -n "${THINKING_WEIGHTS:-}" ] && [ -d "$THINKING_WEIGHTS" ] && [ ! -d "$out/checkpoints" ]; then
        stage "seed the finished run's weights from $THINKING_WEIGHTS"
        o1embed model copy-weights "$THINKING_WEIGHTS" "$out"
    fi
    stage train
    # the backbone the preset trains (skipped when <data root>/models already holds it): a fresh data root has none
    o1embed model prepare > /dev/null
    o1embed train --preset cpu-small-long-query --data-root "$data" --dataset scifact --split train --steps 200 \
        "$@" --output "$out"
    if [ -n "${THINKING_WEIGHTS:-}" ] && [ ! -d "$THINKING_WEIGHTS" ]; then
        stage "keep the finished run's weights in $THINKING_WEIGHTS"
        o1embed model copy-weights "$out" "$THINKING_WEIGHTS"
    fi
}

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
