"""What other work on the machine costs the engine: the engine alone at concurrency 8 (as in
inference.py), with and without a side load, in one run.

The side load is what a platform adds around the engine: short bursts of Python (a request, a
claim, a relay of text), here a pure-Python loop of --burst-ms every --period-ms. It runs
- on a thread of the engine's own process, where it also takes the interpreter's lock the
  engine's scheduler thread needs between its operations;
- in another process, where it shares only the machine's CPUs with the engine;
- in another process that wakes as often but does no work (the control: waking alone).
The sides alternate round by round, the order reversed every other round; each figure is the
median of the rounds' comparisons with the plain round beside it. The side's own CPU time per
round is measured, so the engine's extra time can be read against it.
Writes bench/results/cpu_contention[-cuda].md.

Usage: python bench/cpu_contention.py [--device cpu|cuda] [--rounds 9] [--burst-ms 2] [--period-ms 55]
                                      [--tokens 32] [--out PATH]
"""
from __future__ import annotations

import argparse
import multiprocessing
import platform
import statistics
import sys
import threading
import time

from inference import (
    PROMPTS,
    ROUND_RUNS,
    EngineAlone,
    Run,
    against,
    alternate,
    device_name,
    warm_engine,
    write_report,
)

# A fresh interpreter, not a fork: a forked child shares this process's pages (the model's among
# them), and the engine's writes would then copy each page once, a cost that is not the load's.
SPAWN = multiprocessing.get_context("spawn")


def side_load(ready, go, stop, cpu_seconds, burst_s: float, period_s: float) -> None:
    """From `go` until `stop`, bursts of `burst_s` of pure Python every `period_s`; adds the CPU
    time it spent meanwhile to `cpu_seconds` (a shared value)."""
    ready.set()
    go.wait()
    started = time.thread_time()
    while not stop.is_set():
        end = time.perf_counter() + burst_s
        count = 0
        while time.perf_counter() < end:
            count += 1
        stop.wait(period_s - burst_s)
    with cpu_seconds.get_lock():
        cpu_seconds.value += time.thread_time() - started


def measured(engine: EngineAlone, *, where: str | None, burst_s: float, period_s: float) -> Run:
    """One round of the engine alone at 8 with the side load `where` ("thread", "process",
    "wakes": a process that wakes as often and does no work, None: no side load); the side's CPU
    seconds go into the run's `cpu` as "side"."""
    ready, go, stop = SPAWN.Event(), SPAWN.Event(), SPAWN.Event()
    cpu = SPAWN.Value("d", 0.0)
    side = None
    if where == "thread":
        side = threading.Thread(target=side_load, args=(ready, go, stop, cpu, burst_s, period_s))
    elif where in ("process", "wakes"):
        side = SPAWN.Process(target=side_load, args=(ready, go, stop, cpu, burst_s if where == "process" else 0.0,
                                                     period_s))
    if side is not None:
        side.start()
        ready.wait()  # started: its start is not the round's
    go.set()
    try:
        run = engine.measure(len(PROMPTS))
    finally:
        stop.set()
        if side is not None:
            side.join()
    run.cpu["side"] = cpu.value
    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--burst-ms", type=float, default=2.0)
    parser.add_argument("--period-ms", type=float, default=55.0)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--out", help="the report's path (default bench/results/cpu_contention[-cuda].md)")
    args = parser.parse_args()
    burst_s, period_s = args.burst_ms / 1000, args.period_ms / 1000
    engine = warm_engine(args.device, args.tokens)
    labels = {"thread": "a thread of the engine's process", "process": "another process",
              "wakes": "another process, waking only (control)"}
    rows_by_side = alternate({"none": lambda: measured(engine, where=None, burst_s=burst_s, period_s=period_s),
                              **{side: lambda side=side: measured(engine, where=side, burst_s=burst_s,
                                                                   period_s=period_s) for side in labels}},
                             rounds_each=args.rounds)
    engine.close()

    command = " ".join(["python bench/cpu_contention.py", *sys.argv[1:]])
    threads = f"{engine.engine.decode_threads} of {engine.engine.prefill_threads}"
    rows = [f"| none | {rows_by_side['none'].tps:.1f} | | | | "
            f"rounds {' / '.join(f'{r.tps:.1f}' for r in ROUND_RUNS['none'])} tok/s |"]
    for side, label in labels.items():
        ratio, extra_ms, ratios = against(side, "none")
        cpu_ms = statistics.median(r.cpu["side"] * 1000 for r in ROUND_RUNS[side])
        rows.append(f"| {label} | {rows_by_side[side].tps:.1f} | **{ratio:.3f}×** | {extra_ms:+.0f} ms | "
                    f"{cpu_ms:.0f} ms | rounds {' / '.join(f'{r:.3f}' for r in ratios)} |")
    report = f"""# What other work costs the engine

The engine alone (BatchingEngine, in this process) at concurrency {len(PROMPTS)}, {args.tokens} new tokens
each (greedy), SmolLM2-135M-Instruct on {device_name(args.device)}, {platform.machine()}, decoding
on {threads} threads as it chose at start. Beside it, a side load of
{args.burst_ms:g} ms bursts of pure Python every {args.period_ms:g} ms, run in the three places below;
{args.rounds} rounds, alternated with the plain round, the order reversed every other round.
"vs none" is the median of the rounds' tok/s ratios to the plain round beside them; "extra" the
median of the rounds' extra wall time; "side CPU" the side load's own CPU time per round.

| side load | tok/s | vs none | extra | side CPU | notes |
| --- | ---: | ---: | ---: | ---: | --- |
{chr(10).join(rows)}

Command: `{command}` ({time.strftime('%Y-%m-%d')}).
"""
    write_report(report, "cpu_contention", args.device, args.out)
    print(report)


if __name__ == "__main__":
    main()
