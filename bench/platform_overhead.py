"""The platform's own cost per job, shown with an engine so fast that little else is left.

With the demo model on this 2-core CPU a burst of 8 takes about half a second to prefill and 70 ms
a decode step, so the platform's way in (the HTTP request, the database, the queue, the worker's
claim: tens of ms) is a few percent of a round. On a GPU the same model's round is short, and that
way in is most of the gap (inference-cuda.md). `--model tiny` (the default) runs a Llama of
2 layers, 64 wide, with seeded random weights and the demo model's tokenizer and chat template,
built here (nothing is downloaded): its round of 8 answers of 32 tokens takes about 0.13 s on this
CPU, so what the platform adds shows here as it would beside a fast GPU engine. Its text is
gibberish; every token is still sampled, streamed and counted as the demo model's are.
`--model demo` runs the demo model instead.

Each deployment is measured through three doors: the jobs API with a POST and then the job's SSE
stream (two requests), the jobs API with `"stream": true` (the submit answers with the stream, as
the playground page does: one request), and `/v1/chat/completions` with `stream: true` as an
OpenAI client sends it (one request).

Deployments as in inference.py (PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set,
production settings, one worker with 8 threads and its engine process), one per count in
`--web-workers` (uvicorn's --workers; docs/operations.md runs 4), each with a database and a Redis
database of its own. They take turns round by round with the engine alone (in this process), the
order reversed every other round, at concurrency 1 and `--concurrency`; rows are median rounds and
each comparison the median of the rounds' own.

Writes bench/results/platform_overhead[-cuda].md.
Usage: python bench/platform_overhead.py [--model tiny|demo] [--web-workers 1,2] [--device cpu]
       [--rounds 9] [--tokens 32] [--concurrency 8] [--doors jobs,stream,v1] [--out PATH]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from inference import (
    MODEL,
    PROMPTS,
    ROOT,
    SPEC,
    EngineAlone,
    Platform,
    against,
    alternate,
    chat_stream,
    chat_ids,
    deployment_processes,
    device_name,
    measure,
    model_cache_dir,
    own_stores,
    paired,
    run_job,
    stages_note,
    write_report,
)

TINY_RUNTIME = "bench/tiny"  # the deployments' runtime for --model tiny (a local directory)
DOOR_LABELS = {"jobs": "", "stream": ", stream: true", "v1": ", /v1/"}
TINY_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json")


def tiny_model() -> Path:
    """The tiny Llama's directory, var/bench-tiny-model/ (written once): seeded random weights and
    the demo model's tokenizer files, from its GGUF file converted into the model cache."""
    folder = ROOT / "var" / "bench-tiny-model"
    if (folder / "model.safetensors").exists():
        return folder
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from playground.engine import RuntimeSpec
    from playground.engine.loading import model_directory

    demo = Path(model_directory(RuntimeSpec(*SPEC), cache_dir=model_cache_dir()))
    partial = folder.with_name(folder.name + f".partial-{os.getpid()}")
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=49152, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                 num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                                 max_position_embeddings=2048)).save_pretrained(partial)
    for name in TINY_FILES:
        shutil.copy(demo / name, partial / name)  # the generation config too: its end-of-text ids
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def engine_alone(model_name: str, device: str, tokens: int) -> EngineAlone:
    from playground.engine import RuntimeSpec
    from playground.engine.loading import load_model

    spec = RuntimeSpec("local", str(tiny_model())) if model_name == "tiny" else RuntimeSpec(*SPEC)
    model, tokenizer = load_model(spec, cache_dir=model_cache_dir(), device=device)
    engine = EngineAlone(model, tokenizer, [chat_ids(tokenizer, p) for p in PROMPTS], tokens)
    engine.measure(len(PROMPTS))  # one untimed round of all of them (on a GPU it picks its kernels)
    return engine


