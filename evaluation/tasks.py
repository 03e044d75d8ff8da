"""Thin Celery tasks: load by id, call the worker-side code. Evaluations have a queue of their
own (`evaluation`), so their long runs never hold up playground jobs."""
import socket
import threading

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import runner
from .models import EvaluationRun

QUEUE = "evaluation"


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True,
             soft_time_limit=settings.EVALUATION_DEADLINE_S + 60, time_limit=settings.EVALUATION_DEADLINE_S + 120)
def run_evaluation(run_id: int) -> None:
    try:
        runner.execute_run(run_id=run_id, worker=f"{socket.gethostname()}:{threading.get_ident()}")
    except runner.HandedBack:  # this worker is stopping: another one takes the run
        enqueue(EvaluationRun.objects.get(pk=run_id))


def enqueue(run: EvaluationRun) -> None:
    """Send the run to the evaluation queue (raises if the broker cannot be reached), and note
    when, so that the reaper can tell a message the broker lost from one still waiting."""
    run_evaluation.apply_async((run.pk,), queue=QUEUE, retry=False)
    EvaluationRun.objects.filter(pk=run.pk).update(dispatched_at=timezone.now())
