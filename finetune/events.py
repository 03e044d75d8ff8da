"""A fine-tuning job's events as a reader sees them: the log's events but `cancel` (meant for
the worker), ending with `done` or `failed` carrying the job as the API shows it; if the log
is gone (expired, never written), the row tells how the job ended; after the stream's time
limit, `timeout` with the job."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

import redis

from core import eventlog
from core.db import released
from core.eventlog import Event
from playground.stream_slots import stream_max_s

from .models import FINISHED, FineTuneJob, Status
from .serializers import job_payload

POLL_S = 2.0  # following the row when the log is down


async def _payload(job_id: int) -> dict:
    return await released(lambda: job_payload(FineTuneJob.objects.for_list().get(pk=job_id)))


def _final(payload: dict) -> str:
    return "failed" if payload["status"] == Status.FAILED else "done"


async def job_events(job: FineTuneJob, *, after: int = 0) -> AsyncIterator[Event]:
    async for event in eventlog.bounded(_events(job, after), max_s=stream_max_s(), payload=lambda: _payload(job.pk)):
        yield event


async def _events(job: FineTuneJob, after: int) -> AsyncIterator[Event]:
    is_finished = eventlog.finished_check(job, FINISHED)
    seen = after
    try:
        async for event in eventlog.read(eventlog.stream_name(job), after=after, is_finished=is_finished):
            seen = event.seq
            if event.kind == eventlog.CANCEL:
                continue
            if event.kind in eventlog.FINAL:
                yield Event(event.seq, event.kind, await _payload(job.pk))
                return
            yield event
    except redis.RedisError:  # the log is down: wait for the row to finish
        while not await is_finished():
            await asyncio.sleep(POLL_S)
    payload = await _payload(job.pk)
    yield Event(seen + 1 if seen else 0, _final(payload), payload)
