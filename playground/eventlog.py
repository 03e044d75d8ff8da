"""A generation job's event log (core.eventlog): `token` {"text"} deltas, coalesced, `cancel`
from the web side, and one final `done` or `failed`.

The worker's writer (`JobLog`) writes at most one `token` event per COALESCE_S: a delta goes out
at once when the last write is that old (the first text always does: time to the first token is
what a reader feels most), and what comes sooner waits, at most COALESCE_S, to go out with the
next. A fast model costs a write per batch of tokens, not per token; a slow one (or a batch of 8
on a CPU, a token every 100 ms) a write per token, with no delay at all.

One thread per worker process (`Pump`) writes every running job's log: a backend hands it each
delta (a put into a queue: the engine never waits on Redis), and each time it wakes it writes
what is due, for every job, in one round trip. A batch of 8 rows costs one thread waking and one
round trip per decode step, where a thread per job each woke and wrote its own, taking the
interpreter's lock from the engine's thread between its operations 8 times as often. An append
that skips a number means something else came into the log, a `cancel`: the pump reads it and
stops the job (`on_cancel`) at once.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import redis
from django.conf import settings
from django.db import connection

from core import eventlog

from .models import GenerationJob

log = logging.getLogger(__name__)
COALESCE_S = 0.05
WRITTEN_WITHIN_S = 30  # how long a task waits for its log's final event to be written


def stream(job: GenerationJob) -> str:
    return eventlog.stream_name(job)


def append(job: GenerationJob, kind: str, data: dict | None = None, *, owner: int | None = None) -> int:
    """Append one event to the job's log; returns its sequence number (core.eventlog.append)."""
    return eventlog.append(stream(job), kind, data, owner=owner)


def read(job: GenerationJob, *, after: int = 0, is_finished):
    return eventlog.read(stream(job), after=after, is_finished=is_finished)


class JobLog(eventlog.LogWriter):
    """The worker's writer for one job: deltas coalesced, cancel requests, the final event. Its
    text and final event go through the process's `Pump`, in order. The runner also puts `text`
    on the row about every second and the whole output at the end, so readers can finish from the
    row if the log is unavailable."""

    def __init__(self, job: GenerationJob):
        super().__init__(stream(job), owner=job.attempts)  # a fresh attempt starts a fresh log
        self.text = ""  # everything delivered so far
        self._pending = ""  # delivered, not yet written
        self._written_at: float | None = None  # the last `token` event's time (monotonic)
        self._ended = False  # closed or discarded: nothing more is written
        # Called on the pump's thread when a cancel event is found in the log (the runner sets it).
        self.on_cancel: Callable[[], None] | None = None

    # --- from any thread ----------------------------------------------------------------------
    def deliver(self, delta: str) -> None:
        """A backend's callback: queue the delta for the pump (never blocks)."""
        PUMP.put(self, delta)

    def close(self, kind: str, data: dict | None = None) -> None:
        """Write what is pending, then the final event ("done" or "failed"); returns once written."""
        PUMP.call(self, _End(kind, data))

    def discard(self) -> None:
        """The job was handed back and will start afresh: forget this attempt (returns once its
        log is reset, so nothing of it lands in the next attempt's)."""
        PUMP.call(self, _End(None, None, reset=True))

    def abandon(self) -> None:
        """Another attempt holds the job now (core.attempts): write nothing more, and leave the
        log, which is that attempt's, as it is."""
        PUMP.call(self, _End(None, None))

    # --- on the pump's thread -----------------------------------------------------------------
    @property
    def ended(self) -> bool:
        return self._ended

    def end(self, *, discard: bool = False) -> None:
        """Nothing more is written; with `discard`, not even what is pending."""
        self._ended = True
        if discard:
            self._pending = ""

    def add(self, delta: str) -> None:
        self.text += delta
        self._pending += delta

    def due_in(self, now: float) -> float | None:
        """Seconds until the pending text must be written; None when nothing is pending."""
        if not self._pending:
            return None
        if self._written_at is None:
            return 0.0
        return max(0.0, COALESCE_S - (now - self._written_at))

    def take(self, now: float, *, all_of_it: bool = False) -> str:
        """The pending text, if it is due (or `all_of_it`), to be written now; else ""."""
        due = self.due_in(now)
        if due is None or (due > 0 and not all_of_it):
            return ""
        text, self._pending, self._written_at = self._pending, "", now
        return text


