#!/usr/bin/env bash
# Start or stop the local services o1embed's tests and quickstart use:
#   a Prefect server (SQLite), a Ray head node, the embedded llama.cpp server, and (with --worker) a Prefect
#   process worker. `start` writes data/services/env.sh; `source` it to point clients at them.
# Usage: scripts/services.sh start [--worker] | stop | status
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DATA=${O1EMBED_DATA:-$ROOT/data}
STATE=$DATA/services
mkdir -p "$STATE"
PYBIN=$ROOT/.venv/bin
export PREFECT_HOME=${PREFECT_HOME:-$DATA/prefect}
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1 PREFECT_CLI_PROMPT=false
export RAY_USAGE_STATS_ENABLED=0 RAY_worker_niceness=0
# Ray 2.60 turns token auth on for a new cluster when ~/.ray/auth_token exists, while clients that join by address
# may not send it: name the mode explicitly so the head and every client agree. The services are for one machine;
# set RAY_AUTH_MODE=token (and share ~/.ray/auth_token) for a cluster others can reach.
export RAY_AUTH_MODE=${RAY_AUTH_MODE:-disabled}

free_port() { "$PYBIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() {  # url seconds
  for _ in $(seq 1 "$2"); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "not ready after $2 s: $1" >&2; return 1
}

ray_tmp() {  # Ray's unix sockets need a short path
  local t=$DATA/ray_tmp
  [ ${#t} -le 60 ] || t=/tmp/o1embed-ray-$(id -u)
  echo "$t"
}

start() {
  local worker=${1:-}
  [ -f "$STATE/env.sh" ] && { echo "services already started ($STATE/env.sh); run stop first" >&2; return 1; }
  local pport rport lport
  pport=$(free_port); rport=$(free_port); lport=$(free_port)
  PREFECT_SERVER_API_HOST=127.0.0.1 PREFECT_SERVER_API_PORT=$pport \
    setsid "$PYBIN/prefect" server start --host 127.0.0.1 --port "$pport" >"$STATE/prefect-server.log" 2>&1 &
  echo $! >"$STATE/prefect-server.pid"
  setsid "$PYBIN/o1embed" llm serve --port "$lport" >"$STATE/llm-server.log" 2>&1 &
  echo $! >"$STATE/llm-server.pid"
  # In a session of its own: `ray start` returns once the head is up, and its daemons (gcs_server, raylet, and
  # the workers they start) keep that session id, so stop() ends exactly this head and no other Ray on the
  # machine (`ray stop` would kill every one, a user's own cluster included).
  setsid "$PYBIN/ray" start --head --port="$rport" --num-cpus="$(nproc)" --include-dashboard=false \
    --temp-dir="$(ray_tmp)" --disable-usage-stats >"$STATE/ray.log" 2>&1 &
  echo $! >"$STATE/ray.pid"
  wait "$!"
  wait_for "http://127.0.0.1:$pport/api/health" 180
  wait_for "http://127.0.0.1:$lport/v1/models" 180
  cat >"$STATE/env.sh" <<ENV
export PREFECT_HOME=$PREFECT_HOME
export PREFECT_API_URL=http://127.0.0.1:$pport/api
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1 PREFECT_CLI_PROMPT=false
export RAY_ADDRESS=127.0.0.1:$rport
export RAY_USAGE_STATS_ENABLED=0 RAY_worker_niceness=0
export O1EMBED_TEST_LLM_URL=http://127.0.0.1:$lport/v1
export O1EMBED_ROOT=$ROOT
export RAY_AUTH_MODE=$RAY_AUTH_MODE
ENV
  if [ "$worker" = "--worker" ]; then
    . "$STATE/env.sh"
    "$PYBIN/prefect" work-pool create o1embed-process --type process --overwrite >/dev/null
    # Flow runs of the worker use the services' expert LLM server and join the services' Ray cluster.
    OPENAI_BASE_URL=$O1EMBED_TEST_LLM_URL PATH="$PYBIN:$PATH" \
      setsid "$PYBIN/prefect" worker start --pool o1embed-process --type process >"$STATE/prefect-worker.log" 2>&1 &
    echo $! >"$STATE/prefect-worker.pid"
  fi
  echo "services up: $(grep -c export "$STATE/env.sh") settings in $STATE/env.sh"
}

stop() {
  for name in prefect-worker llm-server prefect-server ray; do
    local f=$STATE/$name.pid
    [ -f "$f" ] || continue
    local pid; pid=$(cat "$f")
    # The worker ignores one SIGTERM (see ENVIRONMENT.md): TERM, then INT twice, then KILL.
    kill -TERM -- "-$pid" 2>/dev/null || true
    for sig in INT INT; do sleep 1; kill -0 "$pid" 2>/dev/null && kill -$sig -- "-$pid" 2>/dev/null || true; done
    for _ in $(seq 1 10); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$f"
  done
  rm -f "$STATE/env.sh"
  echo "services stopped"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop ;;
  status) cat "$STATE/env.sh" 2>/dev/null || echo "not running" ;;
  *) echo "usage: $0 start [--worker] | stop | status" >&2; exit 2 ;;
esac
