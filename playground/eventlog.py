"""One numbered event log per job, the same in both modes: a Redis stream in server mode, the
`JobEvent` table in embedded mode. Events: `token` {"text"} (deltas, coalesced), `cancel` (from
the web side: a request to stop), and one final `done` or `failed`.

Every event gets the job's next sequence number (1, 2, …), allocated atomically whoever writes
it, so a reader that reconnects with Last-Event-ID gets exactly the events after it: nothing
twice, nothing lost. The worker's writer (`JobLog`) coalesces deltas for up to
COALESCE_S, so a fast model costs a write per batch of tokens, not per token.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import AsyncIterator

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from .models import GenerationJob, JobEvent

log = logging.getLogger(__name__)

TTL_S = 3600  # how long a finished job's log is kept in Redis (the row keeps the output)
COALESCE_S = 0.05
FINAL = ("done", "failed")
# Embedded mode polls the table: quickly while events arrive, backing off while nothing does.
POLL_MIN_S = 0.05
POLL_MAX_S = 0.5
POLL_BACKOFF = 1.5
# Allocate the next number and append under it, atomically, whichever process writes.
_APPEND = """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '0-' .. seq, 'kind', ARGV[1], 'data', ARGV[2])
return seq
"""


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    data: dict = field(default_factory=dict)


def log_key(job_id: int, created_at) -> str:
    """Unique per job even if ids restart (a restored or recreated database)."""
    return f"llmc:job:{job_id}:{int(created_at.timestamp() * 1_000_000)}:events"


def _sync_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)


def append(job: GenerationJob, kind: str, data: dict | None = None, *, client: redis.Redis | None = None) -> int:
    """Append one event to the job's log; returns its sequence number."""
    payload = json.dumps(data or {}, ensure_ascii=False)
    if settings.REDIS_URL:
        client = client or _sync_redis()
        key = log_key(job.pk, job.created_at)
        seq = client.eval(_APPEND, 2, key, key + ":seq", kind, payload)
        if kind in FINAL:
            client.pipeline().expire(key, TTL_S).expire(key + ":seq", TTL_S).execute()
        return int(seq)
    while True:  # the unique (job, seq) constraint settles two writers racing for a number
        seq = (JobEvent.objects.filter(job_id=job.pk).aggregate(n=Max("seq"))["n"] or 0) + 1
        try:
            with transaction.atomic():
                JobEvent.objects.create(job_id=job.pk, seq=seq, kind=kind, data=data or {})
            return seq
        except IntegrityError:
            continue


def reset(job: GenerationJob, *, client: redis.Redis | None = None) -> None:
    """A new attempt starts a new log (what a dead worker's attempt left is dropped)."""
    if settings.REDIS_URL:
        key = log_key(job.pk, job.created_at)
        (client or _sync_redis()).delete(key, key + ":seq")
    else:
        JobEvent.objects.filter(job_id=job.pk).delete()


