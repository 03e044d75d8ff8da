"""Token streams: a Redis stream per job in server mode (with replay), the job row in embedded mode.

Writers (the worker) publish deltas; readers (the SSE view) replay from the start and follow.
"""
from __future__ import annotations

import time
from typing import AsyncIterator

import redis
import redis.asyncio as aioredis
from django.conf import settings

STREAM_TTL_S = 3600


def stream_key(job_id: int, created_at) -> str:
    """Unique per job even if ids restart (a restored or recreated database)."""
    return f"llmc:job:{job_id}:{int(created_at.timestamp() * 1_000_000)}:tokens"


def _redis():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)


class TokenPublisher:
    """Collects deltas for one job; pushes each to Redis, or flushes the row a few times a second."""

    def __init__(self, job, flush_row):
        self.key = stream_key(job.pk, job.created_at)
        self.text = ""
        self._flush_row = flush_row
        self._last_flush = 0.0
        self._redis = _redis() if settings.REDIS_URL else None
        if self._redis is not None:
            self._redis.delete(self.key)  # left by an attempt whose worker died

    def publish(self, delta: str) -> None:
        self.text += delta
        if self._redis is not None:
            self._redis.xadd(self.key, {"event": "token", "text": delta})
        now = time.monotonic()
        if now - self._last_flush >= (1.0 if self._redis is not None else 0.1):
            self._flush_row(self.text)
            self._last_flush = now

    def discard(self) -> None:
        """Forget this attempt's stream: the job was handed back and will start afresh."""
        if self._redis is not None:
            self._redis.delete(self.key)

    def close(self, event: str) -> None:
        """The final event ("done" or "error"); readers take the job itself from its row."""
        if self._redis is not None:
            self._redis.xadd(self.key, {"event": event})
            self._redis.expire(self.key, STREAM_TTL_S)


async def redis_events(key: str, *, is_finished) -> AsyncIterator[tuple[str, str]]:
    """(event, text) pairs from the job's Redis stream, from its first entry on; the final
    event ("done" or "error") comes with no text."""
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    last_id = "0"
    try:
        while True:
            entries = await client.xread({key: last_id}, block=1000, count=200)
            if not entries:
                if await is_finished():
                    return  # finished before we came and the stream expired: the row has all
                continue
            for entry_id, fields in entries[0][1]:
                last_id = entry_id
                event = fields[b"event"].decode()
                if event == "token":
                    yield "token", fields[b"text"].decode()
                else:
                    yield event, ""
                    return
    finally:
        await client.aclose()
