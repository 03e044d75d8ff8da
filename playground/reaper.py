"""Jobs whose worker died: every worker runs this loop in a thread, so whatever starts workers
(`make run`, the production commands) starts the reaper too. Row locks make concurrent reapers
safe; nothing stays `running` after its worker is gone. Another thread keeps the model cache's
copies of repositories within their budget."""
from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import eventlog as core_eventlog
from core import reaper as core_reaper
from core.i18n import in_language_of

from . import eventlog
from .engine.loading import prune_repos
from .models import GenerationJob
from .runner import MAX_ATTEMPTS
from .tasks import enqueue_again

Status = GenerationJob.Status
log = logging.getLogger(__name__)


def prune_event_logs() -> int:
    """Embedded mode keeps logs in a table: drop those of jobs finished longer ago than Redis
    keeps its logs (the row keeps the output). Returns how many events went."""
    return core_eventlog.prune(finished_before=timezone.now() - timedelta(seconds=core_eventlog.TTL_S))


def redispatch_lost_jobs() -> int:
    """Queued jobs whose message the broker may have lost (Redis restarted without its data, a
    message dropped): sent again after PLAYGROUND_QUEUED_STALE_AFTER_S, so they do not wait for
    ever or count against their member's quota; failed once past the job deadline. Sending a job
    twice is safe: a worker claims it once, and a second message finds it running or finished."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.PLAYGROUND_QUEUED_STALE_AFTER_S)
    too_old = now - timedelta(seconds=settings.PLAYGROUND_JOB_DEADLINE_S)
    count = 0
    waiting = Q(dispatched_at__lt=stale) | Q(dispatched_at__isnull=True, created_at__lt=stale)
    for job in GenerationJob.objects.filter(waiting, status=Status.QUEUED):
        with transaction.atomic():
            job = (GenerationJob.objects.select_for_update(of=("self",)).select_related("resource__runtime", "user")
                   .filter(pk=job.pk).first())
            if job is None or job.status != Status.QUEUED:  # cancelled and deleted meanwhile, or taken
                continue
            if job.created_at < too_old:
                job.status, job.finished_at = Status.FAILED, now
                with in_language_of(job.user):
                    job.error = _("No worker took the job in time; it was abandoned.")
                job.save(update_fields=["status", "finished_at", "error"])
            else:
                transaction.on_commit(lambda job=job: enqueue_again(job))
        count += 1
    return count


def _stuck(cutoff, deadline) -> Q:
    """Running, and silent since `cutoff` or started before `deadline`."""
    return Q(status=Status.RUNNING) & (Q(heartbeat_at__lt=cutoff) | Q(started_at__lt=deadline))


def reap_stuck_jobs() -> int:
    """Jobs whose worker stopped sending heartbeats: re-queue once, then fail. Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.PLAYGROUND_STALE_AFTER_S)
    deadline = timezone.now() - timedelta(seconds=settings.PLAYGROUND_JOB_DEADLINE_S)
    stuck = GenerationJob.objects.filter(_stuck(cutoff, deadline)).values_list("pk", flat=True)
    return sum(reap_job(job_id, cutoff=cutoff, deadline=deadline) for job_id in list(stuck))


@transaction.atomic
def reap_job(job_id: int, *, cutoff, deadline) -> bool:
    """Re-queue or fail one stuck job. The row is checked again under its lock: between the
    listing and the lock another reaper may have re-queued it and a worker claimed it afresh,
    and that worker's job must not be taken from it. Returns whether the job was reaped."""
    job = (GenerationJob.objects.select_for_update(of=("self",)).select_related("resource__runtime", "user")
           .filter(_stuck(cutoff, deadline), pk=job_id).first())
    if job is None:
        return False
    if job.attempts < MAX_ATTEMPTS and job.started_at >= deadline:
        job.status = Status.QUEUED
        job.save(update_fields=["status"])
        transaction.on_commit(lambda: enqueue_again(job))
    else:
        job.status, job.finished_at = Status.FAILED, timezone.now()
        with in_language_of(job.user):
            job.error = _("The job stopped making progress (its worker died) and was abandoned.")
        job.save(update_fields=["status", "finished_at", "error"])
        # Readers end now, and nothing of a worker still running it lands after this event.
        transaction.on_commit(lambda: eventlog.append(job, "failed", owner=core_eventlog.FENCED))
    return True


def prune_model_cache() -> list[str]:
    """The repositories' copies in MODEL_CACHE_DIR past its budget (least recently used first)."""
    removed = prune_repos(Path(settings.MODEL_CACHE_DIR), max_bytes=settings.MODEL_CACHE_REPOS_MAX_BYTES,
                          min_idle_s=settings.MODEL_CACHE_REPOS_MIN_IDLE_S)
    if removed:
        log.info("pruned %d repository copies from the model cache: %s", len(removed), ", ".join(removed))
    return removed


def start(sender=None, **kwargs) -> None:
    """worker_ready receiver: start this worker's reaper thread, and its model cache's pruning."""
    core_reaper.start_thread("job-reaper", [reap_stuck_jobs, redispatch_lost_jobs, prune_event_logs],
                             lambda: settings.PLAYGROUND_REAP_EVERY_S)
    core_reaper.start_thread("model-cache-prune", [prune_model_cache], lambda: settings.MODEL_CACHE_PRUNE_EVERY_S)