class JobLog:
    """The worker's writer for one job: coalesced deltas, cancel requests, the final event.

    If Redis goes away mid-job the job goes on: what cannot be logged is skipped (a warning in
    the worker's log), the row still gets the text every second and the whole output at the end,
    and readers finish from the row."""

    def __init__(self, job: GenerationJob, flush_row):
        self.job = job
        self._logging = True
        self.text = ""
        self._pending = ""
        self._pending_since: float | None = None
        self._flush_row = flush_row
        self._last_row_flush = 0.0
        self._last_seen = 0  # the newest sequence number this writer has read or written
        self._redis = _sync_redis() if settings.REDIS_URL else None
        self._safely(reset, job, client=self._redis)

    def publish(self, delta: str) -> None:
        self.text += delta
        self._pending += delta
        if self._pending_since is None:
            self._pending_since = time.monotonic()
        self.tick()

    def tick(self) -> None:
        """Write what is pending once it is COALESCE_S old (the first text at once: time to the
        first token is what a reader feels most); keep the row's text fresh for readers of the
        row (history, a reload) about once a second."""
        now = time.monotonic()
        first = self._pending and len(self.text) == len(self._pending)
        if self._pending and (first or now - self._pending_since >= COALESCE_S):
            self._write_pending()
        if now - self._last_row_flush >= 1.0:
            self._flush_row(self.text)
            self._last_row_flush = now

    def cancel_requested(self) -> bool:
        """Whether a `cancel` event has been appended since this writer last looked."""
        return bool(self._safely(self._cancel_in_log))

    def _cancel_in_log(self) -> bool:
        if self._redis is not None:
            key = log_key(self.job.pk, self.job.created_at)
            entries = self._redis.xrange(key, min=f"(0-{self._last_seen}", max="+")
            kinds = [fields[b"kind"].decode() for _id, fields in entries]
            if entries:
                self._last_seen = int(entries[-1][0].decode().split("-")[1])
            return "cancel" in kinds
        events = list(JobEvent.objects.filter(job_id=self.job.pk, seq__gt=self._last_seen)
                      .values_list("seq", "kind"))
        if events:
            self._last_seen = events[-1][0]
        return any(kind == "cancel" for _seq, kind in events)

    def discard(self) -> None:
        """The job was handed back and will start afresh: forget this attempt."""
        self._safely(reset, self.job, client=self._redis)

    def close(self, kind: str) -> None:
        """Write what is pending, then the final event ("done" or "failed")."""
        if self._pending:
            self._write_pending()
        self._safely(append, self.job, kind, client=self._redis)

    def _write_pending(self) -> None:
        text, self._pending, self._pending_since = self._pending, "", None
        self._safely(append, self.job, "token", {"text": text}, client=self._redis)

    def _safely(self, call, *args, **kwargs):
        try:
            result = call(*args, **kwargs)
        except redis.RedisError as exc:
            if self._logging:
                log.warning("job %s: its event log is unavailable (%s); the row carries on", self.job.pk, exc)
                self._logging = False
            return None
        self._logging = True
        return result


async def read(job: GenerationJob, *, after: int = 0, is_finished) -> AsyncIterator[Event]:
    """The job's events after sequence number `after`, following the log until a final event.
    Ends without one if the job finished and its log is gone (expired, or never written)."""
    source = _read_redis if settings.REDIS_URL else _read_table
    async for event in source(job, after, is_finished):
        yield event


async def _read_redis(job: GenerationJob, after: int, is_finished) -> AsyncIterator[Event]:
    key = log_key(job.pk, job.created_at)
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    last = f"0-{after}"
    try:
        while True:
            entries = await client.xread({key: last}, block=1000, count=200)
            if not entries:
                # A second of silence from a finished job: its final event would have come (the
                # worker writes it right after the row), so the log ends here; the row has the rest.
                if await is_finished():
                    return
                continue
            for entry_id, fields in entries[0][1]:
                last = entry_id
                event = Event(int(entry_id.decode().split("-")[1]), fields[b"kind"].decode(),
                              json.loads(fields[b"data"]))
                yield event
                if event.kind in FINAL:
                    return
    finally:
        await client.aclose()


async def _read_table(job: GenerationJob, after: int, is_finished) -> AsyncIterator[Event]:
    delay = POLL_MIN_S
    while True:
        rows = [row async for row in JobEvent.objects.filter(job_id=job.pk, seq__gt=after).order_by("seq")
                .values_list("seq", "kind", "data")]
        for seq, kind, data in rows:
            after = seq
            yield Event(seq, kind, data)
            if kind in FINAL:
                return
        if not rows and await is_finished():
            # Finished, yet no final event: its log was never written (cancelled while queued,
            # retried out, failed by the reaper); one more look, then the row has the rest.
            if not await JobEvent.objects.filter(job_id=job.pk, seq__gt=after).aexists():
                return
            continue
        if rows:
            delay = POLL_MIN_S
        await asyncio.sleep(delay)
        if not rows:
            delay = min(delay * POLL_BACKOFF, POLL_MAX_S)
