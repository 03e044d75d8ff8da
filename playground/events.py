"""A job's events as a reader sees them (the SSE stream, /v1/): the log's `token` events, then
one final `done` or `failed` carrying the job as the API shows it; or `timeout`, with the job,
when it has not finished within the longest a stream may last.

A reader may start after any sequence number it has seen (Last-Event-ID) and gets exactly the
rest. A finished job whose log is gone (expired, or never written) is told from its row.
"""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

import redis
from core.db import released
from core.eventlog import FINAL, POLL_BACKOFF, POLL_MAX_S, POLL_MIN_S, Event, bounded, finished_check

from . import eventlog
from .models import GenerationJob
from .serializers import job_payload
from .stream_slots import stream_max_s

CONTROL = ("cancel",)  # in the log for the worker, not for readers


async def _payload(job: GenerationJob) -> dict:
    """The job as the API shows it now (its changing columns read again: a stream's final event
    used to read its whole row, with its resource, for each reader)."""
    def now() -> dict:
        job.refresh_changing()
        return job_payload(job)

    return await released(now)


def final_kind(payload: dict) -> str:
    return "failed" if payload["status"] == GenerationJob.Status.FAILED else "done"


async def job_events(job: GenerationJob, *, after: int = 0, max_s: float | None = None) -> AsyncIterator[Event]:
    """The job's events after sequence number `after`; after `max_s` (by default the stream
    limit) a final `timeout` event (without a number: a reconnect resumes before it). `job` comes
    with its resource loaded: the final event's payload names the model."""
    try:
        async for event in bounded(_events(job, after), max_s=stream_max_s() if max_s is None else max_s,
                                   payload=lambda: _payload(job)):
            yield event
    except GenerationJob.DoesNotExist:
        return  # its owner deleted it meanwhile (from another tab): there is nothing more to tell


async def _events(job: GenerationJob, after: int) -> AsyncIterator[Event]:
    is_finished = finished_check(job, GenerationJob.FINISHED)
    seen, sent = after, ""
    try:
        async for event in eventlog.read(job, after=after, is_finished=is_finished):
            seen = event.seq
            if event.kind in CONTROL:
                continue
            if event.kind in FINAL:
                yield Event(event.seq, event.kind, await _payload(job))
                return
            sent += event.data.get("text", "")
            yield event
    except redis.RedisError:  # the log is down: follow the row, which the worker keeps writing
        async for event in _follow_row(job, sent if after == 0 else None, is_finished):
            yield event
        return
    # The log ended without a final event: the row has the rest (only for a reader that
    # started from the beginning can the row's text be split exactly).
    try:
        payload = await _payload(job)
    except GenerationJob.DoesNotExist:
        return
    if after == 0 and len(payload["output"]) > len(sent):
        seen += 1
        yield Event(seen, "token", {"text": payload["output"][len(sent):]})
    yield Event(seen + 1, final_kind(payload), payload)


async def _follow_row(job: GenerationJob, sent: str | None, is_finished) -> AsyncIterator[Event]:
    """Text from the row as it grows (unnumbered: these events cannot be resumed), then the
    final event. `sent` is what the reader already has, or None when it cannot be told."""
    delay = POLL_MIN_S
    while not await is_finished():
        output = await released(GenerationJob.objects.filter(pk=job.pk).values_list("output", flat=True).first) or ""
        if sent is not None and len(output) > len(sent):
            yield Event(0, "token", {"text": output[len(sent):]})
            sent, delay = output, POLL_MIN_S
        await asyncio.sleep(delay)
        delay = min(delay * POLL_BACKOFF, POLL_MAX_S)
    payload = await _payload(job)
    if sent is not None and len(payload["output"]) > len(sent):
        yield Event(0, "token", {"text": payload["output"][len(sent):]})
    yield Event(0, final_kind(payload), payload)
