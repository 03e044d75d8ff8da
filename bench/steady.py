"""Steady load on the batching engine: does it stay as fast, and as small, after ten minutes?

Client threads keep the engine busy with a continuous, seeded mix of requests: short and long
prompts (about 20 to 900 tokens), short and long answers (8 to 256 tokens), greedy and sampled,
each client pausing a random moment between requests, so requests arrive while others run and
the batch grows and shrinks. Every second it samples the process RSS (VmRSS in /proc/self/status)
and takes the engine's per-decode-step times (`BatchingEngine.step_times`). It compares the first
minute with the last: mean step time per batch size, and RSS. Writes bench/results/steady.md.

Usage: python bench/steady.py [--seconds 600] [--clients 8] [--out PATH]   (a smoke test: --seconds 60)
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

from inference import PROMPTS, ROOT, chat_ids, load, model_cache_dir

# Long prompts: a paragraph repeated, with a question, so the prompt lengths spread widely.
PARAGRAPH = ("Large language models are trained on a great deal of text to predict the next token. "
             "Serving them well means batching requests together, keeping the key-value cache small, "
             "and streaming each token to its reader as soon as it exists. ")
QUESTIONS = ["Summarise the text above in one sentence.", "List the main ideas above.",
             "Write a title for the text above.", "What is the text above about?"]
# 0 = one of the short chat prompts (~20-40 tokens); else ~50 tokens a repeat. On two CPU cores a
# prefill of several 1000-token prompts stalls every row for tens of seconds, so the mix stays
# below ~450 tokens there; --long adds 1000-token prompts and 256-token answers (for a GPU).
PROMPT_REPEATS = [0, 0, 0, 0, 1, 2, 4, 8]
OUTPUT_TOKENS = [8, 16, 16, 32, 32, 64, 128]
LONG_PROMPT_REPEATS, LONG_OUTPUT_TOKENS = [16, 20], [256]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Load:
    def __init__(self, engine, tokenizer, *, clients: int, seconds: float, seed: int):
        from playground.engine import GenerationRequest

        self.Request = GenerationRequest
        self.engine, self.tokenizer = engine, tokenizer
        self.clients, self.seconds, self.seed = clients, seconds, seed
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.done: list[tuple[float, int, int, float, float, str]] = []  # t, prompt, tokens, ttft, total, finish
        self.failures: list[str] = []
        self.samples: list[tuple[float, float, float, float]] = []  # t, RSS MiB, CPU seconds so far, load avg
        self.steps: list[tuple[float, int, float]] = []  # t (taken), rows, seconds

    def _request(self, rng: random.Random):
        repeats = rng.choice(PROMPT_REPEATS)
        text = rng.choice(PROMPTS) if repeats == 0 else PARAGRAPH * repeats + rng.choice(QUESTIONS)
        n = rng.choice(OUTPUT_TOKENS)
        sampled = rng.random() < 0.5
        return self.Request(prompt_ids=chat_ids(self.tokenizer, text), max_new_tokens=n, min_new_tokens=n,
                            temperature=0.8 if sampled else 0.0, top_p=0.95 if sampled else 1.0,
                            top_k=50 if sampled else 0, repetition_penalty=1.1 if sampled else 1.0,
                            seed=rng.randrange(2**31), should_cancel=self.stop.is_set)

    def _client(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        time.sleep(rng.uniform(0, 5))  # stagger the start
        while not self.stop.is_set():
            request = self._request(rng)
            try:
                result = self.engine.generate(request)
            except Exception as exc:  # counted and reported, not hidden
                with self.lock:
                    self.failures.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            with self.lock:
                self.done.append((time.perf_counter() - self.t0, result.prompt_tokens, result.completion_tokens,
                                  result.ttft_s, result.total_s, result.finish_reason))
            self.stop.wait(rng.expovariate(1 / 0.5))  # think time, mean 0.5 s

    def _sample(self) -> None:
        while True:
            now = time.perf_counter() - self.t0
            self.samples.append((now, rss_mib(), cpu_seconds(), os.getloadavg()[0]))
            while self.engine.step_times:
                rows, seconds = self.engine.step_times.popleft()
                self.steps.append((now, rows, seconds))
            if self.stop.wait(1.0) and now >= self.seconds:
                return

    def run(self) -> None:
        self.engine.step_times.clear()
        self.t0 = time.perf_counter()
        clients = [threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(self.clients)]
        sampler = threading.Thread(target=self._sample, daemon=True)
        sampler.start()
        for c in clients:
            c.start()
        time.sleep(self.seconds)
        self.stop.set()  # running requests end as "cancelled" at their next step
        for c in clients:
            c.join(timeout=120)
        sampler.join(timeout=10)


def window(load: Load, start: float, end: float) -> dict:
    steps = [(rows, s) for t, rows, s in load.steps if start <= t < end]
    done = [d for d in load.done if start <= d[0] < end]
    samples = [x for x in load.samples if start <= x[0] < end]
    rss = [x[1] for x in samples]
    cores = ((samples[-1][2] - samples[0][2]) / (samples[-1][0] - samples[0][0])
             if len(samples) > 1 and samples[-1][0] > samples[0][0] else float("nan"))
    by_rows: dict[int, list[float]] = defaultdict(list)
    for rows, s in steps:
        by_rows[rows].append(s)
    return {"steps": len(steps), "by_rows": by_rows, "done": len(done), "tokens": sum(d[2] for d in done),
            "mean_rows": statistics.mean(r for r, _ in steps) if steps else 0.0,
            "mean_ms": 1000 * statistics.mean(s for _, s in steps) if steps else 0.0,
            "rss_mean": statistics.mean(rss) if rss else float("nan"), "rss_end": rss[-1] if rss else float("nan"),
            "cores": cores, "load": statistics.mean(x[3] for x in samples) if samples else float("nan")}


def report(load: Load, args, device: str, loadavg_start, loadavg_end, cpu_s: float, rss_loaded: float) -> str:
    import torch

    seconds = args.seconds
    minute = min(60.0, seconds / 3)
    first, last = window(load, 0, minute), window(load, seconds - minute, seconds + 1)
    # Per batch size, first vs last; the like-for-like ratio weights each size by its steps in both.
    lines, weighted, weights = [], 0.0, 0
    for rows in sorted(set(first["by_rows"]) | set(last["by_rows"])):
        a, b = first["by_rows"].get(rows, []), last["by_rows"].get(rows, [])
        ma = 1000 * statistics.mean(a) if a else None
        mb = 1000 * statistics.mean(b) if b else None
        ratio = f"{mb / ma:.2f}×" if ma and mb else "—"
        if ma and mb:
            w = len(a) + len(b)
            weighted, weights = weighted + w * mb / ma, weights + w
        lines.append(f"| {rows} | {len(a)} | {f'{ma:.1f}' if ma else '—'} | {len(b)} | "
                     f"{f'{mb:.1f}' if mb else '—'} | {ratio} |")
    step_ratio = weighted / weights if weights else float("nan")
    rss_growth = last["rss_mean"] - first["rss_mean"]
    rss_all = [x[1] for x in load.samples]
    step_flat = 0.85 <= step_ratio <= 1.15
    rss_flat = abs(rss_growth) <= max(0.05 * first["rss_mean"], 16)
    # After the warm-up: from the end of the first minute to the end of the run.
    rss_warm = [x[1] for x in load.samples if x[0] >= minute]
    rss_after = (rss_warm[-1] - rss_warm[0]) if rss_warm else float("nan")
    rss_after_flat = abs(rss_after) <= max(0.05 * rss_warm[0], 16) if rss_warm else False
    timeline = []
    for m in range(int((seconds + minute - 1) // minute)):
        w = window(load, m * minute, min((m + 1) * minute, seconds + 1))
        timeline.append(f"| {m * minute / 60:.1f}–{min((m + 1) * minute, seconds) / 60:.1f} | {w['done']} | "
                        f"{w['tokens'] / minute:.1f} | {w['steps']} | {w['mean_rows']:.2f} | {w['mean_ms']:.1f} | "
                        f"{w['rss_end']:.0f} | {w['cores']:.2f} | {w['load']:.1f} |")
    done = load.done
    finishes = defaultdict(int)
    for d in done:
        finishes[d[5]] += 1
    cpu = f"{os.cpu_count()} cores" if device == "cpu" else torch.cuda.get_device_name(0)
    return f"""# Steady load on the batching engine

