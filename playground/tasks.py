"""Thin Celery tasks: load by id, call a service."""
import socket
import threading

from celery import shared_task
from django.conf import settings
from celery.signals import worker_ready

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_generation_job(job_id: int) -> None:
    services.execute_job(job_id=job_id, worker=f"{socket.gethostname()}:{threading.get_ident()}")


@shared_task(ignore_result=True)
def reap_stuck_jobs() -> int:
    return services.reap_stuck_jobs()


@worker_ready.connect
def _start_reaper(sender=None, **kwargs) -> None:
    """Every worker also reaps (row locks make it safe to run twice), so jobs left by a dead
    worker never stay running."""

    def loop() -> None:
        import time

        from django.db import close_old_connections

        while True:
            try:
                services.reap_stuck_jobs()
            except Exception:  # never let the reaper kill the worker
                services.log.exception("reaper failed")
            finally:
                close_old_connections()
            time.sleep(settings.PLAYGROUND_REAP_EVERY_S)

    threading.Thread(target=loop, name="job-reaper", daemon=True).start()
