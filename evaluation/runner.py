"""The worker side of an evaluation run: claim it, export the dataset at its pinned revision, turn
the suite into lm-eval tasks, run them against the model through the platform's backend, and
record metrics, samples and versions. Runs on the `evaluation` queue's workers only.

Progress goes to the run's event log (`progress` {done, total}) and its row; a `cancel` event or
the row's flag stops it between requests; the run has a wall-clock deadline
(EVALUATION_DEADLINE_S); heartbeats let the reaper re-queue or fail a run whose worker died.
"""
from __future__ import annotations

import logging
import math
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import attempts, eventlog
from core.heartbeat import start_heartbeat
from core.i18n import in_language_of
from models_hub.models import Runtime
from models_hub.repos.materialise import fetch_repository
from playground.backends import BackendError, engine_registry
from playground.engine import EngineClosed, GenerationError, ModelLoadError, RuntimeSpec
from playground.engine.loading import materialise

from . import lmeval, notices
from .lm import EngineLM, UpstreamLM
from .models import EvaluationRun, EvaluationSample
from .suite_spec import SuiteSpec, TaskType, from_dict

log = logging.getLogger(__name__)
Status = EvaluationRun.Status
MAX_ATTEMPTS = 2  # the first delivery and one re-delivery after a worker died
PROGRESS_EVERY_S = 0.5
CANCEL_CHECK_S = 0.2
_stopping = threading.Event()


class HandedBack(Exception):
    """This worker is stopping: the run went back to `queued` for another worker."""


class Stopped(Exception):
    """The run was cancelled, or ran past its deadline; the message says which."""

    def __init__(self, status: str, message: str = ""):
        self.status = status
        super().__init__(message)


def shutdown(**_kwargs) -> None:
    """worker_shutting_down receiver: runs in progress are handed back at their next check."""
    _stopping.set()


def _claim(run_id: int, worker: str) -> EvaluationRun | None:
    with transaction.atomic():
        run = (EvaluationRun.objects.select_for_update(of=("self",)).select_related("model__runtime", "suite__dataset", "user")
               .filter(pk=run_id).first())
        if run is None or run.is_finished:
            return None
        now = timezone.now()
        alive_since = now - timedelta(seconds=settings.EVALUATION_STALE_AFTER_S)
        if run.status == Status.RUNNING and run.heartbeat_at and run.heartbeat_at > alive_since:
            return None  # a live worker has it; the reaper covers deaths
        if run.cancel_requested:
            run.status, run.finished_at = Status.CANCELLED, now
            run.save(update_fields=["status", "finished_at"])
            return None
        if run.attempts >= MAX_ATTEMPTS:
            run.status, run.finished_at = Status.FAILED, now
            with in_language_of(run.user):
                run.error = _("The worker running this evaluation stopped twice; giving up.")
            run.save(update_fields=["status", "finished_at", "error"])
            return None
        run.status, run.started_at, run.heartbeat_at, run.worker = Status.RUNNING, now, now, worker[:200]
        run.attempts = F("attempts") + 1
        run.progress_done = 0
        run.save(update_fields=["status", "started_at", "heartbeat_at", "worker", "attempts", "progress_done"])
        run.refresh_from_db(fields=["attempts"])
        return run


