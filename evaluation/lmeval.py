"""A suite as lm-evaluation-harness task configs over local files, and lm-eval's results as ours.

The configs are written as YAML into the run's directory, so the platform and lm-eval's own CLI
(`lm_eval --include_path DIR --tasks …`) read exactly the same tasks. Data files are read from
the repository exported at the pinned revision: lm-eval loads them with `datasets`' json/csv
builders, offline. No Django here but settings-free helpers; the runner brings the rest.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import yaml

from .suite_spec import HIGHER_IS_BETTER, SuiteSpec, TaskSpec, TaskType, prompt_is_safe

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               # BLEU/chrF bootstrap would fork a process pool inside the worker
               "DISABLE_MULTIPROC": "1", "LMEVAL_DISABLE_MULTIPROC": "1", "TOKENIZERS_PARALLELISM": "false"}
BOOTSTRAP_ITERS = 100_000  # lm-eval's CLI default (BLEU/chrF use at most 100 of them)
OURS = {"token_perplexity"}  # metrics lm-eval does not compute (see runner.token_perplexity)


def go_offline() -> None:
    """Before lm_eval or datasets is imported: nothing may be downloaded."""
    os.environ.update(OFFLINE_ENV)


def _metric(name: str) -> dict:
    aggregation = {"bleu": "bleu", "chrf": "chrf", "exact_match": "mean", "acc": "mean", "acc_norm": "mean",
                   "word_perplexity": "weighted_perplexity", "byte_perplexity": "weighted_perplexity",
                   "bits_per_byte": "bits_per_byte"}[name]
    return {"metric": name, "aggregation": aggregation, "higher_is_better": HIGHER_IS_BETTER[name]}


def task_config(task: TaskSpec, data_dir: Path) -> dict:
    """lm-eval's task config (its YAML keys) for one declared task."""
    if task.prompt and not prompt_is_safe(task.prompt):  # a suite stored before the check
        raise ValueError(f"Task {task.name}: the prompt may hold only text and {{{{field}}}} placeholders.")
    path = (data_dir / task.file).resolve()
    config = {
        "task": task.name,
        "dataset_path": "csv" if task.file.endswith(".csv") else "json",
        "dataset_kwargs": {"data_files": {"test": str(path)}},
        "test_split": "test",
        "num_fewshot": 0,
        "metric_list": [_metric(m) for m in task.metrics if m not in OURS],
        "metadata": {"version": 1.0},
    }
    if task.type == TaskType.PERPLEXITY:
        config.update(output_type="loglikelihood_rolling", doc_to_text="", doc_to_target=task.text)
        if not config["metric_list"]:  # token perplexity alone still needs the log-likelihoods
            config["metric_list"] = [_metric("byte_perplexity")]
    elif task.type == TaskType.GENERATE:
        config.update(output_type="generate_until", doc_to_text=task.prompt,
                      doc_to_target=task.target,
                      generation_kwargs={"until": list(task.until), "max_gen_toks": task.max_tokens,
                                         "do_sample": False, "temperature": 0.0})
    else:
        config.update(output_type="multiple_choice", doc_to_text=task.prompt, doc_to_choice=task.choices,
                      doc_to_target=task.target)
    return config


def write_task_dir(suite: SuiteSpec, data_dir: Path, task_dir: Path) -> list[str]:
    """One YAML per task in `task_dir` (for TaskManager(include_path=…) and the CLI's
    --include_path); returns the task names."""
    task_dir.mkdir(parents=True, exist_ok=True)
    for task in suite.tasks:
        text = yaml.safe_dump(task_config(task, data_dir), allow_unicode=True, sort_keys=False)
        (task_dir / f"{task.name}.yaml").write_text(text, encoding="utf-8")
    return [task.name for task in suite.tasks]


def load_tasks(task_dir: Path, names: list[str]) -> dict:
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(task_dir), include_defaults=False).load(names)


