"""A live stack for integration tests: uvicorn and a Celery worker as real processes.

Both use the test database (committed data only, so tests that use them are transactional) and the
same broker as the test run: Redis when REDIS_URL is set (unless the stack is `embedded`), else a
filesystem queue of their own.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection

from playground.queues import queue_name

UPSTREAM_REPO_ID = "local/smollm2-upstream"  # a runtime on an OpenAI-compatible server (tests.upstream)
ARENA_TWIN_REPO_ID = "community/SmolLM2-135M-Instruct-twin"  # the arena's second model: the same GGUF

ROOT = Path(__file__).resolve().parent.parent
# The queues of the runtimes the live tests make (tests.factories.runnable_model, the upstream,
# the arena's twin), evaluation's and fine-tuning's.
WORKER_QUEUES = [queue_name("HuggingFaceTB/SmolLM2-135M-Instruct"), queue_name(UPSTREAM_REPO_ID),
                 queue_name(ARENA_TWIN_REPO_ID), "default", "evaluation", settings.FINETUNE_QUEUE]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
        return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


class LiveStack:
    def __init__(self, workdir: Path, *, redis_url: str | None = None, queues: list[str] | None = None,
                 embedded: bool = False, engine_process: bool = True):
        """`embedded`: no Redis even where the test run has one (`make run`'s mode: the filesystem
        broker, the event log and the cache in this stack's database and processes).
        `engine_process`: the worker's engines in a process of their own (the default), else in it."""
        self.workdir = workdir
        self.queues = queues or WORKER_QUEUES
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "VAR_DIR": str(workdir / "var"),
            "CELERY_FILESYSTEM_DIR": str(workdir / "broker"),
            "MODEL_CACHE_DIR": settings.MODEL_CACHE_DIR,
            "PLAYGROUND_HEARTBEAT_S": "1",
            "PLAYGROUND_STALE_AFTER_S": "6",
            "PLAYGROUND_REAP_EVERY_S": "2",
            "PLAYGROUND_QUEUED_STALE_AFTER_S": "5",
            "EVALUATION_HEARTBEAT_S": "1",
            "EVALUATION_STALE_AFTER_S": "6",
            "EVALUATION_REAP_EVERY_S": "2",
            "EVALUATION_QUEUED_STALE_AFTER_S": "5",
            "CELERY_VISIBILITY_TIMEOUT": "8",
            "API_THROTTLE_USER": "100000/min",
            "API_THROTTLE_ANON": "100000/min",
            "ACCOUNT_SIGNUP_RATE": "100000/min",  # the browser tests sign up many members from one address
            "PYTHONUNBUFFERED": "1",
            "PGAPPNAME": f"live-stack-{self.port}",  # its sessions, told apart in pg_stat_activity
        }
        self.env.pop("REDIS_URL", None)
        self.env["PLAYGROUND_ENGINE_PROCESS"] = "on" if engine_process else "off"
        if not embedded and (redis_url or settings.REDIS_URL):
            self.env["REDIS_URL"] = redis_url or settings.REDIS_URL
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.worker_log: Path | None = None

    def _spawn(self, args: list[str], log_name: str) -> tuple[subprocess.Popen, Path]:
        log = self.workdir / log_name
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log.open("ab"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
        return process, log

    def start(self) -> "LiveStack":
        self.web, self.web_log = self._spawn(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"], "web.log")
        self.start_worker()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base_url}/api/v1/categories/", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.3)
        raise RuntimeError("the web server did not start:\n" + self.web_log.read_text()[-3000:])

    def start_worker(self) -> None:
        self.worker, self.worker_log = self._spawn(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(self.queues),
             "--pool", "threads", "--concurrency", "8", "--loglevel", "INFO",
             "--hostname", f"test-{time.monotonic_ns()}@%h"], "worker.log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if " ready." in self.worker_log.read_text(errors="replace"):
                return
            time.sleep(0.3)
        raise RuntimeError("the worker did not start:\n" + self.worker_log.read_text()[-3000:])

    def kill_worker(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a lost machine would."""
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=10)

    def worker_children(self, marker: str) -> list[int]:
        """The worker's child processes whose command line holds `marker`."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError, ValueError):
                continue  # it ended meanwhile
            if parent == self.worker.pid and marker in command:
                found.append(int(stat.parent.name))
        return found

    def stop(self) -> None:
        """Both processes gone, and their sessions in the test database with them."""
        for process in (self.worker, self.web):
            if process and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
        self._wait_for_sessions_to_end()

    def _wait_for_sessions_to_end(self, timeout: float = 10) -> None:
        """PostgreSQL ends a client's sessions a moment after its process is gone; the test
        database is dropped at the end of the run, and refused while a session still uses it."""
        if connection.vendor != "postgresql":
            return
        deadline = time.monotonic() + timeout
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                               [self.env["PGAPPNAME"]])
                if cursor.fetchone()[0] == 0:
                    return
                time.sleep(0.1)


def sse_events(response: requests.Response):
    """(event, data, seconds since the request) for each server-sent event."""
    started = time.perf_counter()
    event, data = None, []
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and event:
            yield event, json.loads("\n".join(data)), time.perf_counter() - started
            event, data = None, []


def sse_frames(response: requests.Response):
    """(id or None, event, data) for each server-sent event."""
    ident, event, data = None, None, []
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("id: "):
            ident = int(line[4:])
        elif line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and event:
            yield ident, event, json.loads("\n".join(data))
            ident, event, data = None, None, []
