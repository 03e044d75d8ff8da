"""A job's events for streaming: ("token", text) deltas, then ("done" | "error", job JSON), or
("timeout", job JSON) when the job has not finished within the longest a stream may last.

Connecting late replays everything from the start, in both modes.
"""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings

from .models import GenerationJob
from .serializers import job_payload
from .stream_slots import stream_max_s
from .streams import redis_events, stream_key

# Embedded mode polls the row: quickly while text arrives, backing off to POLL_MAX_S while
# nothing changes (a queued job polled 20 times a second per viewer adds up).
POLL_MIN_S = 0.05
POLL_MAX_S = 0.5
POLL_BACKOFF = 1.5


async def _payload(job_id: int) -> dict:
    return await sync_to_async(lambda: job_payload(GenerationJob.objects.select_related("resource").get(pk=job_id)))()


async def job_events(job_id: int, *, max_s: float | None = None) -> AsyncIterator[tuple[str, str | dict]]:
    """The job's events; after `max_s` (by default the stream limit) a final ("timeout", job)."""
    source = _from_redis(job_id) if settings.REDIS_URL else _from_row(job_id)
    deadline = asyncio.get_running_loop().time() + (stream_max_s() if max_s is None else max_s)
    try:
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    event = await anext(source)
            except StopAsyncIteration:
                return
            except TimeoutError:
                break
            yield event
    finally:
        await source.aclose()
    try:
        payload = await _payload(job_id)
    except GenerationJob.DoesNotExist:
        return
    yield "timeout", payload


async def _is_finished(job_id: int) -> bool:
    status = await GenerationJob.objects.filter(pk=job_id).values_list("status", flat=True).afirst()
    return status in GenerationJob.FINISHED


async def _from_redis(job_id: int):
    sent = ""
    created_at = await GenerationJob.objects.filter(pk=job_id).values_list("created_at", flat=True).afirst()
    key = stream_key(job_id, created_at)
    if await _is_finished(job_id) and not await _stream_exists(key):
        async for event in _from_row(job_id):
            yield event
        return
    async for event, data in redis_events(key, is_finished=lambda: _is_finished(job_id)):
        if event == "token":
            sent += data
            yield "token", data
        else:
            yield event, await _payload(job_id)
            return
    # The stream expired (or never existed, e.g. cancelled while queued): the row has the rest.
    payload = await _payload(job_id)
    rest = payload["output"][len(sent):]
    if rest:
        yield "token", rest
    yield ("error" if payload["status"] == "failed" else "done"), payload


async def _stream_exists(key: str) -> bool:
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        return bool(await client.exists(key))
    finally:
        await client.aclose()


async def _from_row(job_id: int):
    sent = 0
    delay = POLL_MIN_S
    last_status = None
    while True:
        row = await GenerationJob.objects.filter(pk=job_id).values("status", "output").afirst()
        if row is None:
            return
        output = row["output"] or ""
        changed = len(output) > sent or row["status"] != last_status
        last_status = row["status"]
        if len(output) > sent:
            yield "token", output[sent:]
            sent = len(output)
        if row["status"] in GenerationJob.FINISHED:
            payload = await _payload(job_id)
            if len(payload["output"]) > sent:
                yield "token", payload["output"][sent:]
            yield ("error" if payload["status"] == "failed" else "done"), payload
            return
        delay = POLL_MIN_S if changed else min(delay * POLL_BACKOFF, POLL_MAX_S)
        await asyncio.sleep(delay)