def count_requests(task_dict: dict, limit: int | None = None) -> int:
    """How many requests the model will get: one per row, one per choice for multiple choice."""
    total = 0
    for task in task_dict["tasks"].values():
        docs = list(task.eval_docs)[:limit] if limit else list(task.eval_docs)
        if task.OUTPUT_TYPE == "multiple_choice":
            total += sum(len(task.doc_to_choice(doc)) for doc in docs)
        else:
            total += len(docs)
    return total


def _number(value) -> float | None:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None  # lm-eval reports "N/A" for the stderr of perplexities


def metrics_from(results: dict, suite: SuiteSpec) -> dict:
    """{task: {metric: value, metric_stderr: value}} from lm-eval's `results`."""
    out: dict[str, dict] = {}
    for task in suite.tasks:
        row = results.get("results", {}).get(task.name, {})
        values = {}
        for metric in task.metrics:
            if metric in OURS:
                continue
            values[metric] = _number(row.get(f"{metric},none"))
            values[f"{metric}_stderr"] = _number(row.get(f"{metric}_stderr,none"))
        out[task.name] = values
    return out


def _text(value) -> str:
    """Text as PostgreSQL stores it (no NUL)."""
    if isinstance(value, (list, tuple)):
        return "\n".join(_text(v) for v in value)
    return "" if value is None else str(value).replace("\x00", "\ufffd")


def sentence_scores(prediction: str, reference: str, metrics) -> dict:
    """Per-example BLEU/chrF for reading the samples (sacrebleu's sentence-level scores; the
    task's own figures are lm-eval's corpus-level ones)."""
    import sacrebleu

    scores = {}
    if "bleu" in metrics:
        scores["bleu"] = sacrebleu.sentence_bleu(prediction, [reference]).score
    if "chrf" in metrics:
        scores["chrf"] = sacrebleu.sentence_chrf(prediction, [reference]).score
    return scores


def samples_from(results: dict, suite: SuiteSpec) -> list[dict]:
    """Per-example rows: task, index, input, prediction, reference, score ({metric: value})."""
    rows = []
    for task in suite.tasks:
        for sample in results.get("samples", {}).get(task.name, []):
            args = sample.get("arguments") or []
            resps = sample.get("filtered_resps") or []
            score = {}
            for metric in task.metrics:
                value = sample.get(metric)
                if isinstance(value, (int, float)):
                    score[metric] = float(value)
            if task.type == TaskType.GENERATE:
                prompt = _text(args[0][0]) if args else ""
                prediction = _text(resps[0] if resps else "")
                reference = _text(sample.get("target"))
                score.update(sentence_scores(prediction, reference, task.metrics))
            elif task.type == TaskType.MULTIPLE_CHOICE:
                prompt = _text(args[0][0]) if args else ""
                choices = [a[1] for a in args]
                lls = [r[0] if isinstance(r, (list, tuple)) else r for r in resps]
                best = max(range(len(lls)), key=lambda i: lls[i]) if lls else 0
                prediction = choices[best].strip() if choices else ""
                target = sample.get("target")
                reference = (choices[target].strip() if isinstance(target, int) and 0 <= target < len(choices)
                             else _text(target))
            else:
                prompt = _text(args[0][0]) if args else ""
                prediction = ""
                reference = ""
                ll = resps[0] if resps else None
                if isinstance(ll, (list, tuple)):
                    ll = ll[0]
                if isinstance(ll, (int, float)):
                    score["loglikelihood"] = float(ll)
            rows.append({"task": task.name, "index": int(sample.get("doc_id", len(rows))), "input": prompt,
                         "prediction": prediction, "reference": reference, "score": score})
    return rows


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("lm_eval", "sacrebleu", "transformers", "torch", "datasets"):
        try:
            found[name] = version(name.replace("_", "-"))
        except PackageNotFoundError:
            found[name] = None
    return found
