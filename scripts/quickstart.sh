#!/usr/bin/env bash
# One command from a fresh clone to a result on the embedded defaults:
# install, start a local Prefect server + worker, the embedded llama.cpp server and Ray, run the pipeline on
# SciFact, print where the outputs are, and stop the services.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
trap 'bash scripts/services.sh stop' EXIT
bash scripts/services.sh stop >/dev/null 2>&1 || true
bash scripts/services.sh start --worker
. data/services/env.sh
# The quickstart sizes finish in minutes on 2 cores; drop --max-queries for the whole training split.
OPENAI_BASE_URL=$O1EMBED_TEST_LLM_URL o1embed synthesize --dataset-dir data/beir/scifact --split train \
  --max-queries "${QUICKSTART_QUERIES:-50}" --max-tokens 96 --shard-size 25
echo "Shards: data/runs/scifact  (inspect: python -c \"import polars as pl; print(pl.scan_parquet('data/runs/scifact/candidates/**/*.parquet').collect())\")"
