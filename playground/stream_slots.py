"""How many event streams one client may hold open, and for how long any stream may last.

Each open stream holds one of a client's slots: a cache key taken with an atomic add and
deleted when the stream ends. A slot also expires on its own, so that a stream whose process
died, or whose client left before its body was read, cannot hold it for ever: SLOT_GRACE_S after
it is taken unless its stream starts, and that long after the longest a stream may last once it
has. If the cache is down the count is skipped (fail open): streams are capped in time anyway.

Settings (read with defaults): PLAYGROUND_MAX_STREAMS_PER_CLIENT (8) and PLAYGROUND_STREAM_MAX_S
(the job deadline PLAYGROUND_JOB_DEADLINE_S + 60 s).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any, AsyncIterator, Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse

from core import sse
from core.db import release_connection
from core.authentication import BadKey, request_user
from core.eventlog import Event

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
SLOT_GRACE_S = 60  # a slot outlives the longest stream by this much, then expires by itself


class TooManyStreams(Exception):
    retry_after = RETRY_AFTER_S


def max_streams() -> int:
    return settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT


def stream_max_s() -> float:
    """The longest any stream lasts: past the job deadline (plus a margin) it ends regardless,
    so a job that never starts does not hold a connection for ever."""
    return float(settings.PLAYGROUND_STREAM_MAX_S)


def client_id(request, user) -> str:
    """Signed-in callers count per account; anonymous share viewers per IPv4 address, or per IPv6
    /64: one subscriber usually holds a whole /64, so a new address from it must not mean new slots."""
    if user.is_authenticated:
        return f"user:{user.pk}"
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return "ip:unknown"
    if address.version == 6 and address.ipv4_mapped is None:
        return f"ip:{ipaddress.ip_network((address, 64), strict=False)}"
    return f"ip:{getattr(address, 'ipv4_mapped', None) or address}"


async def acquire(client: str) -> str | None:
    """Take a free slot: its key, or None when the cache cannot be reached (not counted).
    Raises TooManyStreams when all of the client's slots are taken. The slot lasts SLOT_GRACE_S
    until its stream starts (`hold`)."""
    try:
        return await sync_to_async(_take_slot)(client)  # one hop to a thread, however many are tried
    except TooManyStreams:
        raise
    except Exception:  # fail open: a cache outage must not take streaming down with it
        log.warning("stream slots: cache unavailable, not counting", exc_info=True)
        return None


def _take_slot(client: str) -> str | None:
    for slot in range(max_streams()):
        key = f"playground:sse:{client}:{slot}"
        if cache.add(key, 1, timeout=SLOT_GRACE_S):
            return key
        if not getattr(cache, "is_available", True):
            # The deployment's cache fails open (core.cache): with Redis down its add answers
            # False without raising, as for a slot that is taken.
            log.warning("stream slots: cache unavailable, not counting")
            return None
    raise TooManyStreams


async def hold(key: str | None) -> None:
    """The slot's stream has started: the slot lasts as long as a stream may. Until then it
    expires soon, because a client that leaves before the response's body is read (while its
    headers are on their way, or the view is still running) leaves a stream that never starts,
    and so never releases its slot."""
    if key is None:
        return
    try:
        await cache.atouch(key, int(stream_max_s()) + SLOT_GRACE_S)
    except Exception:
        log.warning("stream slots: could not extend %s (it expires sooner)", key, exc_info=True)


async def release(key: str | None) -> None:
    if key is None:
        return
    try:
        await cache.adelete(key)
    except Exception:
        log.warning("stream slots: could not release %s (it expires by itself)", key, exc_info=True)


_releasing: set[asyncio.Task] = set()  # releases that outlive their request's task (see below)


async def release_surely(key: str | None) -> None:
    """`release`, carried through even when the request's task is cancelled meanwhile. A client
    that closes the connection on the final event (EventSource, an SDK) makes Django cancel the
    request's task, often while the stream is still releasing its slot: without this, each such
    stream held its slot until it expired, and a few of them locked a member out of streams."""
    task = asyncio.ensure_future(release(key))
    _releasing.add(task)  # the loop keeps only a weak reference to a task
    task.add_done_callback(_releasing.discard)
    await asyncio.shield(task)


async def event_stream(request, user, events: Callable[[int], AsyncIterator[Event]]) -> HttpResponse:
    """The SSE response every job stream gives (generations, evaluations, training runs, arena
    sides): resume after Last-Event-ID (400 if malformed), hold one of the client's slots while
    it lasts (429 with Retry-After when none is free), one frame per event of `events(after)`."""
    after = sse.last_event_id(request)
    if after is None:
        return JsonResponse({"last_event_id": ["A whole number: the id of the last event received."]}, status=400)
    try:
        slot = await acquire(client_id(request, user))
    except TooManyStreams as exc:
        response = JsonResponse({"detail": "Too many open streams. Close one and try again."}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response

    async def frames():
        try:
            await release_connection()  # the stream may last minutes: it holds no database connection meanwhile
            await hold(slot)
            async for event in events(after):
                yield sse.frame(event)
        finally:
            await release_surely(slot)

    response = StreamingHttpResponse(frames(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


async def stream_of(request, *, visible: Callable[[Any], QuerySet],
                    events: Callable[[Any, int], AsyncIterator[Event]]) -> HttpResponse:
    """The event stream of the one object `visible(user)` yields for the caller: 401 for a bad
    key, 404 when the caller may not see it (the same rule as the object's API and pages, so a
    stream never shows what they hide), else `event_stream` of `events(obj, after)`."""
    try:
        user = await request_user(request)
    except BadKey:
        return JsonResponse({"detail": "Invalid or revoked token."}, status=401)
    obj = await visible(user).afirst()
    if obj is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    return await event_stream(request, user, lambda after: events(obj, after))
