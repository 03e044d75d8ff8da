"""A generation job's event log (core.eventlog): `token` {"text"} deltas, coalesced, `cancel`
from the web side, and one final `done` or `failed`.

The worker's writer (`JobLog`) writes at most one `token` event per COALESCE_S: a delta goes out
at once when the last write is that old (the first text always does: time to the first token is
what a reader feels most), and what comes sooner waits, at most COALESCE_S, to go out with the
next. A fast model costs a write per batch of tokens, not per token; a slow one (or a batch of 8
on a CPU, a token every 100 ms) a write per token, with no delay at all.
"""
from __future__ import annotations

import time

from core import eventlog

from .models import GenerationJob

COALESCE_S = 0.05


def stream(job: GenerationJob) -> str:
    return eventlog.stream_name(job)


def append(job: GenerationJob, kind: str, data: dict | None = None) -> int:
    """Append one event to the job's log; returns its sequence number."""
    return eventlog.append(stream(job), kind, data)


def read(job: GenerationJob, *, after: int = 0, is_finished):
    return eventlog.read(stream(job), after=after, is_finished=is_finished)


class JobLog(eventlog.LogWriter):
    """The worker's writer for one job: coalesced deltas, cancel requests, the final event. The
    runner also puts `text` on the row about every second and the whole output at the end, so
    readers can finish from the row if the log is unavailable."""

    def __init__(self, job: GenerationJob):
        super().__init__(stream(job))  # a fresh attempt starts a fresh log
        self.text = ""
        self._pending = ""
        self._written_at: float | None = None  # the last `token` event's time (monotonic)

    def due_in(self) -> float | None:
        """Seconds until the pending text must be written; None when nothing is pending."""
        if not self._pending:
            return None
        if self._written_at is None:
            return 0.0
        return max(0.0, COALESCE_S - (time.monotonic() - self._written_at))

    def publish(self, delta: str) -> None:
        self.text += delta
        self._pending += delta
        self.tick()

    def tick(self) -> None:
        """Write what is pending once the last write is COALESCE_S old (the first text at once)."""
        if self._pending and self.due_in() == 0.0:
            self._write_pending()

    def discard(self) -> None:
        """The job was handed back and will start afresh: forget this attempt."""
        self.reset()

    def close(self, kind: str, data: dict | None = None) -> None:
        """Write what is pending, then the final event ("done" or "failed")."""
        if self._pending:
            self._write_pending()
        super().close(kind, data)

    def _write_pending(self) -> None:
        text, self._pending, self._written_at = self._pending, "", time.monotonic()
        self.append("token", {"text": text})