class _Watch:
    """Progress out (log and row, throttled), cancel and deadline in, on the task's thread."""

    def __init__(self, run: EvaluationRun, writer: eventlog.LogWriter, deadline: float):
        self.run, self.writer, self.deadline = run, writer, deadline
        self.done, self.total = 0, 0
        self._last_progress = self._last_check = self._last_flag = 0.0

    def start(self, total: int) -> None:
        self.total = total
        attempts.held(self.run).update(progress_total=total, progress_done=0)
        self._publish(force=True)

    def progress(self, n: int) -> None:
        self.done = min(self.total, self.done + n)
        self._publish(force=self.done == self.total)
        self.check()

    def _publish(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_progress >= PROGRESS_EVERY_S:
            self._last_progress = now
            self.writer.append("progress", {"done": self.done, "total": self.total})
            attempts.held(self.run).update(progress_done=self.done, heartbeat_at=timezone.now())

    def check(self) -> None:
        now = time.monotonic()
        if now > self.deadline:
            raise Stopped(Status.FAILED, _("The evaluation did not finish within its time limit of %(s)d seconds.")
                          % {"s": settings.EVALUATION_DEADLINE_S})
        if _stopping.is_set():
            raise HandedBack
        if now - self._last_check >= CANCEL_CHECK_S:
            self._last_check = now
            if self.writer.cancel_requested():
                raise Stopped(Status.CANCELLED)
        if now - self._last_flag >= 1.0:  # the row's flag too: the log may have been down
            self._last_flag = now
            # Cancelled, or this attempt superseded (core.attempts): either way it stops, and
            # attempts.finish() records the cancel only where the attempt still holds the run.
            if not attempts.held(self.run).filter(cancel_requested=False).exists():
                raise Stopped(Status.CANCELLED)


def _data_dir(run: EvaluationRun) -> Path:
    """The dataset's files at the run's pinned revision, exported once into the model cache."""
    spec = RuntimeSpec(source="repo", location=f"dataset/{run.suite.dataset.repo_id}", revision=run.dataset_revision)
    return materialise(spec, cache_dir=Path(settings.MODEL_CACHE_DIR), fetch_repo=fetch_repository)


def _tokenizer_dir(run: EvaluationRun) -> Path:
    """An upstream model's tokenizer, from its repository on this site (lm-eval needs one to
    score log-likelihoods; nothing is downloaded)."""
    commit = run.model.commits.order_by("-id").first()
    if commit is None:
        raise BackendError(_("An upstream model needs its tokenizer files in its repository on this site."))
    spec = RuntimeSpec(source="repo", location=f"model/{run.model.repo_id}", revision=commit.sha)
    path = materialise(spec, cache_dir=Path(settings.MODEL_CACHE_DIR), fetch_repo=fetch_repository)
    if not (path / "tokenizer_config.json").exists():
        raise BackendError(_("An upstream model needs its tokenizer files in its repository on this site."))
    return path


def build_lm(run: EvaluationRun, watch: _Watch):
    runtime = run.model.runtime
    max_length = int(run.config.get("max_length") or runtime.context_length)
    if runtime.backend == Runtime.Backend.OPENAI:
        return UpstreamLM(api_key_env=runtime.api_key_env, progress=watch.progress, check=watch.check,
                          base_url=runtime.base_url.rstrip("/") + "/completions", model=runtime.served_model,
                          tokenizer_backend="huggingface", tokenizer=str(_tokenizer_dir(run)),
                          max_length=max_length, num_concurrent=4, batch_size=8, max_retries=2)
    engine = engine_registry().get(RuntimeSpec.from_dict(runtime.spec()))
    return EngineLM(engine, max_length=max_length, progress=watch.progress, check=watch.check,
                    deadline=watch.deadline)


def token_perplexity(lm, samples: list[dict], task: str) -> float | None:
    """exp(-Σ log-likelihood / Σ tokens) over a perplexity task's texts, the tokens counted by the
    model's own tokenizer (lm-eval reports word and byte perplexity only)."""
    rows = [s for s in samples if s["task"] == task and "loglikelihood" in s["score"]]
    tokens = sum(len(lm.tok_encode(row["input"])) for row in rows)
    if not tokens:
        return None
    return math.exp(-sum(row["score"]["loglikelihood"] for row in rows) / tokens)


def evaluate_suite(lm, suite: SuiteSpec, data_dir: Path, work_dir: Path, watch: _Watch,
                   *, bootstrap_iters: int = lmeval.BOOTSTRAP_ITERS) -> tuple[dict, list[dict]]:
    """(metrics, samples) of the suite on `lm`: lm-eval computes them from the task YAMLs."""
    from lm_eval.evaluator import evaluate  # imports `datasets`: on the worker only, once offline

    names = lmeval.write_task_dir(suite, data_dir, work_dir / "tasks")
    tasks = lmeval.load_tasks(work_dir / "tasks", names)
    watch.start(lmeval.count_requests(tasks))
    results = evaluate(lm, tasks, log_samples=True, bootstrap_iters=bootstrap_iters, verbosity="WARNING")
    metrics = lmeval.metrics_from(results, suite)
    samples = lmeval.samples_from(results, suite)
    for task in suite.tasks:
        if task.type == TaskType.PERPLEXITY and "token_perplexity" in task.metrics:
            metrics[task.name]["token_perplexity"] = token_perplexity(lm, samples, task.name)
            metrics[task.name]["token_perplexity_stderr"] = None
    return metrics, samples


def execute_run(*, run_id: int, worker: str = "") -> None:
    """Run one evaluation. Raises HandedBack when the worker is stopping and the run went back
    to the queue."""
    if _stopping.is_set():
        raise HandedBack
    run = _claim(run_id, worker)
    if run is not None:
        with in_language_of(run.user):  # its errors are worded for the member who asked
            _run_claimed(run)


def _run_claimed(run: EvaluationRun) -> None:
    lmeval.go_offline()
    writer = eventlog.LogWriter(eventlog.stream_name(run), owner=run.attempts)  # a fresh attempt, a fresh log
    stop_heartbeat = _start_heartbeat(run)
    ends = run.started_at + timedelta(seconds=settings.EVALUATION_DEADLINE_S)
    watch = _Watch(run, writer, time.monotonic() + (ends - timezone.now()).total_seconds())
    work_dir = Path(settings.EVALUATION_WORK_DIR) / f"run-{run.pk}-{run.attempts}"
    try:
        suite = from_dict(run.suite_spec)
        lm = build_lm(run, watch)
        began = time.perf_counter()
        metrics, samples = evaluate_suite(lm, suite, _data_dir(run), work_dir, watch,
                                          bootstrap_iters=int(run.config.get("bootstrap_iters", lmeval.BOOTSTRAP_ITERS)))
        tokens = getattr(lm, "tokens_scored", 0) + getattr(lm, "tokens_generated", 0)
        status = _succeed(run, metrics=metrics, samples=samples, tokens=tokens,
                          duration_s=time.perf_counter() - began)
    except (HandedBack, EngineClosed) as exc:
        if isinstance(exc, EngineClosed) and not _stopping.is_set():  # the model was evicted mid-run
            status = attempts.finish(run, status=Status.FAILED,
                                     error=_("The model was unloaded while this evaluation ran."))
        else:  # this worker is stopping (its engines closed with it): another worker takes the run
            stop_heartbeat.set()
            writer.reset()  # before the row is queued: a reset after another worker's claim would wipe its log
            attempts.held(run).update(status=Status.QUEUED, attempts=F("attempts") - 1, worker="", progress_done=0)
            raise HandedBack from None
    except Stopped as stop:
        status = attempts.finish(run, status=stop.status, error=str(stop))
    except (ModelLoadError, ValidationError, GenerationError, BackendError) as exc:
        status = attempts.finish(run, status=Status.FAILED, error=" ".join(getattr(exc, "messages", [str(exc)])))
    except Exception as exc:  # lm-eval, datasets, the model: the run fails with the reason, never hangs
        log.exception("evaluation %s failed", run.pk)
        status = attempts.finish(run, status=Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        stop_heartbeat.set()
        shutil.rmtree(work_dir, ignore_errors=True)
    if status is not None:  # None: superseded, and the log is another attempt's (or the reaper's)
        writer.close("failed" if status == Status.FAILED else "done", {"status": status})
        notices.run_ended(run.pk)


def _succeed(run: EvaluationRun, *, metrics: dict, samples: list[dict], tokens: int,
             duration_s: float) -> str | None:
    """Store the results and mark the run succeeded, unless this attempt was superseded (None)."""
    with transaction.atomic():
        if not attempts.held(run).select_for_update().exists():
            return None
        EvaluationSample.objects.filter(run=run).delete()
        EvaluationSample.objects.bulk_create([EvaluationSample(run=run, **row) for row in samples], batch_size=500)
        EvaluationRun.objects.filter(pk=run.pk).update(
            status=Status.SUCCEEDED, finished_at=timezone.now(), metrics=metrics, versions=lmeval.versions(),
            tokens=tokens, duration_s=duration_s, progress_done=F("progress_total"), error="")
    return Status.SUCCEEDED


def _start_heartbeat(run: EvaluationRun) -> threading.Event:
    """Touch the run while it works (model loads included), so the reaper knows its worker lives."""
    return start_heartbeat(attempts.held(run), every_s=lambda: settings.EVALUATION_HEARTBEAT_S,
                           name=f"evaluation-heartbeat-{run.pk}")