SmolLM2-135M-Instruct (fp32 on CPU, bf16 on CUDA) in one `BatchingEngine` (max batch {args.max_batch}),
{args.clients} client threads for {seconds / 60:.1f} minutes, each sending a seeded mix of prompts of
{min(d[1] for d in done) if done else 0}–{max(d[1] for d in done) if done else 0} tokens and answers of
{min(OUTPUT_TOKENS)}–{max(OUTPUT_TOKENS)} tokens (half greedy, half sampled), with a random pause (mean 0.5 s)
between requests, so requests join and leave running batches. On {device} ({cpu}, {platform.machine()}),
torch {torch.__version__} with {torch.get_num_threads()} threads. RSS is the whole process (model included).

Requests completed: {len(done)} ({', '.join(f'{k} {v}' for k, v in sorted(finishes.items()))}; the ones
running at the end were cancelled), failures: {len(load.failures)}{' — ' + load.failures[0] if load.failures else ''}.
Tokens generated: {sum(d[2] for d in done)} ({sum(d[2] for d in done) / seconds:.1f} tok/s);
decode steps: {len(load.steps)}; median TTFT {1000 * statistics.median(d[3] for d in done) if done else 0:.0f} ms.
Machine load (1-min load average, {os.cpu_count()} cores): {loadavg_start:.2f} at the start, {loadavg_end:.2f} at
the end; this process used {cpu_s / seconds:.2f} cores on average (CPU time / wall time), so the rest of the
load was other work on the shared machine.

