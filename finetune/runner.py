"""The worker side of a fine-tuning job: claim it, train (resuming from the newest checkpoint
when an earlier attempt's worker died), publish the adapter, record how it ended. Runs on the
`training` queue's workers only.

A job is claimed at most FINETUNE_MAX_ATTEMPTS times; its checkpoints live in a durable
directory (FINETUNE_CHECKPOINT_DIR) named after the job, so whichever worker claims it next
resumes where the last checkpoint left off. The directory goes once the job has ended.
"""
from __future__ import annotations

import logging
import shutil
import threading
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
from models_hub.repos.materialise import fetch_repository
from playground.engine import ModelLoadError, RuntimeSpec
from playground.engine.loading import model_directory

from . import training
from .datasets import training_examples
from .errors import TrainingDiverged
from .formats import FormatError, TrainSpec
from .models import ACTIVE, FineTuneJob, Status
from . import notices
from .publishing import publish_output
from .serializers import job_payload

log = logging.getLogger(__name__)


def checkpoint_dir(job: FineTuneJob) -> Path:
    return Path(settings.FINETUNE_CHECKPOINT_DIR) / f"job-{job.pk}-{int(job.created_at.timestamp())}"


def _claim(job_id: int, worker: str) -> FineTuneJob | None:
    """Mark the job running; None when there is nothing to do (finished, cancelled, retried out,
    or a live worker has it)."""
    with transaction.atomic():
        job = (FineTuneJob.objects.select_for_update(of=("self",))
               .select_related("user", "base_model__runtime__base__runtime", "dataset").filter(pk=job_id).first())
        if job is None or job.is_finished:
            return None
        now = timezone.now()
        alive_since = now - timedelta(seconds=settings.FINETUNE_STALE_AFTER_S)
        if job.status == Status.RUNNING and job.heartbeat_at and job.heartbeat_at > alive_since:
            return None  # re-delivered while its worker lives; the reaper covers deaths
        if job.cancel_requested:
            job.status, job.finished_at = Status.CANCELLED, now
            job.save(update_fields=["status", "finished_at"])
            return None
        if job.attempts >= settings.FINETUNE_MAX_ATTEMPTS:
            job.status, job.finished_at = Status.FAILED, now
            with in_language_of(job.user):
                job.error = _("The workers running this job stopped %(n)d times; giving up.") % {"n": job.attempts}
            job.save(update_fields=["status", "finished_at", "error"])
            return None
        job.status, job.heartbeat_at, job.worker = Status.RUNNING, now, worker[:200]
        job.started_at = job.started_at or now
        job.attempts = F("attempts") + 1
        job.save(update_fields=["status", "started_at", "heartbeat_at", "worker", "attempts"])
        job.refresh_from_db(fields=["attempts"])
        return job


def _resume_point(job: FineTuneJob) -> str | None:
    """The newest checkpoint on disk; the row's progress and curve go back to it, so that the
    steps after it are trained (and drawn) once."""
    checkpoint = training.last_checkpoint(checkpoint_dir(job))
    step = int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else 0
    job.history = [point for point in job.history if point["step"] <= step]
    job.step = job.checkpoint_step = step
    attempts.held(job).update(history=job.history, step=step, checkpoint_step=step)
    return checkpoint


def _start_heartbeat(job: FineTuneJob) -> threading.Event:
    """Touch the job while it runs (model load and publishing included), so the reaper knows its
    worker lives."""
    return start_heartbeat(attempts.held(job), every_s=lambda: settings.FINETUNE_HEARTBEAT_S,
                           name=f"finetune-heartbeat-{job.pk}")


