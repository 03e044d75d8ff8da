"""How many event streams one client may hold open (core.slots), and for how long any stream may
last.

Settings (read with defaults): PLAYGROUND_MAX_STREAMS_PER_CLIENT (8) and PLAYGROUND_STREAM_MAX_S
(the job deadline PLAYGROUND_JOB_DEADLINE_S + 60 s).
"""
from __future__ import annotations

import weakref
from typing import Any, AsyncIterator, Callable, TypeVar

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse

from core import slots, sse
from core.authentication import BadKey, request_user
from core.db import release_connection
from core.eventlog import Event

T = TypeVar("T")


def max_streams() -> int:
    return settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT


def stream_max_s() -> float:
    """The longest any stream lasts: past the job deadline (plus a margin) it ends regardless,
    so a job that never starts does not hold a connection for ever."""
    return float(settings.PLAYGROUND_STREAM_MAX_S)


STREAMS = slots.Slots("playground:sse", limit=max_streams, lasts_s=stream_max_s)


async def event_stream(request, user, events: Callable[[int], AsyncIterator[Event]]) -> HttpResponse:
    """The SSE response every job stream gives (generations, evaluations, training runs, arena
    sides): resume after Last-Event-ID (400 if malformed), hold one of the client's slots while
    it lasts (429 with Retry-After when none is free), one frame per event of `events(after)`."""
    after = sse.last_event_id(request)
    if after is None:
        return JsonResponse({"last_event_id": ["A whole number: the id of the last event received."]}, status=400)
    try:
        slot = await STREAMS.acquire(slots.client_id(request, user))
    except slots.NoFreeSlot as exc:
        return too_many_streams(exc)
    return slot_stream(slot, lambda: events(after))


def submit_and_stream(request, *, submit: Callable[[], T], describe: Callable[[T], dict],
                      events: Callable[[T], AsyncIterator[Event]], location: Callable[[T], str]) -> HttpResponse:
    """A submit answered with its job's stream (`"stream": true`), from a synchronous view: one of
    the client's slots first (429, and nothing submitted, when none is free), then `submit()`, then
    the stream: a `job` event with `describe(job)` (what the submit answers without a stream), and
    the job's events from its first. The job's URL is in the Location header."""
    try:
        slot = STREAMS.take(slots.client_id(request, request.user))
    except slots.NoFreeSlot as exc:
        return too_many_streams(exc)
    try:
        job = submit()
        first, url = Event(0, "job", describe(job)), location(job)
    except BaseException:
        slots.release_now(slot)
        raise
    response = slot_stream(slot, lambda: events(job), first=first)
    response["Location"] = url
    return response


def too_many_streams(exc: slots.NoFreeSlot) -> HttpResponse:
    response = JsonResponse({"detail": "Too many open streams. Close one and try again."}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


class _Unstarted:
    """A taken slot whose response has not started. A client that leaves before the body is read
    leaves a response that is closed unread (it left while the headers went) or never even
    returned (it left while the view ran): either way the slot goes back at once, not when it
    lapses. Once the body starts, `Slots.held` gives it back; never twice, as the key may by then
    be another stream's."""

    def __init__(self, slot: str | None) -> None:
        self.slot, self.done = slot, slot is None

    def start(self) -> None:
        self.done = True

    def release(self, give_back: Callable[[str], None] = slots.release_now) -> None:
        """From the garbage collector, `give_back` is `slots.release_later` (a queue put only)."""
        if not self.done:
            self.done = True
            give_back(self.slot)


class SlotStreamingResponse(StreamingHttpResponse):
    def __init__(self, frames, *, unstarted: _Unstarted, **kwargs) -> None:
        super().__init__(frames, **kwargs)
        self.unstarted = unstarted
        slots.prepare_release_later()
        weakref.finalize(self, unstarted.release, slots.release_later).atexit = False

    def close(self) -> None:
        super().close()
        self.unstarted.release()


def slot_stream(slot: str | None, events: Callable[[], AsyncIterator[Event]], *,
                first: Event | None = None) -> StreamingHttpResponse:
    """The SSE response of a stream whose slot is taken: `first` (if any), then a frame per event
    of `events()`; the slot is held while it lasts, and its database connection given back."""
    unstarted = _Unstarted(slot)

    async def frames():
        unstarted.start()
        async with STREAMS.held(slot):
            await release_connection()  # the stream may last minutes: it holds no database connection meanwhile
            if first is not None:
                yield sse.frame(first)
            async for event in events():
                yield sse.frame(event)

    response = SlotStreamingResponse(frames(), unstarted=unstarted, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


# What a page embeds (<img src>, <audio>, a stylesheet) is never a reader of a stream: a post
# holding a few images pointed at streams would otherwise open them in every reader's browser,
# with their cookies, and take their stream slots for minutes.
EMBEDDED_DESTINATIONS = {"image", "audio", "video", "track", "script", "style", "font", "object", "embed",
                         "frame", "iframe"}


def embedded_request(request) -> bool:
    """A browser's subresource load (Sec-Fetch-Dest; an image Accept for browsers without it)."""
    if request.headers.get("Sec-Fetch-Dest", "") in EMBEDDED_DESTINATIONS:
        return True
    accept = request.headers.get("Accept", "")
    return accept.startswith(("image/", "audio/", "video/", "text/css")) and "text/event-stream" not in accept


async def stream_of(request, *, visible: Callable[[Any], QuerySet],
                    events: Callable[[Any, int], AsyncIterator[Event]]) -> HttpResponse:
    """The event stream of the one object `visible(user)` yields for the caller: 406 for a
    page's embedded load, 401 for a bad key, 404 when the caller may not see it (the same rule
    as the object's API and pages, so a stream never shows what they hide), else `event_stream`
    of `events(obj, after)`."""
    if embedded_request(request):
        return JsonResponse({"detail": "An event stream is read with EventSource or fetch."}, status=406)
    try:
        user = await request_user(request)
    except BadKey:
        return JsonResponse({"detail": "Invalid or revoked token."}, status=401)
    obj = await visible(user).afirst()
    if obj is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    return await event_stream(request, user, lambda after: events(obj, after))
