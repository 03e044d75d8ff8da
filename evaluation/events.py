"""A run's events as a reader sees them (its SSE stream): `progress` {done, total} as requests
finish, then one final `done` or `failed` carrying the run as the API shows it. A reader may
start after any sequence number it has seen (Last-Event-ID) and gets exactly the rest; a run
whose log is gone (expired, never written) is told from its row; after the stream's time limit,
`timeout` with the run."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

import redis

from core import eventlog
from core.db import released
from core.eventlog import Event
from playground.stream_slots import stream_max_s

from .models import EvaluationRun
from .serializers import RunSerializer


async def _payload(run_id: int) -> dict:
    return await released(lambda: RunSerializer(EvaluationRun.objects.with_names().get(pk=run_id)).data)


def _final_kind(payload: dict) -> str:
    return "failed" if payload["status"] == EvaluationRun.Status.FAILED else "done"


async def run_events(run: EvaluationRun, *, after: int = 0) -> AsyncIterator[Event]:
    """The run's events after sequence number `after`; after the stream limit
    (PLAYGROUND_STREAM_MAX_S), a final `timeout` event carrying the run."""
    async for event in eventlog.bounded(_events(run, after), max_s=stream_max_s(), payload=lambda: _payload(run.pk)):
        yield event


async def _events(run: EvaluationRun, after: int) -> AsyncIterator[Event]:
    is_finished = eventlog.finished_check(run, EvaluationRun.FINISHED)
    seen = after
    try:
        async for event in eventlog.read(eventlog.stream_name(run), after=after, is_finished=is_finished):
            seen = event.seq
            if event.kind == eventlog.CANCEL:
                continue
            if event.kind in eventlog.FINAL:
                yield Event(event.seq, event.kind, await _payload(run.pk))
                return
            yield event
    except redis.RedisError:
        pass  # the log is down: the row tells how the run ends
    while not await is_finished():
        await asyncio.sleep(1)
    payload = await _payload(run.pk)
    yield Event(seen + 1, _final_kind(payload), payload)

