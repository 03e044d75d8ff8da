"""Datasets with suites, and runs in given states, for the evaluation tests."""
from __future__ import annotations

import json

from django.utils import timezone

from evaluation import services
from evaluation.models import EvaluationRun, EvaluationSample
from evaluation.suites import sync_suite
from models_hub import demo_dataset
from models_hub.models import Resource
from models_hub.repos.commits import Changes, commit_files
from models_hub.repos.storage import spool_bytes, store
from tests.factories import UserFactory, runnable_model

SMALL_SUITE = """\
title: Small suite
tasks:
  - name: zh_en
    type: generate
    file: t.jsonl
    prompt: "Translate Chinese to English.\\nChinese: {{zh}}\\nEnglish:"
    target: en
    metrics: [bleu, chrf]
    max_tokens: 16
  - name: sums
    type: multiple_choice
    file: mc.jsonl
    prompt: "Question: {{question}}\\nAnswer:"
    choices: choices
    target: answer
  - name: text
    type: perplexity
    file: text.jsonl
    metrics: [word_perplexity, byte_perplexity, bits_per_byte, token_perplexity]
"""


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def small_files() -> dict[str, bytes]:
    return {"eval.yaml": SMALL_SUITE.encode(),
            "t.jsonl": jsonl(demo_dataset.eval_translation()[:3]),
            "mc.jsonl": jsonl(demo_dataset.eval_choices()[:4]),
            "text.jsonl": jsonl(demo_dataset.TEXTS[:1])}


def dataset(files: dict[str, bytes], *, owner: str = "acme", name: str = "bench", card: str = "") -> Resource:
    resource = Resource.objects.create(kind="dataset", owner=owner, name=name, title=name.title(), card=card)
    additions = [(path, store(spool_bytes(data, label=path))) for path, data in files.items()]
    if card:
        additions.append(("README.md", store(spool_bytes(card.encode(), label="README.md"))))
    commit_files(resource=resource, user=None, title="data", check_permission=False,
                 changes=Changes(additions=additions), notify_readme=False)
    return resource


def finished_run(*, model: Resource | None = None, suite_dataset: Resource | None = None, metrics: dict | None = None,
                 user=None, status: str = EvaluationRun.Status.SUCCEEDED, samples: int = 0) -> EvaluationRun:
    """A run as the worker leaves it (no model is run)."""
    model = model or runnable_model()
    suite = sync_suite(suite_dataset or dataset(small_files(), name=f"bench-{Resource.objects.count()}"))
    run = EvaluationRun.objects.create(
        user=user or UserFactory(), model=model, suite=suite, dataset_revision=suite.revision,
        model_revision=f"rev-{model.pk}", suite_spec=suite.spec, config={"max_length": 2048},
        config_hash=f"{model.pk}-{suite.pk}-{EvaluationRun.objects.count()}", status=status,
        metrics=metrics if metrics is not None else {"zh_en": {"bleu": 10.0, "bleu_stderr": 1.0, "chrf": 30.0,
                                                               "chrf_stderr": 2.0}},
        progress_done=samples, progress_total=samples, finished_at=timezone.now())
    EvaluationSample.objects.bulk_create([EvaluationSample(run=run, task="zh_en", index=i, input=f"in {i}",
                                                           prediction=f"out {i}", reference=f"ref {i}",
                                                           score={"chrf": 50.0}) for i in range(samples)])
    return run



def queued_run(*, model: Resource, suite_dataset: Resource, user=None) -> EvaluationRun:
    """A run as a request leaves it, but not sent to any queue: for driving the runner in-process
    while a live worker elsewhere in the session consumes the `evaluation` queue."""
    suite = sync_suite(suite_dataset)
    runtime = model.runtime
    revision, config = services.model_revision(runtime), services.run_config(runtime)
    return EvaluationRun.objects.create(
        user=user or UserFactory(), model=model, suite=suite, dataset_revision=suite.revision,
        model_revision=revision, suite_spec=suite.spec, config=config,
        config_hash=services.config_hash(model=model, model_rev=revision, suite=suite, config=config))
