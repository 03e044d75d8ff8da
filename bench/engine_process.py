"""The platform with the worker's engine in the worker's own process and in a process of its own
(PLAYGROUND_ENGINE_PROCESS off and on), each against the engine alone, in one run.

Two throwaway deployments run side by side (as in inference.py: web server, one worker with 8
threads, production settings), the same except for where the worker's engine runs; each has its
own database and Redis database. The engine alone (BatchingEngine in this process), the one
deployment and the other take turns round by round, the order reversed every other round; each
row is its median round, and each comparison the median of the rounds' own.
"CPU s" is each process's CPU time in its median round: the worker's own threads and, with the
engine process, that process apart.
Writes bench/results/engine_process[-cuda].md.

Usage: python bench/engine_process.py [--device cpu|cuda] [--rounds 9] [--tokens 32] [--concurrency 8] [--out PATH]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from inference import (
    PROMPTS,
    Platform,
    against,
    alternate,
    device_name,
    engine_child,
    own_stores,
    measure,
    paired,
    run_job,
    stages_note,
    warm_engine,
    write_report,
)

LAYOUTS = {"off": "the engine in the worker's process", "on": "the engine in a process of its own"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=len(PROMPTS), help="jobs at once (1: one after another)")
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    params = {"max_new_tokens": args.tokens, "min_new_tokens": args.tokens, "temperature": 0,
              "repetition_penalty": 1.0, "top_k": 0, "top_p": 1.0}
    engine = warm_engine(args.device, args.tokens)
    concurrency = args.concurrency
    sides = {"engine": lambda: engine.measure(concurrency)}
    with tempfile.TemporaryDirectory() as tmp:
        deployments = []
        try:
            for layout in LAYOUTS:
                deployment = Platform(Path(tmp) / layout, device=args.device)
                (Path(tmp) / layout).mkdir()
                deployment.env["PLAYGROUND_ENGINE_PROCESS"] = layout
                own_stores(deployment, f"engine_{layout}", redis_db=12 + list(LAYOUTS).index(layout))
                deployments.append(deployment)
                key = deployment.start()
                run_job(deployment.base, key, "warm up", {**params, "max_new_tokens": 4, "min_new_tokens": 4})
                worker, web = (p.pid for p in deployment.processes)
                processes = {"worker": worker, "web server": web}
                if layout == "on":
                    processes["engine process"] = engine_child(worker)
                    assert processes["engine process"], "the worker started no engine process"
                job = lambda text, base=deployment.base, key=key: run_job(base, key, text, params)  # noqa: E731
                sides[layout] = lambda job=job, processes=processes: measure(job, PROMPTS, concurrency, processes)
                sides[layout]()  # the first round of 8 (on a GPU it picks its kernels), untimed
            rows = alternate(sides, rounds_each=args.rounds)
        finally:
            for deployment in deployments:
                deployment.stop()
    engine.close()

    table = [f"| engine alone | {rows['engine'].tps:.1f} | | | {rows['engine'].ttft * 1000:.0f} ms | "
             f"engine {rows['engine'].cpu['engine']:.2f} |"]
    for layout, label in LAYOUTS.items():
        ratio, extra_ms, ratios = against(layout, "engine")
        run = rows[layout]
        table.append(f"| platform, {label} | {run.tps:.1f} | **{ratio:.3f}×** (rounds "
                     f"{' / '.join(f'{r:.3f}' for r in ratios)}) | {extra_ms:+.0f} ms | {run.ttft * 1000:.0f} ms | "
                     f"{', '.join(f'{name} {s:.2f}' for name, s in run.cpu.items())} |")
    waits = "\n".join(f"- {label}{stages_note(rows[layout])}." for layout, label in LAYOUTS.items())
    own, own_rounds = paired("on", "off", lambda a, b: a.tps / b.tps)
    ttft_gain, _ = paired("on", "off", lambda a, b: (a.ttft - b.ttft) * 1000)
    command = " ".join(["python bench/engine_process.py", *sys.argv[1:]])
    stores = " + ".join(("PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite",
                         "Redis" if os.environ.get("REDIS_URL") else "filesystem broker"))
    report = f"""# The engine in the worker's process or in its own

SmolLM2-135M-Instruct on {device_name(args.device)}, {platform.machine()}; {len(PROMPTS)} chat jobs,
{args.tokens} new tokens each (greedy), {concurrency} at a time. Two deployments ({stores}, production settings), one with
PLAYGROUND_ENGINE_PROCESS=off and one with on, and the engine alone in this process, alternated
for {args.rounds} rounds (the order reversed every other round); rows are median rounds, ratios
the medians of the rounds' own.

| run | tokens/s | vs the engine alone | a round's extra time | median TTFT | CPU s (median round) |
| --- | ---: | ---: | ---: | ---: | --- |
{chr(10).join(table)}

Where the wait for the first token went (as in inference.py: "web" the POST until the job's row
was written, "queue" to the worker's claim, "engine" the engine's own time from the submit,
"rest" the remainder), in each layout's median round:
{waits}

The engine process against the engine in the worker's process, round by round: **{own:.3f}×**
tok/s (rounds {' / '.join(f'{r:.3f}' for r in own_rounds)}), TTFT {ttft_gain:+.0f} ms.

Command: `{command}` ({time.strftime('%Y-%m-%d')}).
"""
    write_report(report, "engine_process", args.device, args.out)
    print(report)


if __name__ == "__main__":
    main()
