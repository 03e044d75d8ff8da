"""The thread every worker runs for each app's reaper: its sweeps, again and again, for ever."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from django.db import close_old_connections

log = logging.getLogger(__name__)


def start_thread(name: str, sweeps: list[Callable[[], object]], every_s: Callable[[], float]) -> None:
    """Run `sweeps` in a daemon thread every `every_s()` seconds (read each time, so a setting
    can change it); a sweep that fails is logged and never stops the thread or the worker."""

    def loop() -> None:
        while True:
            try:
                for sweep in sweeps:
                    sweep()
            except Exception:  # never let a reaper kill the worker
                log.exception("%s failed", name)
            finally:
                close_old_connections()
            time.sleep(every_s())

    threading.Thread(target=loop, name=name, daemon=True).start()