@dataclass
class _End:
    kind: str | None  # the final event, or None: write nothing more of the attempt
    data: dict | None
    reset: bool = False  # with kind None: the log is reset too (the job was handed back)
    written: threading.Event = field(default_factory=threading.Event)


class Pump:
    """The thread that writes every job log of this process (see the module's docstring). It
    starts on first use, again in a forked child; an error in one round is logged and the next
    round goes on, so no job waits on a thread that died."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()

    def put(self, job_log: JobLog, item: str | _End) -> None:
        self._started().put((job_log, item))

    def call(self, job_log: JobLog, end: _End) -> None:
        """Queue `end` after everything delivered for `job_log` so far and wait until it is written."""
        self.put(job_log, end)
        if not end.written.wait(WRITTEN_WITHIN_S):
            log.warning("%s: its final event was not written within %d s", job_log.stream, WRITTEN_WITHIN_S)

    def _started(self) -> queue.SimpleQueue:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked child: the parent's thread is not here
                self._pid, self._queue = os.getpid(), queue.SimpleQueue()
                threading.Thread(target=self._run, args=(self._queue,), name="job-log-pump", daemon=True).start()
            return self._queue

    def _run(self, inbox: queue.SimpleQueue) -> None:
        pending: set[JobLog] = set()  # logs holding text not yet written
        while True:
            now = time.monotonic()
            dues = [due for due in (job_log.due_in(now) for job_log in pending) if due is not None]
            try:
                items = [inbox.get(timeout=min(dues) if dues else None)]
            except queue.Empty:
                items = []
            while not inbox.empty():
                items.append(inbox.get())
            try:
                self._round(items, pending)
            except Exception:
                log.exception("the job log pump failed a round; it goes on")
                for _job_log, item in items:  # nobody waits for ever on what this round held
                    if isinstance(item, _End):
                        item.written.set()
            finally:
                if not settings.REDIS_URL:
                    connection.close()  # the table's writes: this long-lived thread holds no connection

    def _round(self, items: list[tuple[JobLog, str | _End]], pending: set[JobLog]) -> None:
        """Take in the deltas, then write, in one batch, each log's due text (all of it for a log
        that ends) and the final events."""
        ends: list[tuple[JobLog, _End]] = []
        for job_log, item in items:
            if isinstance(item, _End):
                ends.append((job_log, item))
            elif not job_log.ended:
                job_log.add(item)
                pending.add(job_log)
        for job_log, end in ends:
            if end.kind is None:  # discarded or abandoned: nothing more of this attempt is written
                job_log.end(discard=True)
                pending.discard(job_log)
        ending = {job_log for job_log, _end in ends}
        now = time.monotonic()
        writes: list[tuple[JobLog, str, dict | None]] = []
        for job_log in list(pending):
            text = job_log.take(now, all_of_it=job_log in ending)
            if text:
                writes.append((job_log, "token", {"text": text}))
            if job_log.due_in(now) is None:
                pending.discard(job_log)
        writes += [(job_log, end.kind, end.data) for job_log, end in ends if not job_log.ended]
        if writes:
            try:
                results = eventlog.append_many([(job_log.stream, kind, data, job_log.owner)
                                                for job_log, kind, data in writes])
            except redis.RedisError as exc:
                results = [exc] * len(writes)
            for (job_log, _kind, _data), result in zip(writes, results):
                if job_log.record(result) and job_log.on_cancel is not None and job_log.cancel_requested():
                    job_log.on_cancel()
        for job_log, end in ends:
            if end.reset:
                job_log.reset()
            job_log.end()
            end.written.set()


PUMP = Pump()
