#!/usr/bin/env bash
# Brings NAS Studio up on this machine: Redis, the Celery workers and the uvicorn web server.
# Called by `make run` (after scripts/setup.sh). Ctrl-C stops everything it started.
# Each Celery worker runs under scripts/supervise.sh: one that dies is started again (with back-off)
# while the rest stay up. Redis and the web server are not restarted: if either ends, everything
# stops (without Redis nothing works; a web server that ends on its own needs a look at its log).
# Settings come from the environment (see webapp/settings.py); PORT and REDIS_PORT pick the ports,
# WEB_WORKERS the number of web server processes (they share one socket; Channels joins them
# through Redis, so every viewer of a search gets its events whichever process serves it).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
# Everything the services write (database, uploads, results, Redis data, logs) is owner-only.
umask 077
PORT=${PORT:-8000}
REDIS_PORT=${REDIS_PORT:-6379}
WEB_WORKERS=${WEB_WORKERS:-2}
DEMO_USER=${DEMO_USER:-demo}
DEMO_PASSWORD=${DEMO_PASSWORD:-demo12345}
export VAR_DIR=${VAR_DIR:-$PWD/var}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-127.0.0.1,localhost}
export DJANGO_SETTINGS_MODULE=webapp.settings
LOGS=$VAR_DIR/logs
mkdir -p "$VAR_DIR/redis" "$LOGS"

# A production-style secret, made once and kept in var/ (DEBUG is off unless you say so).
if [[ -z ${SECRET_KEY:-} ]]; then
  if [[ ! -s $VAR_DIR/secret_key ]]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' > "$VAR_DIR/secret_key")
  fi
  SECRET_KEY=$(cat "$VAR_DIR/secret_key")
  export SECRET_KEY
fi

port_busy() { "$PY" - "$1" <<'EOF'
import socket, sys
with socket.socket() as s:
    sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
}
for p in "$PORT" "$REDIS_PORT"; do
  if port_busy "$p"; then
    echo "run: port $p is already in use; set PORT=... or REDIS_PORT=... to pick another" >&2
    exit 1
  fi
done

echo "run: preparing the database and static files"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0
# Only a hash of each API token is stored, so this makes the demo user a fresh one on every start.
TOKEN=$("$PY" manage.py ensure_user "$DEMO_USER" "$DEMO_PASSWORD" | tail -n1)

pids=()
redis_pid=0
stop_pids() {  # stop_pids SECONDS PID...: TERM them, wait up to SECONDS for them to end, then KILL
  local limit=$1 pid alive
  shift
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 $((limit * 10))); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
}
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "run: stopping"
  # Redis last: a worker that stops pauses its search and enqueues it again, through Redis. A worker's
  # supervisor passes TERM on; the worker exits in seconds (the supervisor kills what is left of it
  # after SUPERVISE_GRACE, 8 s), so up to 10 s for the workers and the web server, then Redis.
  local others=() pid
  for pid in "${pids[@]}"; do [[ $pid == "$redis_pid" ]] || others+=("$pid"); done
  if ((${#others[@]})); then stop_pids 10 "${others[@]}"; fi
  if ((redis_pid)); then stop_pids 5 "$redis_pid"; fi
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

# Redis keeps queued jobs across restarts in an append-only file under var/redis.
# In its own session: the terminal's Ctrl-C reaches run.sh, which stops Redis last (see stop_all).
setsid redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$VAR_DIR/redis" --appendonly yes --save "" \
  --daemonize no >"$LOGS/redis.log" 2>&1 &
redis_pid=$!
pids+=($!)
for _ in $(seq 1 100); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done

# One worker per queue: a long search never holds up the validation of a new upload. Each is
# supervised: restarted when it dies; its start-up recovery resumes the search it was running.
# `searches` takes the cpu-class searches (queue searches.cpu; issue 10 item 2), `datasets` the uploads.
for queue in searches datasets; do
  [[ $queue == searches ]] && consumes=searches.cpu || consumes=$queue
  scripts/supervise.sh --log "$LOGS/worker-$queue.log" "worker-$queue" \
    "$PY" -m celery -A worker.app worker -Q "$consumes" --concurrency 1 -n "$queue@%h" -l info &
  pids+=($!)
done
# One worker per GPU for the gpu-class searches (queue searches.gpu), each seeing only its own GPU
# (CUDA_VISIBLE_DEVICES), so one search runs per GPU. GPU_WORKERS overrides the count found by
# nvidia-smi (or torch, without it); 0 on a machine without GPUs: the designer then offers cpu only.
count_gpus() {
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true
  else
    "$PY" -c 'import torch; print(torch.cuda.device_count())' 2>/dev/null || echo 0
  fi
}
GPU_WORKERS=${GPU_WORKERS:-$(count_gpus)}
for ((i = 0; i < GPU_WORKERS; i++)); do
  CUDA_VISIBLE_DEVICES=$i scripts/supervise.sh --log "$LOGS/worker-gpu$i.log" "worker-gpu$i" \
    "$PY" -m celery -A worker.app worker -Q searches.gpu --concurrency 1 -n "gpu$i@%h" -l info &
  pids+=($!)
done
# CHILDREN_WORKERS processes for the `children.cpu` queue (issue 10): a cpu scratch search's children train
# there, one per process, while the search waits in its own worker (default: one per core, each torch
# child with CHILD_TORCH_THREADS=1 thread). A pool process is reused for up to 50 children (the dataset
# stays loaded); 0 workers: children train inside the search (CHILDREN_FANOUT=auto finds none).
CHILDREN_WORKERS=${CHILDREN_WORKERS:-$(nproc 2>/dev/null || echo 1)}
for ((i = 1; i <= CHILDREN_WORKERS; i++)); do
  scripts/supervise.sh --log "$LOGS/worker-children$i.log" "worker-children$i" \
    "$PY" -m celery -A worker.app worker -Q children.cpu --concurrency 1 -n "children$i@%h" \
    --max-tasks-per-child 50 -l info &
  pids+=($!)
done
essential=("$redis_pid")  # the services whose end stops everything
# Two processes serve about twice the page throughput of one on two cores (bench/pages.py).
"$PY" -m uvicorn webapp.asgi:application --host 127.0.0.1 --port "$PORT" --workers "$WEB_WORKERS" \
  --lifespan off --no-access-log --timeout-graceful-shutdown 5 >"$LOGS/web.log" 2>&1 &
pids+=($!)
essential+=($!)

cat <<EOF

  NAS Studio is running:  http://127.0.0.1:$PORT/
  Sign in as:             $DEMO_USER / $DEMO_PASSWORD
  API token:              $TOKEN   (curl -H "Authorization: Token $TOKEN" http://127.0.0.1:$PORT/api/searches/)
  Logs:                   $LOGS/
  Press Ctrl-C to stop.

EOF
# Redis or the web server ending (or Ctrl-C) brings the others down; workers are restarted instead.
wait -n "${essential[@]}" || true
# (On Ctrl-C the terminal signals Redis and the web server too, so this line runs then as well.)
echo "run: Redis or the web server has stopped, stopping the rest (logs in $LOGS/)" >&2
