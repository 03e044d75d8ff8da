"""Fine-tuning jobs whose worker died or whose message was lost: every worker runs this loop in a
thread (started on worker_ready), so nothing stays `running` or `queued` for ever. A stuck job
goes back to the queue, where the next worker resumes it from its last checkpoint, until it has
used its attempts or passed its deadline; then it fails. Row locks make concurrent reapers safe."""
from __future__ import annotations

import shutil
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import eventlog
from core import reaper as core_reaper
from core.i18n import in_language_of

from . import notices
from .models import FineTuneJob, Status
from .runner import checkpoint_dir
from .serializers import job_payload
from .tasks import enqueue



def _fail(job: FineTuneJob, error: str) -> None:
    job.status, job.finished_at, job.error = Status.FAILED, timezone.now(), error
    job.save(update_fields=["status", "finished_at", "error"])
    transaction.on_commit(lambda: eventlog.append(eventlog.stream_name(job), "failed", job_payload(job),
                                                  owner=eventlog.FENCED))  # as a generation's
    # Ended: nothing will resume it, and no worker of its own is left to remove its checkpoints.
    transaction.on_commit(lambda: shutil.rmtree(checkpoint_dir(job), ignore_errors=True))
    transaction.on_commit(lambda: notices.job_ended(job.pk))


def reap_stuck_jobs() -> int:
    """Running jobs without a heartbeat for FINETUNE_STALE_AFTER_S: queued again (to resume), or
    failed past their attempts or deadline. Returns how many were handled."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.FINETUNE_STALE_AFTER_S)
    deadline = now - timedelta(seconds=settings.FINETUNE_DEADLINE_S)
    stuck = FineTuneJob.objects.filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True)
                                       | Q(started_at__lt=deadline), status=Status.RUNNING)
    count = 0
    for job_id in stuck.values_list("pk", flat=True):
        with transaction.atomic():
            job = FineTuneJob.objects.select_for_update(of=("self",)).for_list().get(pk=job_id)
            if job.status != Status.RUNNING:
                continue
            overdue = job.started_at is not None and job.started_at < deadline
            if not overdue and job.heartbeat_at is not None and job.heartbeat_at >= stale:
                continue  # a worker claimed it (again) while this reaper waited for the lock
            if overdue:
                with in_language_of(job.user):
                    _fail(job, _("The job did not finish within its time limit of %(s)d seconds.")
                          % {"s": settings.FINETUNE_DEADLINE_S})
            elif job.attempts >= settings.FINETUNE_MAX_ATTEMPTS:
                with in_language_of(job.user):
                    _fail(job, _("The workers running this job stopped %(n)d times; giving up.")
                          % {"n": job.attempts})
            else:
                job.status = Status.QUEUED
                job.save(update_fields=["status"])
                transaction.on_commit(lambda job=job: enqueue(job))
        count += 1
    return count


def redispatch_lost_jobs() -> int:
    """Queued jobs whose message the broker may have lost: sent again after
    FINETUNE_QUEUED_STALE_AFTER_S (a worker claims a job once, so a second message is harmless)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.FINETUNE_QUEUED_STALE_AFTER_S)
    waiting = Q(dispatched_at__lt=stale) | Q(dispatched_at__isnull=True, created_at__lt=stale)
    count = 0
    for job in FineTuneJob.objects.filter(waiting, status=Status.QUEUED):
        transaction.on_commit(lambda job=job: enqueue(job))
        count += 1
    return count


def start(sender=None, **kwargs) -> None:
    """worker_ready receiver: start this worker's reaper thread."""
    core_reaper.start_thread("finetune-reaper", [reap_stuck_jobs, redispatch_lost_jobs],
                             lambda: settings.FINETUNE_REAP_EVERY_S)
