"""Work on hostile input, out of harm's way: in a helper process (`python -m <module>`, which
serves with `core.sandboxed.serve`), killed when it takes longer than its time limit and capped
in memory. Some work cannot be bounded from inside: a regular expression cannot be stopped
mid-match (Pygments' lexers), and a few kilobytes of Parquet can decode to gigabytes."""
from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
import time

from django.conf import settings

log = logging.getLogger(__name__)
NO_VERDICT = ("busy", "unavailable")  # reasons that say nothing of the request itself: try again later


class Sandbox:
    """One helper process, started on first use and again after it was killed; one request at a
    time (a request waits for the one before it, within its own time limit)."""

    def __init__(self, module: str, *, memory_setting: str = "") -> None:
        """`memory_setting`: the name of the setting that caps the child's address space, read
        when the child starts."""
        self.module, self.memory_setting = module, memory_setting
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    def call(self, request: dict, timeout: float, *, full_s: float | None = None) -> dict:
        """`{"result": …}`, or `{"reason": …, "error": …}` where `reason` is `memory` or `exception`
        (the request's own failure, in the child), `timeout` (it ran out of its full time limit,
        `full_s`, by default `timeout`, and the child was killed), `busy` (no turn, or less than
        its full time left after waiting for one or after a caller's budget: no verdict on the
        request) or `unavailable` (no child could be run)."""
        started = time.monotonic()
        if timeout <= 0 or not self._lock.acquire(timeout=timeout):
            return {"reason": "busy", "error": "No time was left for it."}
        try:
            process = self._started()
            if process is None:
                return {"reason": "unavailable", "error": "Its helper process could not start."}
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
            left = max(timeout - (time.monotonic() - started), 0)
            poller = select.poll()  # not select(): it fails on descriptors past 1023
            poller.register(process.stdout, select.POLLIN)
            if not poller.poll(left * 1000):
                self.stop()
                if left < (timeout if full_s is None else full_s) * 0.95:
                    return {"reason": "busy", "error": "No time was left for it."}
                return {"reason": "timeout", "error": "It took too long."}
            return json.loads(process.stdout.readline())
        except (OSError, ValueError):
            log.warning("the %s helper process failed", self.module, exc_info=True)
            self.stop()
            return {"reason": "unavailable", "error": "Its helper process failed."}
        finally:
            self._lock.release()

    def _started(self) -> subprocess.Popen | None:
        if self._process is not None and self._process.poll() is None:
            return self._process
        memory = getattr(settings, self.memory_setting) if self.memory_setting else 0
        env = {**os.environ, "PYTHONPATH": str(settings.BASE_DIR), "SANDBOX_MEMORY_BYTES": str(memory)}
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", self.module], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True, encoding="utf-8", cwd=settings.BASE_DIR, env=env)
        except OSError:
            log.warning("could not start the %s helper process", self.module, exc_info=True)
            self._process = None
        return self._process

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
