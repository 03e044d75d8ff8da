"""A job's events for streaming: ("token", text) deltas, then ("done" | "error", job JSON).

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
from .streams import redis_events, stream_key

POLL_S = 0.05


async def _payload(job_id: int) -> dict:
    return await sync_to_async(lambda: job_payload(GenerationJob.objects.select_related("resource").get(pk=job_id)))()


async def job_events(job_id: int) -> AsyncIterator[tuple[str, str | dict]]:
    if settings.REDIS_URL:
        events = _from_redis(job_id)
    else:
        events = _from_row(job_id)
    async for event in events:
        yield event


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
    while True:
        row = await GenerationJob.objects.filter(pk=job_id).values("status", "output").afirst()
        if row is None:
            return
        output = row["output"] or ""
        if len(output) > sent:
            yield "token", output[sent:]
            sent = len(output)
        if row["status"] in GenerationJob.FINISHED:
            payload = await _payload(job_id)
            if len(payload["output"]) > sent:
                yield "token", payload["output"][sent:]
            yield ("error" if payload["status"] == "failed" else "done"), payload
            return
        await asyncio.sleep(POLL_S)
