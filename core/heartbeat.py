"""The thread that touches a running job's row while its worker works on it, so that the reaper
(core/reaper.py) can tell a live worker from a dead one."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from django.db import DatabaseError, close_old_connections
from django.db.models import QuerySet
from django.utils import timezone

log = logging.getLogger(__name__)


def start_heartbeat(row: QuerySet, *, every_s: Callable[[], float], name: str) -> threading.Event:
    """Set `heartbeat_at` on `row` (the job while it runs: a queryset that finds it only then)
    every `every_s()` seconds until the returned event is set.

    A beat that fails (the database restarted, a connection was cut) is logged and the next one
    tries again. After each beat the thread's connection is closed if it broke or is not kept
    (with Django's pool, it goes back to the pool), so a beat never reuses a dead connection: one
    that raised used to end the thread, and the job, alive, was taken for dead."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every_s()):
                try:
                    row.update(heartbeat_at=timezone.now())
                except DatabaseError as exc:
                    log.warning("%s: a heartbeat failed (%s); the next one tries again", name, exc)
                finally:
                    close_old_connections()
        finally:
            close_old_connections()

    threading.Thread(target=beat, name=name, daemon=True).start()
    return stop
