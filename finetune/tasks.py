"""Thin Celery tasks: load by id, call the worker-side code."""
import socket

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import runner
from .models import FineTuneJob

DEADLINE_MARGIN_S = 300  # past the job's deadline, the hard limit that ends a stuck task


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_finetune(job_id: int) -> None:
    runner.execute(job_id=job_id, worker=f"{socket.gethostname()}:{run_finetune.request.hostname or ''}")


def enqueue(job: FineTuneJob) -> None:
    """Send the job to the training queue (raises if the broker cannot be reached), and note when,
    so that the reaper can tell a message the broker lost from one still waiting. Training outlasts
    the default task limits, so the job's own deadline is its limit."""
    run_finetune.apply_async((job.pk,), queue=settings.FINETUNE_QUEUE, retry=False,
                             soft_time_limit=settings.FINETUNE_DEADLINE_S,
                             time_limit=settings.FINETUNE_DEADLINE_S + DEADLINE_MARGIN_S)
    FineTuneJob.objects.filter(pk=job.pk).update(dispatched_at=timezone.now())
