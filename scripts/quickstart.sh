#!/usr/bin/env bash
# One command from a fresh clone to a trained, evaluated O1 retriever on the embedded defaults:
# install; start a local Prefect server (SQLite, UI on) and a process worker, the embedded llama.cpp server and Ray;
# deploy prefect.yaml; run synth-and-train/scifact-quickstart on the worker and follow its logs and those of every
# stage (synthesize, committee, train, evaluate: `o1embed follow`; `prefect deployment run --watch` shows only the
# parent run's state events); print where the outputs are; stop the services (QUICKSTART_KEEP=1 leaves them
# running, e.g. to browse the UI; stop them with `bash scripts/services.sh stop`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
if [ -z "${QUICKSTART_KEEP:-}" ]; then trap 'bash scripts/services.sh stop' EXIT; fi
bash scripts/services.sh stop >/dev/null 2>&1 || true
bash scripts/services.sh start --worker
. data/services/env.sh
echo "Prefect UI: ${PREFECT_API_URL%/api}   (Runs -> the synth-and-train run: its stages, logs and artifacts)"
prefect --no-prompt deploy --all
# Starts the run on the worker, prints its UI link, then each stage's log lines (start and end, shard progress,
# where outputs land) until the run ends; exits non-zero unless it completed.
o1embed follow --deployment 'synth-and-train/scifact-quickstart'
echo
echo "Shards:   data/runs/scifact   (o1embed inspect data/runs/scifact)"
echo "Dataset card: $(ls data/runs/scifact/_manifests/dataset=scifact/split=train/version=*/README.md 2>/dev/null | tail -1)"
echo "Model:    $(ls -d data/runs/scifact/models/*/model 2>/dev/null | tail -1)   (model card: README.md inside)"
echo "Report:   $(ls data/runs/scifact/models/*/report/report.md 2>/dev/null | tail -1)"
