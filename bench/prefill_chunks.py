"""A long prompt arriving while rows decode: prefilled in chunks between their steps, against in
one pass, on one engine in one run.

Seven rows decode (the short chat prompts, long answers). Once each has taken a few tokens, a long
prompt arrives and asks for one token. Measured in each round, while the long prompt is prefilled
(from its submit to its first token):
- the decoding rows' longest wait between two of their tokens (the stall a reader sees);
- the tokens each decoding row took meanwhile;
- the long prompt's time to its first token (what chunking costs it).
The two ways alternate round by round on the same engine (it reads `prefill_chunk_tokens` at each
chunk), the order reversed every other round; each figure is the median of the rounds.
Writes bench/results/prefill_chunks.md.

Usage: python bench/prefill_chunks.py [--rounds 4] [--lengths 400,1000,4000] [--chunk-tokens N] [--device cpu]
                                     [--out PATH]   (--chunk-tokens: the default for the device)
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

from inference import PROMPTS, ROOT, chat_ids, load, model_cache_dir
from steady import PARAGRAPH

DECODING_ROWS = 7  # and the long prompt makes the engine's batch of 8
WARM_TOKENS = 3  # each decoding row's tokens before the long prompt arrives


def long_prompt(tokenizer, length: int) -> list[int]:
    ids = tokenizer(PARAGRAPH * (length // 40 + 1), add_special_tokens=False)["input_ids"]
    return ids[:length]


def one_round(engine, tokenizer, prompt: list[int], chunk_tokens: int) -> dict:
    """Decoding rows, then the long prompt; the stall, the rows' tokens and the prompt's TTFT."""
    from playground.engine import GenerationRequest

    engine.prefill_chunk_tokens = chunk_tokens
    stamps: list[list[float]] = [[] for _ in range(DECODING_ROWS)]
    stop = threading.Event()

    def stamping(row: int):
        def check() -> bool:  # a row runs it as it takes each token
            stamps[row].append(time.perf_counter())
            return stop.is_set()
        return check

    rows = [engine.submit(GenerationRequest(prompt_ids=chat_ids(tokenizer, PROMPTS[i]), max_new_tokens=4000,
                                            min_new_tokens=4000, should_cancel=stamping(i)))
            for i in range(DECODING_ROWS)]
    while min(len(s) for s in stamps) < WARM_TOKENS:
        time.sleep(0.005)
    submitted = time.perf_counter()
    result = engine.generate(GenerationRequest(prompt_ids=prompt, max_new_tokens=1, min_new_tokens=1))
    first_token = submitted + result.ttft_s
    stop.set()
    for pending in rows:
        pending.wait(60)
    stalls, taken = [], []
    for row in stamps:
        before = [t for t in row if t < submitted][-1:]
        during = [t for t in row if submitted <= t <= first_token]
        after = [t for t in row if t > first_token][:1]
        times = before + during + after
        stalls.append(max(b - a for a, b in zip(times, times[1:])))
        taken.append(len(during))
    steps = [b - a for row in stamps for a, b in zip(row, row[1:]) if b < submitted]
    return {"stall": max(stalls), "taken": statistics.mean(taken), "ttft": result.ttft_s,
            "step": statistics.median(steps) if steps else float("nan")}


def report(results: dict, args, device: str, chunk_tokens: int, threads: int) -> str:
    lines = [
        "# Chunked prefill: a long prompt arriving while rows decode", "",
        f"SmolLM2-135M-Instruct on {device} ({os.cpu_count()} cores, {platform.machine()}), one `BatchingEngine` "
        f"(max batch 8, {threads} intra-op threads). {DECODING_ROWS} rows decode; once each has taken "
        f"{WARM_TOKENS} tokens, a prompt of the given length arrives and asks for one token. "
        f"Chunked: {chunk_tokens} tokens a chunk{' (the default on this device)' if not args.chunk_tokens else ''}, "
        "one chunk between two decode "
        "steps; one pass: `prefill_chunk_tokens=0`. The two alternate round by round on the same engine, "
        f"{args.rounds} rounds each, the order reversed every other round; each figure is the median of the "
        "rounds.", "",
        "- **stall**: the decoding rows' longest wait between two of their tokens while the prompt is "
        "prefilled (from its submit to its first token);",
        "- **tokens meanwhile**: tokens each decoding row took in that time (mean over the rows);",
        "- **TTFT**: the long prompt's submit to its first token;",
        "- **step**: the decoding rows' median time between tokens before the prompt arrived.", "",
        "| prompt tokens | prefill | stall | tokens meanwhile | TTFT | step |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    ratios = []
    for length, by_mode in results.items():
        medians = {mode: {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
                   for mode, rounds in by_mode.items()}
        for mode, m in medians.items():
            lines.append(f"| {length} | {mode} | {m['stall'] * 1000:.0f} ms | {m['taken']:.1f} | "
                         f"{m['ttft'] * 1000:.0f} ms | {m['step'] * 1000:.0f} ms |")
        chunked, whole = medians["chunked"], medians["one pass"]
        ratios.append(f"| {length} | {chunked['stall'] / whole['stall']:.2f}× | "
                      f"{chunked['ttft'] / whole['ttft']:.2f}× |")
    lines += ["", "Chunked against one pass:", "", "| prompt tokens | stall | TTFT of the long prompt |",
              "| ---: | ---: | ---: |", *ratios, "",
              f"Command: `python bench/prefill_chunks.py --rounds {args.rounds} --lengths {args.lengths}"
              f"{f' --chunk-tokens {args.chunk_tokens}' if args.chunk_tokens else ''}` "
              f"({time.strftime('%Y-%m-%d')}).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--lengths", default="400,1000,4000")
    parser.add_argument("--chunk-tokens", type=int, default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "prefill_chunks.md"))
    args = parser.parse_args()
    import torch

    from playground.engine import BatchingEngine, GenerationRequest
    from playground.engine.prefill import default_chunk_tokens

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    print(f"loading from {model_cache_dir()} on {device}", flush=True)
    model, tokenizer = load(device)
    engine = BatchingEngine(model, tokenizer, max_batch=DECODING_ROWS + 1)
    engine.generate(GenerationRequest(prompt_ids=chat_ids(tokenizer, PROMPTS[0]), max_new_tokens=4))  # warm-up
    chunk_tokens = args.chunk_tokens or default_chunk_tokens(device)
    modes = {"chunked": chunk_tokens, "one pass": 0}
    results: dict[int, dict[str, list[dict]]] = {}
    for length in (int(n) for n in args.lengths.split(",")):
        prompt = long_prompt(tokenizer, length)
        results[length] = {mode: [] for mode in modes}
        for n in range(args.rounds):
            order = list(modes) if n % 2 == 0 else list(reversed(modes))
            for mode in order:
                measured = one_round(engine, tokenizer, prompt, modes[mode])
                results[length][mode].append(measured)
                print(f"{length} tokens, {mode}: stall {measured['stall'] * 1000:.0f} ms, "
                      f"ttft {measured['ttft'] * 1000:.0f} ms, taken {measured['taken']:.1f}", flush=True)
    engine.close()
    text = report(results, args, device, chunk_tokens, torch.get_num_threads())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
