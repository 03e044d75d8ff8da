"""Runs whose worker died, and queued runs whose message was lost: every evaluation worker runs
this loop in a thread (started on worker_ready). Row locks make concurrent reapers safe; nothing
stays `running` after its worker is gone."""
from __future__ import annotations

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
from .models import EvaluationRun
from .runner import MAX_ATTEMPTS
from .tasks import enqueue

Status = EvaluationRun.Status


def reap_stuck_runs() -> int:
    """Running runs whose worker stopped sending heartbeats: re-queued once, then failed; runs
    past their deadline fail. Returns how many were handled."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.EVALUATION_STALE_AFTER_S)
    deadline = now - timedelta(seconds=settings.EVALUATION_DEADLINE_S)
    stuck = EvaluationRun.objects.filter(Q(heartbeat_at__lt=cutoff) | Q(started_at__lt=deadline),
                                         status=Status.RUNNING)
    count = 0
    for run_id in stuck.values_list("pk", flat=True):
        with transaction.atomic():
            # Still stuck once locked: another reaper may have queued it meanwhile and a worker
            # claimed it again (a fresh heartbeat), which must not be failed or queued twice.
            run = stuck.select_for_update(of=("self",)).select_related("user").filter(pk=run_id).first()
            if run is None:
                continue
            if run.attempts < MAX_ATTEMPTS and run.started_at >= deadline and not run.cancel_requested:
                run.status, run.worker, run.progress_done = Status.QUEUED, "", 0
                run.save(update_fields=["status", "worker", "progress_done"])
                transaction.on_commit(lambda run=run: enqueue(run))
            else:
                run.status, run.finished_at = Status.FAILED, timezone.now()
                with in_language_of(run.user):
                    run.error = _("The evaluation stopped making progress (its worker died) and was abandoned.")
                run.save(update_fields=["status", "finished_at", "error"])
                stream = eventlog.stream_name(run)
                transaction.on_commit(lambda stream=stream: eventlog.append(  # fenced, as a generation's
                    stream, "failed", {"status": "failed"}, owner=eventlog.FENCED))
                transaction.on_commit(lambda run_id=run.pk: notices.run_ended(run_id))
        count += 1
    return count


def redispatch_lost_runs() -> int:
    """Queued runs not taken for EVALUATION_QUEUED_STALE_AFTER_S are sent again (a worker claims
    a run once, so a second message is harmless); past the deadline in the queue they fail."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.EVALUATION_QUEUED_STALE_AFTER_S)
    too_old = now - timedelta(seconds=settings.EVALUATION_DEADLINE_S)
    waiting = Q(dispatched_at__lt=stale) | Q(dispatched_at__isnull=True, created_at__lt=stale)
    count = 0
    for run_id in EvaluationRun.objects.filter(waiting, status=Status.QUEUED).values_list("pk", flat=True):
        with transaction.atomic():
            run = EvaluationRun.objects.select_for_update(of=("self",)).select_related("user").get(pk=run_id)
            if run.status != Status.QUEUED:
                continue
            if run.created_at < too_old:
                run.status, run.finished_at = Status.FAILED, now
                with in_language_of(run.user):
                    run.error = _("No worker took the evaluation in time; it was abandoned.")
                run.save(update_fields=["status", "finished_at", "error"])
                transaction.on_commit(lambda run_id=run.pk: notices.run_ended(run_id))
            else:
                transaction.on_commit(lambda run=run: enqueue(run))
        count += 1
    return count


def start(sender=None, **kwargs) -> None:
    """worker_ready receiver: start this worker's evaluation reaper thread."""
    core_reaper.start_thread("evaluation-reaper", [reap_stuck_runs, redispatch_lost_runs],
                             lambda: settings.EVALUATION_REAP_EVERY_S)
