"""What it costs the engine when a burst's requests arrive spread out rather than together: the
engine alone (as in inference.py) at concurrency 8, the 8 requests submitted evenly over 0 ms
(together) up to --spreads ms, in one run.

Through the platform a burst of 8 jobs reaches the engine spread out: each job passes the web
server, the database, the queue and a worker's claim first (inference.py reports how far apart
the platform's first tokens came). Requests that arrive while the engine decodes join between
two steps, each arrival with its own prefill pass. On a CPU a pass costs about in proportion to
its rows; on a GPU a small model's pass costs about the same for 1 row as for 8 (kernel launches
and Python, not arithmetic), so spread-out arrivals cost a GPU more passes for the same work.

Rows alternate round by round with the together row, the order reversed every other round.
"vs together" is the median of the rounds' tok/s ratios; "extra" the median extra wall time of
a round, which includes the spread itself (the last request is submitted that late); "passes"
the median number of prefill passes a round took (1: all 8 in one).
Writes bench/results/arrivals[-cuda].md.

Usage: python bench/arrivals.py [--device cpu|cuda] [--rounds 9] [--spreads 50,100,200] [--tokens 32] [--out PATH]
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
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

PASSES: dict[str, list[int]] = {}  # each row's prefill passes, round by round


def spread_out(engine: EngineAlone, spread_s: float, name: str) -> Run:
    """One round of the 8 requests submitted evenly over `spread_s`; its prefill passes recorded."""
    run = engine.measure(len(engine.prompts), spread_s=spread_s)
    PASSES.setdefault(name, []).append(len(engine.engine.batch_sizes))
    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--spreads", default="50,100,200", help="ms between the first and the last submit")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--out")
    args = parser.parse_args()
    spreads = [float(ms) for ms in args.spreads.split(",")]
    engine = warm_engine(args.device, args.tokens)
    sides = {f"{ms:g}": (lambda s=ms / 1000, name=f"{ms:g}": spread_out(engine, s, name)) for ms in [0.0, *spreads]}
    rows_by_side = alternate(sides, rounds_each=args.rounds)
    engine.close()

    rows = []
    for name, run in rows_by_side.items():
        passes = statistics.median(PASSES[name])
        if name == "0":
            rows.append(f"| together | {run.tps:.1f} | | | {passes:g} | {run.ttft * 1000:.0f} ms | "
                        f"rounds {' / '.join(f'{r.tps:.1f}' for r in ROUND_RUNS[name])} tok/s |")
            continue
        ratio, extra_ms, ratios = against(name, "0")
        rows.append(f"| over {name} ms | {run.tps:.1f} | **{ratio:.3f}×** | {extra_ms:+.0f} ms | {passes:g} | "
                    f"{run.ttft * 1000:.0f} ms | rounds {' / '.join(f'{r:.3f}' for r in ratios)} |")
    command = " ".join(["python bench/arrivals.py", *sys.argv[1:]])
    report = f"""# Arrivals: a burst together or spread out

The engine alone (BatchingEngine, in this process) at concurrency {len(PROMPTS)}, {args.tokens} new tokens
each (greedy), SmolLM2-135M-Instruct on {device_name(args.device)}, {platform.machine()}; the
{len(PROMPTS)} requests submitted evenly over the spread. {args.rounds} rounds of each row, alternated,
the order reversed every other round; each row is its median round. "vs together" is the median
of the rounds' tok/s ratios to the together row; "extra" the median extra wall time of a round
(the spread itself included); "passes" the median number of prefill passes in a round; TTFT the
row's median first token.

| arrivals | tok/s | vs together | extra | passes | median TTFT | notes |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
{chr(10).join(rows)}

Command: `{command}` ({time.strftime('%Y-%m-%d')}).
"""
    write_report(report, "arrivals", args.device, args.out)
    print(report)


if __name__ == "__main__":
    main()