## First vs last minute: mean decode-step time per batch size

A step is one `_step`: every row samples its token, then one forward pass over the batch. Its time
also depends on the context width (prompt plus tokens so far), which varies with the random mix,
so each row averages over a minute of it.

| rows in the step | first minute: steps | mean ms | last minute: steps | mean ms | last / first |
| ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(lines)}

Like-for-like (each batch size weighted by its steps): the last minute's steps take
**{step_ratio:.2f}×** the first minute's — **{'flat' if step_flat else 'not flat'}** (flat = within 0.85–1.15×).
This process had {first['cores']:.2f} cores in the first minute and {last['cores']:.2f} in the last (CPU time / wall
time; load average {first['load']:.1f} and {last['load']:.1f}): on a shared machine a step's wall time follows the CPU
it gets, so read a change in step time against a change in cores.

## Memory

| RSS (MiB) | |
| --- | ---: |
| model loaded and warmed up | {rss_loaded:.0f} |
| first minute, mean | {first['rss_mean']:.0f} |
| last minute, mean | {last['rss_mean']:.0f} |
| highest sample | {max(rss_all) if rss_all else float('nan'):.0f} |

Last minute − first minute: **{rss_growth:+.0f} MiB** — **{'flat' if rss_flat else 'not flat'}** (flat = within
5% or 16 MiB). The first minute includes the allocator growing to the largest batch and context
seen so far; from the end of the first minute to the end of the run: **{rss_after:+.0f} MiB** —
**{'flat' if rss_after_flat else 'not flat'}**.

## Timeline

| minutes | requests done | tok/s | decode steps | mean rows/step | mean step ms | RSS at end (MiB) | cores used | load avg |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(timeline)}

Command: `nice python bench/steady.py --seconds {seconds:g} --clients {args.clients}{' --long' if args.long else ''}` ({time.strftime('%Y-%m-%d')}).
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-batch", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)
    parser.add_argument("--long", action="store_true", help="add 1000-token prompts and 256-token answers")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "steady.md"))
    args = parser.parse_args()
    import torch

    from playground.engine import BatchingEngine, GenerationRequest

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.long:
        PROMPT_REPEATS.extend(LONG_PROMPT_REPEATS)
        OUTPUT_TOKENS.extend(LONG_OUTPUT_TOKENS)
    print(f"loading from {model_cache_dir()} on {device}", flush=True)
    model, tokenizer = load(device)
    engine = BatchingEngine(model, tokenizer, max_batch=args.max_batch)
    engine.generate(GenerationRequest(prompt_ids=chat_ids(tokenizer, PROMPTS[0]), max_new_tokens=4))  # warm-up
    rss_loaded = rss_mib()
    load_ = Load(engine, tokenizer, clients=args.clients, seconds=args.seconds, seed=args.seed)
    loadavg_start = os.getloadavg()[0]
    cpu_start = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    print(f"running {args.seconds:g} s with {args.clients} clients; RSS {rss_loaded:.0f} MiB", flush=True)
    load_.run()
    cpu_s = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu_start
    engine.close()
    text = report(load_, args, device, loadavg_start, os.getloadavg()[0], cpu_s, rss_loaded)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
