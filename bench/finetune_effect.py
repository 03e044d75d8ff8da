"""Does the demo fine-tune help? Train it (`manage.py demo_finetune`), then run the demo suite on
the base model and on the fine-tune through the platform's evaluation runner, and write both
results side by side into bench/results/finetune_effect.md.

Run on its own database (DATABASE_URL, or SQLite under VAR_DIR): it seeds the demo data first.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from evaluation import runner, services  # noqa: E402
from evaluation.models import EvaluationRun  # noqa: E402
from finetune.management.commands.demo_finetune import DEMO_PARAMS, OUTPUT_NAME  # noqa: E402
from models_hub.models import Resource  # noqa: E402

BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"
SUITE = "community/bilingual-demo"


def evaluate(user, repo_id: str) -> EvaluationRun:
    model = Resource.objects.get(kind="model", repo_id=repo_id)
    dataset = Resource.objects.get(kind="dataset", repo_id=SUITE)
    run, created = services.request_run(user=user, model=model, dataset=dataset)
    if created or run.status != "succeeded":
        runner.execute_run(run_id=run.pk, worker="bench")
        run.refresh_from_db()
    if run.status != "succeeded":
        raise SystemExit(f"the evaluation of {repo_id} failed: {run.error}")
    return run


def main() -> None:
    call_command("migrate", "--noinput", verbosity=0)
    call_command("seed_demo", verbosity=0)
    started = time.perf_counter()
    call_command("demo_finetune")
    train_s = time.perf_counter() - started
    owner = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    tuned = f"{owner.username}/{OUTPUT_NAME}"
    runs = {BASE: evaluate(owner, BASE), tuned: evaluate(owner, tuned)}
    columns = sorted({(task, metric) for run in runs.values() for task, values in run.metrics.items()
                      for metric in values if not metric.endswith("_stderr")})
    lines = [
        "# Does the demo fine-tune help?", "",
        f"`python bench/finetune_effect.py`: `manage.py demo_finetune` ({DEMO_PARAMS['max_steps']} steps of LoRA, "
        f"r {DEMO_PARAMS['lora_r']}, batch {DEMO_PARAMS['batch_size']}, max length {DEMO_PARAMS['max_seq_len']}, "
        f"learning rate {DEMO_PARAMS['learning_rate']}) on the demo dataset's sentence pairs took {train_s:.0f} s "
        f"here ({os.cpu_count()} CPUs, shared), then the demo suite `{SUITE}` through the platform's evaluation "
        "runner on the base model and on the fine-tune. ± is the standard error lm-eval reports (none for perplexity).",
        "", "| task | metric | " + " | ".join(runs) + " |", "| --- | --- | " + " | ".join("---:" for _ in runs) + " |"]
    for task, metric in columns:
        cells = []
        for run in runs.values():
            values = run.metrics.get(task, {})
            value, err = values.get(metric), values.get(f"{metric}_stderr")
            cells.append("" if value is None else f"{value:.4g}" + (f" ± {err:.2g}" if isinstance(err, float) else ""))
        lines.append(f"| {task} | {metric} | " + " | ".join(cells) + " |")
    out = ROOT / "bench" / "results" / "finetune_effect.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