def v1_job(base: str, key: str, text: str, tokens: int, model: str) -> tuple[int, float, float]:
    """One streaming chat completion through the platform's /v1/: (completion tokens, seconds to
    the first content, total seconds)."""
    body = {"model": model, "stream": True, "stream_options": {"include_usage": True}, "temperature": 0,
            "top_p": 1.0, "max_tokens": tokens, "min_tokens": tokens, "messages": [{"role": "user", "content": text}]}
    return chat_stream(f"{base}/v1/chat/completions", body, {"Authorization": f"Bearer {key}"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=("tiny", "demo"), default="tiny")
    parser.add_argument("--web-workers", default="1,2", help="uvicorn workers, one deployment per count")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=len(PROMPTS))
    parser.add_argument("--doors", default="jobs,stream,v1",
                        help="jobs (POST, then GET the SSE stream), stream (POST with stream: true), v1 (/v1/chat/completions)")
    parser.add_argument("--out")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    counts = [int(n) for n in args.web_workers.split(",")]
    params = {"max_new_tokens": args.tokens, "min_new_tokens": args.tokens, "temperature": 0,
              "repetition_penalty": 1.0, "top_k": 0, "top_p": 1.0}
    engine = engine_alone(args.model, args.device, args.tokens)
    served = TINY_RUNTIME if args.model == "tiny" else MODEL
    sides = {1: {"engine": lambda: engine.measure(1)},
             args.concurrency: {"engine": lambda: engine.measure(args.concurrency)}}
    doors = args.doors.split(",")
    labels = {}  # side -> row label; a side is (web workers, door)
    for count in counts:
        for door in doors:
            labels[(count, door)] = (f"platform, {count} web worker{'s' if count > 1 else ''}"
                                     + DOOR_LABELS[door])
    with tempfile.TemporaryDirectory() as tmp:
        deployments = []
        try:
            for index, count in enumerate(counts):
                workdir = Path(tmp) / f"web{count}"
                workdir.mkdir()
                deployment = Platform(workdir, device=args.device, web_workers=count)
                own_stores(deployment, f"overhead_{count}", redis_db=10 + index)
                deployments.append(deployment)
                deployment.manage("migrate", "--noinput")
                if args.model == "tiny":
                    deployment.manage("runtime", "add", TINY_RUNTIME, "--backend", "embedded", "--source", "local",
                                      "--location", str(tiny_model()))
                key = deployment.start()
                run_job(deployment.base, key, "warm up", {**params, "max_new_tokens": 4, "min_new_tokens": 4}, served)
                processes = deployment_processes(deployment)
                jobs = {"jobs": lambda text, d=deployment, key=key: run_job(d.base, key, text, params, served),
                        "stream": lambda text, d=deployment, key=key: run_job(d.base, key, text, params, served,
                                                                              one_request=True),
                        "v1": lambda text, d=deployment, key=key: v1_job(d.base, key, text, args.tokens, served)}
                for door in doors:
                    for concurrency in sides:
                        sides[concurrency][(count, door)] = (lambda c=concurrency, job=jobs[door], processes=processes:
                                                             measure(job, PROMPTS, c, processes))
                    sides[args.concurrency][(count, door)]()  # untimed: every web worker and thread has run once
            # Compared as soon as measured: `against` reads the rounds of the latest alternation.
            measured = {concurrency: compared(alternate(named, rounds_each=args.rounds), list(labels))
                        for concurrency, named in sides.items()}
        finally:
            for deployment in deployments:
                deployment.stop()
    engine.close()
    report = write(args, labels, measured)
    write_report(report, "platform_overhead", args.device, args.out)
    print(report)


def compared(rows: dict, sides: list) -> dict:
    """Each deployment's rows (one per door) against the engine alone's, round by round: tok/s
    ratio (and the rounds'), extra ms a round, TTFT difference (ms)."""
    return {"rows": rows, **{side: (*against(side, "engine"),
                                    paired(side, "engine", lambda a, b: (a.ttft - b.ttft) * 1000)[0])
                             for side in sides}}


def write(args, labels: dict[int, str], measured: dict) -> str:
    sections = []
    for concurrency, result in measured.items():
        engine = result["rows"]["engine"]
        table = [f"| engine alone | {engine.tps:.1f} | | | {engine.ttft * 1000:.0f} ms | engine {engine.cpu['engine']:.3f} |"]
        waits = []
        for side, label in labels.items():
            run = result["rows"][side]
            ratio, extra_ms, ratios, ttft_ms = result[side]
            table.append(f"| {label} | {run.tps:.1f} | **{ratio:.3f}×** (rounds {' / '.join(f'{r:.2f}' for r in ratios)}) "
                         f"| {extra_ms:+.0f} ms | {run.ttft * 1000:.0f} ms ({ttft_ms:+.0f}) | {run.cpu_text(3)} |")
            if run.stages:  # jobs API rows: the final event carries the job's timestamps
                waits.append(f"- {label}{stages_note(run)}.")
        jobs = "one job at a time" if concurrency == 1 else f"{concurrency} jobs at once"
        sections.append(f"""### {jobs}

| run | tokens/s | vs the engine alone | a round's extra time | median TTFT | CPU s (median round) |
| --- | ---: | ---: | ---: | ---: | --- |
{chr(10).join(table)}

{chr(10).join(waits)}
""")
    model = ("a tiny Llama (2 layers, 64 wide, random weights) with the demo model's tokenizer" if args.model == "tiny"
             else "SmolLM2-135M-Instruct")
    command = " ".join(["python bench/platform_overhead.py", *sys.argv[1:]])
    stores = " + ".join(("PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite",
                         "Redis" if os.environ.get("REDIS_URL") else "filesystem broker"))
    return f"""# The platform's own cost per job

{model} on {device_name(args.device)}, {platform.machine()}; {len(PROMPTS)} chat jobs, {args.tokens} new
tokens each (greedy). Deployments ({stores}, production settings, one worker with 8 threads and its
engine process) with 1 or more uvicorn workers, and the engine alone in this process, alternated for
{args.rounds} rounds (the order reversed every other round); rows are median rounds, ratios and
differences the medians of the rounds' own. "To the first token" splits a platform job's wait as
in inference.py: "web" the POST until the job's row was written, "queue" to the worker's claim,
"engine" the engine's own time from the submit (its gather of a burst and its prefill), "rest" the
remainder (the worker's preparation, and the token's way to the client).

{chr(10).join(sections)}
Command: `{command}` ({time.strftime('%Y-%m-%d')}).
"""


if __name__ == "__main__":
    main()
