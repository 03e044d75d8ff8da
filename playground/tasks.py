"""Thin Celery tasks: load by id, call the worker-side code."""
import socket
import threading

from celery import shared_task

from . import runner


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_generation_job(job_id: int) -> None:
    runner.execute_job(job_id=job_id, worker=f"{socket.gethostname()}:{threading.get_ident()}")
