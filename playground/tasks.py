"""Thin Celery tasks: load by id, call the worker-side code."""
import socket
import threading

from celery import shared_task
from django.utils import timezone

from . import runner
from .models import GenerationJob
from .queues import queue_for


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_generation_job(job_id: int) -> None:
    try:
        runner.execute_job(job_id=job_id, worker=f"{socket.gethostname()}:{threading.get_ident()}")
    except runner.HandedBack:  # this worker is stopping: another one takes the job
        enqueue_again(GenerationJob.objects.select_related("resource__runtime").get(pk=job_id))


def enqueue(job: GenerationJob) -> None:
    """Send a new job to its runtime's queue (raises if the broker cannot be reached). To tell a
    message the broker lost from one still waiting, the reaper goes by the job's creation."""
    run_generation_job.apply_async((job.pk,), queue=queue_for(job.resource.runtime), retry=False)


def enqueue_again(job: GenerationJob) -> None:
    """Send the job again (the reaper, a hand-back), noting when, for the reaper."""
    enqueue(job)
    GenerationJob.objects.filter(pk=job.pk).update(dispatched_at=timezone.now())