def _train(job: FineTuneJob, writer: eventlog.LogWriter, resume: str | None):
    # Imported here, as `training` imports its libraries: the callback subclasses transformers'
    # TrainerCallback, and every process that loads the apps (web server, manage.py) imports this
    # module; only a training worker should pay for transformers (4 s and 350 MB a process here).
    from .progress import PlatformProgress

    examples = training_examples(job.dataset, job.dataset_revision, TrainSpec.from_dict(job.train_spec))
    model_dir = model_directory(RuntimeSpec.from_dict(job.base_model.runtime.spec()),
                                cache_dir=Path(settings.MODEL_CACHE_DIR), fetch_repo=fetch_repository)
    progress = PlatformProgress(job, writer)
    trainer = training.build_trainer(model_dir=model_dir, examples=examples, params=job.params,
                                     output_dir=checkpoint_dir(job),
                                     checkpoint_every=settings.FINETUNE_CHECKPOINT_EVERY, callbacks=[progress])
    output = trainer.train(resume_from_checkpoint=resume)
    tokens = next((entry["num_tokens"] for entry in reversed(trainer.state.log_history) if "num_tokens" in entry), None)
    job.train_seconds = output.metrics.get("train_runtime")
    job.trained_tokens = int(tokens) if tokens is not None else None
    attempts.held(job).update(train_seconds=job.train_seconds, trained_tokens=job.trained_tokens)
    return trainer, progress


def _succeed(job: FineTuneJob, trainer) -> str | None:
    """Publish the adapter and mark the job succeeded, in one transaction: an attempt superseded
    meanwhile (the reaper ended the job, or another attempt holds it) publishes nothing (None)."""
    if not attempts.held(job).exists():
        return None  # the adapter is not even saved: the checkpoint directory is another attempt's
    adapter = training.save_adapter(trainer, checkpoint_dir(job) / "adapter")
    with transaction.atomic():
        if not attempts.held(job).select_for_update().exists():
            return None
        job.refresh_from_db()
        resource = publish_output(job=job, adapter_dir=adapter)
        FineTuneJob.objects.filter(pk=job.pk).update(status=Status.SUCCEEDED, output_model=resource,
                                                     finished_at=timezone.now(), eta_s=0)
    return Status.SUCCEEDED


def execute(*, job_id: int, worker: str = "") -> None:
    job = _claim(job_id, worker)
    if job is not None:
        with in_language_of(job.user):  # its errors are worded for the member who asked
            _run_claimed(job)


def _run_claimed(job: FineTuneJob) -> None:
    # The first attempt starts a fresh log; a resumed one carries on with the same numbers, so a
    # reader sees one story: progress, the worker dying, progress again from the checkpoint.
    writer = eventlog.LogWriter(eventlog.stream_name(job), fresh=job.attempts == 1, owner=job.attempts)
    stop_heartbeat = _start_heartbeat(job)
    try:
        resume = _resume_point(job)
        if resume:
            writer.append("resumed", {"step": job.checkpoint_step, "attempt": job.attempts})
        attempts.held(job).update(versions=training.versions())
        trainer, progress = _train(job, writer, resume)
        if progress.cancelled:
            status = attempts.finish(job, status=Status.CANCELLED, eta_s=None)
        else:
            status = _succeed(job, trainer)
    except FormatError as exc:
        status = attempts.finish(job, status=Status.FAILED, error=f"{exc.key}: {exc}")
    except (ModelLoadError, ValidationError, TrainingDiverged) as exc:
        status = attempts.finish(job, status=Status.FAILED, error=" ".join(getattr(exc, "messages", [str(exc)])))
    except Exception as exc:
        log.exception("fine-tuning job %s failed", job.pk)
        status = attempts.finish(job, status=Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    finally:
        stop_heartbeat.set()
    if status is not None:
        writer.close("failed" if status == Status.FAILED else "done",
                     job_payload(FineTuneJob.objects.for_list().get(pk=job.pk)))
        notices.job_ended(job.pk)
    # Superseded (None), the checkpoints are another attempt's unless the job has ended.
    if status is not None or not FineTuneJob.objects.filter(pk=job.pk, status__in=ACTIVE).exists():
        shutil.rmtree(checkpoint_dir(job), ignore_errors=True)  # ended: nothing will resume it
